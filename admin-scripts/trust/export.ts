/**
 * `export-trust` as a pure function: the trust domain in, the files of the layout described in
 * `artifacts.ts` out (relative path → exact bytes), sorted by path. Same config, same bytes.
 */
import type { TrustDomain } from "../../realm-config/model/schema.ts";
import type { TrustExport } from "./artifacts.ts";
import { awsTrust, parseRoleArn } from "./aws.ts";
import { azureTrust } from "./azure.ts";
import { byString, canonicalJson } from "./canonical-json.ts";
import { awsTerraform, azureTerraform } from "./terraform.ts";

export interface TrustFile {
  /** Relative, `/`-separated. */
  path: string;
  text: string;
}

export function buildTrustExport(config: TrustDomain): TrustExport {
  return { aws: awsTrust(config), azure: { federatedCredentials: azureTrust(config) } };
}

/** The directories `export-trust` owns: files there that are not in the export are stale. */
export const OWNED_DIRS = ["aws", "azure", "terraform"] as const;

export function renderTrustFiles(config: TrustDomain): TrustFile[] {
  const trust = buildTrustExport(config);
  const files: TrustFile[] = [
    { path: "aws/oidc-providers.json", text: canonicalJson(trust.aws.oidcProviders) },
    { path: "azure/federated-credentials.json", text: canonicalJson(trust.azure.federatedCredentials) },
    { path: "terraform/aws.tf.json", text: awsTerraform(trust.aws.oidcProviders, trust.aws.roles) },
    { path: "terraform/azure.tf.json", text: azureTerraform(trust.azure.federatedCredentials) },
  ];
  for (const role of trust.aws.roles) {
    const { account, name } = parseRoleArn(role.Arn);
    files.push({ path: `aws/roles/${account}/${name}.json`, text: canonicalJson(role) });
  }
  return files.sort((a, b) => byString(a.path, b.path));
}
