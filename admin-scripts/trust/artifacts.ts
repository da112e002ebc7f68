/**
 * The cloud side of the trust, as `realm-sync export-trust --out <dir>` writes it. The STS and
 * Entra emulators load exactly these files, so every integration test also proves that the
 * generated trust accepts real Keycloak tokens and nothing else.
 *
 * Layout of `<dir>` (all JSON, keys and arrays stably ordered, two-space indent, trailing newline):
 *   aws/oidc-providers.json          AwsOidcProvider[]   (one per AWS account that has roles)
 *   aws/roles/<account>/<name>.json  AwsRole             (one per role)
 *   azure/federated-credentials.json AzureFederatedCredential[]
 *   terraform/aws.tf.json            Terraform JSON: aws_iam_openid_connect_provider, aws_iam_role
 *   terraform/azure.tf.json          Terraform JSON: azuread_application_federated_identity_credential
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** As IAM CreateOpenIDConnectProvider takes it. `Url` is the issuer (`https://`, no port in real AWS). */
export interface AwsOidcProvider {
  Arn: string;
  Url: string;
  ClientIDList: string[];
  ThumbprintList: string[];
}

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: { Federated: string };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** As IAM CreateRole takes it. */
export interface AwsRole {
  Arn: string;
  RoleName: string;
  Path: string;
  MaxSessionDuration: number;
  AssumeRolePolicyDocument: PolicyDocument;
}

/** As Microsoft Graph `federatedIdentityCredential` (plus the tenant and application it belongs to). */
export interface AzureFederatedCredential {
  tenantId: string;
  /** Application (client) id of the app registration or user-assigned identity. */
  clientId: string;
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  description: string;
}

export interface TrustExport {
  aws: { oidcProviders: AwsOidcProvider[]; roles: AwsRole[] };
  azure: { federatedCredentials: AzureFederatedCredential[] };
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

/** Reads a directory written by `realm-sync export-trust`. */
export function loadTrustExport(dir: string): TrustExport {
  const rolesDir = join(dir, "aws", "roles");
  const roles: AwsRole[] = [];
  for (const account of readdirSync(rolesDir).sort()) {
    for (const file of readdirSync(join(rolesDir, account)).sort()) {
      if (file.endsWith(".json")) roles.push(readJson<AwsRole>(join(rolesDir, account, file)));
    }
  }
  return {
    aws: { oidcProviders: readJson<AwsOidcProvider[]>(join(dir, "aws", "oidc-providers.json")), roles },
    azure: { federatedCredentials: readJson<AzureFederatedCredential[]>(join(dir, "azure", "federated-credentials.json")) },
  };
}
