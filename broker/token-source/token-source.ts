/**
 * How the sidecar gets its workload's own Keycloak token: one token per cloud audience, each from
 * a client-credentials request for that cloud's client scope.
 */
import { AWS_AUDIENCE, AWS_SCOPE, AZURE_AUDIENCE, AZURE_SCOPE } from "../../realm-config/model/conventions.ts";

export type Audience = "aws" | "azure";

/** The scope to ask for and the `aud` the token must then carry, per cloud (see conventions.ts). */
export const AUDIENCES: Record<Audience, { scope: string; aud: string }> = {
  aws: { scope: AWS_SCOPE, aud: AWS_AUDIENCE },
  azure: { scope: AZURE_SCOPE, aud: AZURE_AUDIENCE },
};

export interface WorkloadToken {
  /** The raw JWT. Never logged: log `tokenFingerprint(token)`. */
  token: string;
  expiresAt: Date;
}

/** Fetches a fresh workload token for one audience (no caching: the cache decorates this). */
export interface WorkloadTokenSource {
  fetch(audience: Audience): Promise<WorkloadToken>;
}
