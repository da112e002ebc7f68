import { describe, expect, it } from "vitest";
import { TrustDomainError } from "../../../../realm-config/model/errors.ts";
import { parseTrustDomain } from "../../../../realm-config/model/load.ts";
import { BASE, edit } from "../../../support/fixtures/trust-domain-yaml.ts";

const TEXT = edit(
  edit(BASE, "adminUrl: https://kc-eu.example.com", "adminUrl: ${KCB_EU_ADMIN_URL}/"),
  "issuer: https://id.example.com/realms/t",
  "issuer: https://${KCB_HOST}/realms/t",
);

describe("${VAR} interpolation (issuer and adminUrl only)", () => {
  it("substitutes set variables", () => {
    const { config, warnings } = parseTrustDomain(TEXT, "t.yaml", {
      env: { KCB_EU_ADMIN_URL: "https://127.0.0.1:9443", KCB_HOST: "id.example.com" },
    });
    expect(config.clusters[0]?.adminUrl).toBe("https://127.0.0.1:9443/");
    expect(config.issuer).toBe("https://id.example.com/realms/t");
    expect(warnings).toEqual([]);
  });

  it("makes an unset adminUrl variable an error for commands that talk to clusters", () => {
    try {
      parseTrustDomain(TEXT, "t.yaml", { env: { KCB_HOST: "id.example.com" } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TrustDomainError);
      const issues = (err as TrustDomainError).issues;
      expect(issues).toEqual([
        expect.objectContaining({
          path: "clusters[0].adminUrl",
          line: 6,
          severity: "error",
          message: expect.stringContaining("KCB_EU_ADMIN_URL is not set") as unknown,
        }),
      ]);
    }
  });

  it("makes it only a warning offline", () => {
    const { config, warnings } = parseTrustDomain(TEXT, "t.yaml", { env: { KCB_HOST: "id.example.com" }, requireAdminUrls: false });
    expect(config.clusters[0]?.adminUrl).toBe("${KCB_EU_ADMIN_URL}/");
    expect(warnings.map((w) => [w.path, w.severity])).toEqual([["clusters[0].adminUrl", "warning"]]);
  });

  it("leaves ${…} elsewhere as literal text", () => {
    const text = edit(BASE, "subject: workload:app-c", "subject: workload:${NOT_INTERPOLATED}");
    const { config } = parseTrustDomain(text, "t.yaml", { env: { NOT_INTERPOLATED: "x" } });
    expect(config.workloads[2]?.subject).toBe("workload:${NOT_INTERPOLATED}");
  });

  it("warns, without failing, when the issuer has a port", () => {
    const text = edit(BASE, "issuer: https://id.example.com/realms/t", "issuer: https://localhost:8443/realms/t");
    const { warnings } = parseTrustDomain(text, "t.yaml", { env: {} });
    expect(warnings).toEqual([
      expect.objectContaining({
        path: "issuer",
        line: 3,
        severity: "warning",
        message: expect.stringContaining("AWS IAM rejects OIDC provider URLs with a port") as unknown,
      }),
    ]);
  });
});
