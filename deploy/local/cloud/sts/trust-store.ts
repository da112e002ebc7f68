/**
 * The IAM side of the emulator: OIDC providers and roles, loaded from the artifacts `realm-sync
 * export-trust` writes (`TrustExport.aws`) and checked once, as IAM's CreateOpenIDConnectProvider and
 * CreateRole would check them. A configuration IAM would refuse is a `TypeError` at start-up.
 */
import type { AwsOidcProvider, AwsRole, TrustExport } from "../../../../admin-scripts/trust/artifacts.ts";
import { compileTrustPolicy, type CompiledTrustPolicy } from "./trust-policy.ts";

export interface Provider {
  arn: string;
  account: string;
  /** The issuer, `https://host[:port]/path`, compared exactly with `iss`. */
  url: string;
  /** The URL without `https://`: the prefix of the condition keys `<prefix>:aud` and `<prefix>:sub`. */
  conditionPrefix: string;
  clientIds: string[];
}

export interface Role {
  arn: string;
  account: string;
  name: string;
  path: string;
  maxSessionDuration: number;
  trust: CompiledTrustPolicy;
}

export interface TrustStore {
  /** The provider of `account` whose URL equals `issuer`. */
  provider(account: string, issuer: string): Provider | undefined;
  role(arn: string): Role | undefined;
  readonly providers: readonly Provider[];
  readonly roles: readonly Role[];
}

const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/;
const PROVIDER_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):oidc-provider\/(.+)$/;

export function parseRoleArn(arn: string): { account: string; path: string; name: string } | undefined {
  const m = ROLE_ARN.exec(arn);
  return m ? { account: m[1]!, path: m[2]!, name: m[3]! } : undefined;
}

function loadProvider(p: AwsOidcProvider, allowIssuerPort: boolean): Provider {
  const m = PROVIDER_ARN.exec(p.Arn);
  if (!m) throw new TypeError(`not an IAM OIDC provider ARN: ${p.Arn}`);
  let url: URL;
  try {
    url = new URL(p.Url);
  } catch {
    throw new TypeError(`provider ${p.Arn}: Url is not a URL`);
  }
  if (url.protocol !== "https:") throw new TypeError(`provider ${p.Arn}: Url must be https`);
  if (url.search || url.hash || url.username || url.password)
    throw new TypeError(`provider ${p.Arn}: Url must not carry query, fragment or credentials`);
  // Real IAM refuses a provider URL with a port (CreateOpenIDConnectProvider: "the URL … cannot contain
  // a port"), so production issuers never have one. The local Keycloak issuer does, hence this explicit,
  // local-only switch; without it the emulator refuses the configuration exactly as IAM would.
  if (url.port !== "" && !allowIssuerPort)
    throw new TypeError(
      `provider ${p.Arn}: IAM does not accept a port in the provider URL (${p.Url}); start the emulator with allowIssuerPort for a local issuer`,
    );
  const prefix = p.Url.slice("https://".length);
  if (m[2] !== prefix) throw new TypeError(`provider ${p.Arn}: ARN does not name the provider URL ${p.Url}`);
  if (p.ClientIDList.length === 0 || p.ClientIDList.length > 100 || p.ClientIDList.some((c) => c.length < 1 || c.length > 255)) {
    throw new TypeError(`provider ${p.Arn}: ClientIDList needs 1-100 client ids of 1-255 characters`);
  }
  return { arn: p.Arn, account: m[1]!, url: p.Url, conditionPrefix: prefix, clientIds: [...p.ClientIDList] };
}

function loadRole(r: AwsRole): Role {
  const parsed = parseRoleArn(r.Arn);
  if (!parsed) throw new TypeError(`not an IAM role ARN: ${r.Arn}`);
  if (parsed.name !== r.RoleName) throw new TypeError(`role ${r.Arn}: RoleName ${r.RoleName} differs from the ARN`);
  if (!Number.isInteger(r.MaxSessionDuration) || r.MaxSessionDuration < 3600 || r.MaxSessionDuration > 43_200) {
    throw new TypeError(`role ${r.Arn}: MaxSessionDuration must be 3600-43200 seconds`);
  }
  let trust: CompiledTrustPolicy;
  try {
    trust = compileTrustPolicy(r.AssumeRolePolicyDocument);
  } catch (error) {
    throw new TypeError(`role ${r.Arn}: ${(error as Error).message}`);
  }
  return { arn: r.Arn, account: parsed.account, name: parsed.name, path: r.Path, maxSessionDuration: r.MaxSessionDuration, trust };
}

export function loadTrustStore(trust: TrustExport, opts: { allowIssuerPort?: boolean } = {}): TrustStore {
  const providers = trust.aws.oidcProviders.map((p) => loadProvider(p, opts.allowIssuerPort ?? false));
  const roles = trust.aws.roles.map(loadRole);
  const byArn = new Map(roles.map((r) => [r.arn, r]));
  return {
    providers,
    roles,
    provider: (account, issuer) => providers.find((p) => p.account === account && p.url === issuer),
    role: (arn) => byArn.get(arn),
  };
}
