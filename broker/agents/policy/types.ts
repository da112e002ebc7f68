/**
 * The `agents` section of realm-config, compiled once into lookup structures the evaluator reads.
 * Built by `compile.ts`, read by `evaluate.ts`; immutable once built.
 */

export interface CompiledAzureIdentity {
  name: string;
  tenantId: string;
  /** Lower case. */
  clientId: string;
  scopes: readonly string[];
}

export interface CompiledWorkload {
  name: string;
  subject: string;
  /** The workload's Keycloak client: the `azp` of every subject token it mints. */
  clientId: string;
  /** Role ARN → the role's maximum session duration. */
  awsRoles: ReadonlyMap<string, number>;
  azureIdentities: readonly CompiledAzureIdentity[];
}

export type ClaimValue = string | number | boolean;

/** Which actor tokens an agent rule is about: every given field must match exactly. */
export interface ActorMatch {
  issuer: string;
  subject?: string;
  clientId?: string;
  claims: ReadonlyArray<readonly [string, ClaimValue]>;
}

export interface CompiledAwsTarget {
  roleArn: string;
  /** Seconds; the grant is the smaller of this and the role's maximum. */
  maxDuration: number;
  /** Session policy as the JSON text sent to STS. */
  sessionPolicy?: string;
}

export interface CompiledAzureTarget {
  identity: string;
  /** Allowed scopes; absent = the identity's scopes. */
  scopes?: readonly string[];
}

export interface CompiledAgent {
  name: string;
  match: ActorMatch;
  actForAll: boolean;
  actFor: ReadonlySet<string>;
  aws: ReadonlyMap<string, CompiledAwsTarget>;
  azure: ReadonlyMap<string, CompiledAzureTarget>;
}

export interface CompiledPolicy {
  issuer: string;
  /** sha256 prefix of the source it was compiled from (goes into audit events). */
  revision: string;
  workloadsBySubject: ReadonlyMap<string, CompiledWorkload>;
  /** In file order: the first rule that allows a request is the one reported. */
  agents: readonly CompiledAgent[];
}

/** Duration an agent's AWS session gets when its rule sets none: the STS minimum, 15 minutes. */
export const DEFAULT_AGENT_AWS_DURATION = 900;
/** STS `Policy` parameter: at most 2048 characters of plain text. */
export const MAX_SESSION_POLICY_CHARS = 2048;
