/**
 * The same trust as Terraform JSON (`*.tf.json`), built from the plain documents so the two can
 * never disagree.
 *
 * AWS (hashicorp/aws): `aws_iam_openid_connect_provider` (url, client_id_list, thumbprint_list) and
 * `aws_iam_role` (name, path, max_session_duration, assume_role_policy as a JSON string); each
 * role depends on its account's provider, because IAM refuses a trust policy whose federated
 * principal does not exist yet.
 * https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_openid_connect_provider
 *
 * Azure (hashicorp/azuread ≥ 3): `azuread_application_federated_identity_credential` (application_id,
 * display_name, description, audiences, issuer, subject), the application looked up by client id
 * with the `azuread_application` data source.
 * https://registry.terraform.io/providers/hashicorp/azuread/latest/docs/resources/application_federated_identity_credential
 *
 * When the trust spans several AWS accounts (or Entra tenants), each resource names a provider
 * alias `aws.account_<id>` (`azuread.tenant_<id>`) that the including configuration declares.
 */
import { createHash } from "node:crypto";
import type { AwsOidcProvider, AwsRole, AzureFederatedCredential } from "./artifacts.ts";
import { canonicalJson, compactCanonicalJson } from "./canonical-json.ts";
import { parseRoleArn } from "./aws.ts";

type Block = Record<string, unknown>;

/** A Terraform identifier: letters, digits, `_` and `-`, starting with a letter; unique within its type. */
function labeler(): (wanted: string, seed: string) => string {
  const used = new Set<string>();
  return (wanted, seed) => {
    let label = wanted.replace(/[^A-Za-z0-9_-]/g, "_");
    if (used.has(label)) label = `${label}_${createHash("sha256").update(seed).digest("hex").slice(0, 8)}`;
    used.add(label);
    return label;
  };
}

function accountOf(arn: string): string {
  return /^arn:[^:]+:iam::(\d{12}):/.exec(arn)?.[1] ?? "";
}

export function awsTerraform(providers: AwsOidcProvider[], roles: AwsRole[]): string {
  const multiAccount = new Set(providers.map((p) => accountOf(p.Arn))).size > 1;
  const alias = (account: string): Block => (multiAccount ? { provider: `aws.account_${account}` } : {});
  const providerLabel = labeler();
  const roleLabel = labeler();

  const providerBlocks: Record<string, Block> = {};
  const providerByAccount = new Map<string, string>();
  for (const p of providers) {
    const account = accountOf(p.Arn);
    const label = providerLabel(`keycloak_${account}`, p.Arn);
    providerByAccount.set(account, label);
    providerBlocks[label] = { url: p.Url, client_id_list: p.ClientIDList, thumbprint_list: p.ThumbprintList, ...alias(account) };
  }
  const roleBlocks: Record<string, Block> = {};
  for (const r of roles) {
    const { account } = parseRoleArn(r.Arn);
    roleBlocks[roleLabel(`role_${account}_${r.RoleName}`, r.Arn)] = {
      name: r.RoleName,
      path: r.Path,
      max_session_duration: r.MaxSessionDuration,
      assume_role_policy: compactCanonicalJson(r.AssumeRolePolicyDocument),
      depends_on: [`aws_iam_openid_connect_provider.${providerByAccount.get(account) ?? ""}`],
      ...alias(account),
    };
  }
  return canonicalJson({ resource: { aws_iam_openid_connect_provider: providerBlocks, aws_iam_role: roleBlocks } });
}

export function azureTerraform(credentials: AzureFederatedCredential[]): string {
  const multiTenant = new Set(credentials.map((c) => c.tenantId)).size > 1;
  const alias = (tenant: string): Block => (multiTenant ? { provider: `azuread.tenant_${tenant.replace(/-/g, "_")}` } : {});
  const appLabel = labeler();
  const ficLabel = labeler();

  const apps: Record<string, Block> = {};
  const appByKey = new Map<string, string>();
  for (const c of credentials) {
    const key = `${c.tenantId}/${c.clientId}`;
    if (appByKey.has(key)) continue;
    const label = appLabel(`app_${c.clientId}`, key);
    appByKey.set(key, label);
    apps[label] = { client_id: c.clientId, ...alias(c.tenantId) };
  }
  const fics: Record<string, Block> = {};
  for (const c of credentials) {
    const app = appByKey.get(`${c.tenantId}/${c.clientId}`) ?? "";
    fics[ficLabel(`${c.name}_${c.clientId}`, `${c.tenantId}/${c.clientId}/${c.name}`)] = {
      application_id: `\${data.azuread_application.${app}.id}`,
      display_name: c.name,
      description: c.description,
      audiences: c.audiences,
      issuer: c.issuer,
      subject: c.subject,
      ...alias(c.tenantId),
    };
  }
  return canonicalJson({
    ...(Object.keys(apps).length ? { data: { azuread_application: apps } } : {}),
    resource: { azuread_application_federated_identity_credential: fics },
  });
}
