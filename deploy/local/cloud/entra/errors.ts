/**
 * Every error the Entra emulator returns: AADSTS code → OAuth `error`, HTTP status and description,
 * in one table. Codes and wording follow what Entra ID sends (observed in public reports of real
 * responses, e.g. Azure/azure-workload-identity#340 and #616 for 70021 `invalid_request`,
 * #1200 for 700211/700213 `invalid_client`, #1232 for 7000272, keycloak/keycloak#19425 for 700027,
 * AzureAD MSAL issues for 700024; Microsoft Entra "authentication and authorization error codes").
 * `invalid_client` is sent with 401, the others with 400 (RFC 6749 §5.2); throttling 429, outages 5xx.
 *
 * Body, as Entra's token endpoint sends it:
 * `{"error","error_description":"AADSTS<code>: <text> Trace ID: … Correlation ID: … Timestamp: …",
 *   "error_codes":[<code>],"timestamp":"YYYY-MM-DD hh:mm:ssZ","trace_id","correlation_id","error_uri"}`
 */
export type AadstsCode =
  | 70021 // no FIC matches issuer, subject and audience together
  | 700211 // no FIC with this issuer
  | 700212 // no FIC with this audience
  | 700213 // no FIC with this subject
  | 700024 // assertion outside its valid time range
  | 7000272 // signing key (kid) not in the issuer's JWKS
  | 700027 // signature invalid
  | 700016 // application not found in the directory
  | 90002 // tenant not found
  | 900144 // required parameter missing
  | 7000218 // neither client_assertion nor client_secret
  | 70003 // unsupported grant type
  | 1002012 // client-credentials scope without /.default
  | 70011 // scope invalid
  | 50027 // JWT malformed
  | 50166 // issuer metadata / JWKS unreachable
  | 90055 // throttled (fault)
  | 50000 // server error (fault)
  | 90033; // transient (fault)

export type OAuthError =
  | "invalid_request"
  | "invalid_client"
  | "unauthorized_client"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "temporarily_unavailable"
  | "server_error";

export const AADSTS: Record<AadstsCode, { error: OAuthError; status: 400 | 401 | 429 | 500 | 503 }> = {
  70021: { error: "invalid_request", status: 400 },
  700211: { error: "invalid_client", status: 401 },
  700212: { error: "invalid_client", status: 401 },
  700213: { error: "invalid_client", status: 401 },
  700024: { error: "invalid_client", status: 401 },
  7000272: { error: "invalid_client", status: 401 },
  700027: { error: "invalid_client", status: 401 },
  700016: { error: "unauthorized_client", status: 400 },
  90002: { error: "invalid_request", status: 400 },
  900144: { error: "invalid_request", status: 400 },
  7000218: { error: "invalid_client", status: 401 },
  70003: { error: "unsupported_grant_type", status: 400 },
  1002012: { error: "invalid_scope", status: 400 },
  70011: { error: "invalid_scope", status: 400 },
  50027: { error: "invalid_request", status: 400 },
  50166: { error: "invalid_request", status: 400 },
  90055: { error: "temporarily_unavailable", status: 429 },
  50000: { error: "server_error", status: 500 },
  90033: { error: "temporarily_unavailable", status: 503 },
};

/** A rejection with the AADSTS code and description Entra would send. Descriptions never contain the assertion. */
export class EntraError extends Error {
  override readonly name = "EntraError";
  constructor(
    readonly code: AadstsCode,
    message: string,
  ) {
    super(message);
  }
}

const WIF_DOC = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

/** The descriptions, worded as Entra words them. */
export const entraErrors = {
  noMatch: (iss: string, sub: string, aud: string) =>
    new EntraError(
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${aud}'. ${WIF_DOC}`,
    ),
  issuer: (iss: string) =>
    new EntraError(
      700211,
      `No matching federated identity record found for presented assertion issuer '${iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
    ),
  audience: (aud: string) =>
    new EntraError(
      700212,
      `No matching federated identity record found for presented assertion audience '${aud}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
    ),
  subject: (sub: string) =>
    new EntraError(
      700213,
      `No matching federated identity record found for presented assertion subject '${sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOC}`,
    ),
  timeRange: (now: Date, nbf: Date, exp: Date) =>
    new EntraError(
      700024,
      `Client assertion is not within its valid time range. Current time: ${now.toISOString()}, assertion valid from ${nbf.toISOString()}, expiry time of assertion ${exp.toISOString()}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
    ),
  keyNotFound: (kid: string | undefined, iss: string) =>
    new EntraError(
      7000272,
      `The certificate with identifier ${kid ?? "(none)"} used to sign the federated credential could not be found in the metadata of identity provider ${iss}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token.`,
    ),
  signature: () => new EntraError(700027, "Client assertion failed signature validation."),
  appNotFound: (clientId: string, tenant: string) =>
    new EntraError(
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  tenantNotFound: (tenant: string) =>
    new EntraError(
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    ),
  missing: (param: string) => new EntraError(900144, `The request body must contain the following parameter: '${param}'.`),
  noCredential: () =>
    new EntraError(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."),
  grantType: (grant: string) => new EntraError(70003, `The app requested an unsupported grant type '${grant}'.`),
  scopeDefault: (scope: string) =>
    new EntraError(
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  scopeInvalid: (scope: string) =>
    new EntraError(
      70011,
      `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
    ),
  malformed: () => new EntraError(50027, "JWT token is invalid or malformed."),
  issuerUnreachable: (iss: string) => new EntraError(50166, `Request to External OIDC endpoint failed. Issuer: '${iss}'.`),
};

export interface AadstsBody {
  error: OAuthError;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** `2024-03-01 07:41:07Z`, the timestamp format of Entra error bodies. */
export function aadTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "Z");
}

export function errorBody(e: EntraError, ids: { traceId: string; correlationId: string; now: Date; baseUrl: string }): AadstsBody {
  const ts = aadTimestamp(ids.now);
  return {
    error: AADSTS[e.code].error,
    error_description: `AADSTS${e.code}: ${e.message} Trace ID: ${ids.traceId} Correlation ID: ${ids.correlationId} Timestamp: ${ts}`,
    error_codes: [e.code],
    timestamp: ts,
    trace_id: ids.traceId,
    correlation_id: ids.correlationId,
    error_uri: `${ids.baseUrl}/error?code=${e.code}`,
  };
}
