/**
 * The seam between getting credentials (token source → exchange → cache) and serving them
 * (the endpoints and files unmodified SDKs read). Serving code depends only on this interface.
 */

/** Temporary AWS credentials from AssumeRoleWithWebIdentity. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** The role's account, from the assumed-role ARN. */
  accountId: string;
  assumedRoleArn: string;
}

/** An Entra access token for one (tenant, client id, scope). */
export interface AzureAccessToken {
  accessToken: string;
  expiresOn: Date;
  /** The resource, i.e. the scope without `/.default` (what the App Service / IMDS protocols echo back). */
  resource: string;
  clientId: string;
  tenantId: string;
}

/**
 * The Azure resource a scope or resource names: `https://storage.azure.com`, `…/` and `…/.default`
 * are all `https://storage.azure.com`. What the App Service / IMDS protocols echo back as `resource`
 * and the key resources are compared by (case matters).
 */
export function resourceOf(resourceOrScope: string): string {
  return resourceOrScope.replace(/\/\.default$/, "").replace(/\/+$/, "");
}

/** One configured AWS target: a role the workload may assume. */
export interface AwsTargetRef {
  /** Local name of the target (unique per broker), used in paths and metrics. */
  name: string;
  roleArn: string;
}

/** One configured Azure target: an identity (tenant, client id) and the scopes it may get. */
export interface AzureTargetRef {
  name: string;
  tenantId: string;
  clientId: string;
  scopes: string[];
}

export interface TargetStatus {
  target: string;
  cloud: "aws" | "azure";
  /** Whether valid credentials are held right now. */
  ready: boolean;
  expiresAt?: Date;
  lastError?: string;
}

/**
 * Gives out cached, proactively refreshed credentials. Every method either resolves with
 * credentials that are valid for a while yet or rejects with a `BrokerError` whose `code` says why
 * (and whether a retry may help). Never keyed by, and never exposing, the workload's Keycloak token.
 */
export interface CredentialSource {
  readonly awsTargets: readonly AwsTargetRef[];
  readonly azureTargets: readonly AzureTargetRef[];
  aws(target: string): Promise<AwsCredentials>;
  /** What `aws(target)` would resolve with at once, synchronously, or `undefined` when it would wait or fail (the serving fast lane). */
  awsIfCached?(target: string): AwsCredentials | undefined;
  /** `scope` defaults to the target's first scope; a scope outside the target's list is refused. */
  azure(target: string, scope?: string): Promise<AzureAccessToken>;
  /** What `azure(target, scope)` would resolve with at once, synchronously, or `undefined` when it would wait or fail (the serving fast lane). */
  azureIfCached?(target: string, scope?: string): AzureAccessToken | undefined;
  /** The workload's raw Keycloak token for one audience (for the token-file delivery modes). */
  workloadToken(audience: "aws" | "azure"): Promise<{ token: string; expiresAt: Date }>;
  status(): TargetStatus[];
}
