/**
 * `realm-config/trust-domain.schema.json`, generated from the zod schema (the single source), for
 * editors: `# yaml-language-server: $schema=…` at the top of a trust-domain file gives completion
 * and inline errors. A unit test fails when the committed file differs from this output.
 */
import { z } from "zod";
import { TrustDomain } from "./schema.ts";

export const JSON_SCHEMA_ID = "https://github.com/keycloak-cloud-broker/keycloak-cloud-broker/realm-config/trust-domain.schema.json";

/** The JSON Schema text (2-space indent, trailing newline), as the file is committed. */
export function trustDomainJsonSchema(): string {
  const schema = z.toJSONSchema(TrustDomain, { io: "input", target: "draft-2020-12" });
  const doc = {
    $schema: schema.$schema,
    $id: JSON_SCHEMA_ID,
    title: "keycloak-cloud-broker trust domain",
    description:
      "One Keycloak trust domain: realm, issuer, clusters, signing keys, workloads and agents. Generated from realm-config/model/schema.ts; do not edit.",
    ...schema,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
