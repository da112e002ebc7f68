import { describe, expect, it } from "vitest";
import { entraAnswerError, isRetryableEntraError, toBrokerError } from "../../../../broker/exchange/azure-entra.ts";

const answer = (status: number, error: string, aadsts: number) =>
  entraAnswerError(
    status,
    JSON.stringify({ error, error_description: `AADSTS${aadsts}: text.\r\nTrace ID: t\r\nCorrelation ID: c`, error_codes: [aadsts] }),
  );
const request = { tenantId: "tenant", clientId: "client", scope: "api://x/.default" };

describe("which Entra answers a refresh may retry", () => {
  it.each([
    [400, "temporarily_unavailable", 90033],
    // "Request to External OIDC endpoint failed": Entra could not fetch Keycloak's discovery document or JWKS.
    [400, "invalid_request", 50166],
    [400, "invalid_request", 90061],
    [400, "invalid_request", 501661],
  ])("HTTP %i %s AADSTS%i is retryable (AZURE_RETRYABLE: the held token keeps being served)", (status, error, aadsts) => {
    expect(isRetryableEntraError(answer(status, error, aadsts))).toBe(true);
    expect(toBrokerError(answer(status, error, aadsts), request).code).toBe("AZURE_RETRYABLE");
  });

  it.each([
    [400, "invalid_client", 70021],
    [400, "invalid_client", 700213],
    [401, "invalid_client", 7000272],
    [400, "invalid_scope", 500011],
    [400, "invalid_request", 5016],
  ])("HTTP %i %s AADSTS%i is a decision (AZURE_REJECTED)", (status, error, aadsts) => {
    expect(isRetryableEntraError(answer(status, error, aadsts))).toBe(false);
    expect(toBrokerError(answer(status, error, aadsts), request).code).toBe("AZURE_REJECTED");
  });
});
