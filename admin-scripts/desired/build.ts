/**
 * TrustDomain → the Keycloak state every cluster must hold. Pure apart from the injected secret
 * resolver; the same config always gives the same state (certificates and `kid`s included).
 */
import { createPublicKey } from "node:crypto";
import { calculateJwkThumbprint, type JWK } from "jose";
import {
  KUBERNETES_PROVIDER_ID,
  agentSessionName,
  AGENTS_AUDIENCE,
  AGENTS_SCOPE,
  AWS_AUDIENCE,
  AWS_SCOPE,
  AWS_SOURCE_IDENTITY_CLAIM,
  AZURE_AUDIENCE,
  AZURE_SCOPE,
  delegationClientId,
  MANAGED_ATTRIBUTE,
  MANAGED_VALUE,
  workloadClientId,
} from "../../realm-config/model/conventions.ts";
import type { ConfigPath } from "../../realm-config/model/path.ts";
import type { SecretRef, TrustDomain, Workload } from "../../realm-config/model/schema.ts";
import { escapeClaimName, hardcodedClaim, sessionTagsMapper } from "./mappers.ts";
import {
  ACTIVE_KEY_PRIORITY,
  AUDIENCE_MAPPER,
  kubernetesIdpAlias,
  PASSIVE_KEY_PRIORITY,
  RESERVED_PREFIX,
  SESSION_TAGS_MAPPER,
  SOURCE_IDENTITY_MAPPER,
  SUB_MAPPER,
} from "./names.ts";
import { GRANTS_OFF } from "./grants.ts";
import { podIdentityMapper, podIdentityProvider, REQUIRED_EXTENSION } from "./pod-identity.ts";
import { certificateMaterial, SigningKeyError } from "./signing-key.ts";
import type { DesiredClient, DesiredClientScope, DesiredIdentityProvider, DesiredKey, DesiredRealm, DesiredState } from "./types.ts";

/** Resolves a secret reference to its value; throws (with a message naming the reference, never the value) when it cannot. */
export type SecretResolver = (ref: SecretRef) => string;

/** A problem found while building the desired state: a config value that cannot become Keycloak state. */
export interface DesiredProblem {
  path: ConfigPath;
  message: string;
  /** The problem is an unavailable secret (not a wrong value). */
  secret?: boolean;
}

/** Every problem found, not only the first. */
export class DesiredStateError extends Error {
  override readonly name = "DesiredStateError";
  constructor(readonly problems: DesiredProblem[]) {
    super(problems.map((p) => p.message).join("; "));
  }
}

const MANAGED = { [MANAGED_ATTRIBUTE]: MANAGED_VALUE };

/** Client attributes realm-sync owns besides the marker: every authentication method's settings. */
export const CLIENT_AUTH_ATTRIBUTES = [
  "use.jwks.url",
  "jwks.url",
  "use.jwks.string",
  "jwks.string",
  "jwt.credential.public.key",
  "jwt.credential.kid",
  "jwt.credential.issuer",
  "jwt.credential.sub",
] as const;

/** Default client scopes of every managed client: Keycloak adds `service_account` to service-account clients itself. */
export const DEFAULT_CLIENT_SCOPES = ["service_account"];

const OIDC_CLIENT_SCOPE_ATTRIBUTES = { "include.in.token.scope": "true", "display.on.consent.screen": "false" };

/** A managed client's attributes: the marker, every grant switched off, the authentication method's settings. */
function clientAttributes(set: Partial<Record<(typeof CLIENT_AUTH_ATTRIBUTES)[number], string>>): Record<string, string> {
  const out: Record<string, string> = { ...MANAGED, ...GRANTS_OFF };
  for (const key of CLIENT_AUTH_ATTRIBUTES) out[key] = set[key] ?? "";
  return out;
}

function cloudScopes(): DesiredClientScope[] {
  return [
    {
      name: AWS_SCOPE,
      description: `Workload token for AWS STS: aud=${AWS_AUDIENCE}`,
      attributes: { ...MANAGED, ...OIDC_CLIENT_SCOPE_ATTRIBUTES },
      mappers: [hardcodedClaim(AUDIENCE_MAPPER, "aud", AWS_AUDIENCE, "String")],
    },
    {
      name: AZURE_SCOPE,
      description: `Workload token for Entra federated credentials: aud=${AZURE_AUDIENCE}`,
      attributes: { ...MANAGED, ...OIDC_CLIENT_SCOPE_ATTRIBUTES },
      mappers: [hardcodedClaim(AUDIENCE_MAPPER, "aud", AZURE_AUDIENCE, "String")],
    },
    {
      // Like the cloud scopes, it replaces aud with one value under the same claim: whichever of
      // these scopes a client requests together, the token carries exactly one audience, so a token
      // for the broker's endpoint can never be used at STS or Entra as well.
      name: AGENTS_SCOPE,
      description: `Subject and actor tokens for the broker's token-exchange endpoint: aud=${AGENTS_AUDIENCE}`,
      attributes: { ...MANAGED, ...OIDC_CLIENT_SCOPE_ATTRIBUTES },
      mappers: [hardcodedClaim(AUDIENCE_MAPPER, "aud", AGENTS_AUDIENCE, "String")],
    },
  ];
}

function cloudScopesOf(workload: Workload): string[] {
  return [...(workload.aws ? [AWS_SCOPE] : []), ...(workload.azure ? [AZURE_SCOPE] : [])];
}

function tokenMappers(workload: Workload): DesiredClient["mappers"] {
  const mappers = [hardcodedClaim(SUB_MAPPER, "sub", workload.subject, "String")];
  const aws = workload.aws;
  if (aws && (Object.keys(aws.sessionTags).length > 0 || aws.transitiveTagKeys.length > 0)) {
    mappers.push(sessionTagsMapper(SESSION_TAGS_MAPPER, aws.sessionTags, aws.transitiveTagKeys));
  }
  return mappers;
}

interface Context {
  config: TrustDomain;
  resolve: SecretResolver;
  problems: DesiredProblem[];
}

function secretAt(ctx: Context, ref: SecretRef, path: ConfigPath): string | undefined {
  try {
    return ctx.resolve(ref);
  } catch (error) {
    ctx.problems.push({ path, message: (error as Error).message, secret: true });
    return undefined;
  }
}

async function publicKeyAttributes(pem: string): Promise<{ spki: string; kid: string }> {
  const key = createPublicKey(pem);
  const jwk = key.export({ format: "jwk" }) as JWK;
  return { spki: key.export({ type: "spki", format: "der" }).toString("base64"), kid: await calculateJwkThumbprint(jwk) };
}

async function workloadClient(ctx: Context, workload: Workload, index: number): Promise<DesiredClient | undefined> {
  const at: ConfigPath = ["workloads", index];
  if (workload.name.startsWith(RESERVED_PREFIX)) {
    ctx.problems.push({
      path: [...at, "name"],
      message: `names starting with "${RESERVED_PREFIX}" are reserved for realm-sync's own clients`,
    });
    return undefined;
  }
  const auth = workload.authentication;
  let clientAuthenticatorType: DesiredClient["clientAuthenticatorType"];
  let attributes: Record<string, string>;
  let secret: string | undefined;
  let podMapper: DesiredClient["mappers"] = [];
  if ("kubernetes" in auth) {
    const audience = auth.kubernetes.audience;
    if (audience !== undefined && audience !== ctx.config.issuer) {
      // The Kubernetes identity provider of Keycloak 26.x checks `aud` against the realm issuer only.
      ctx.problems.push({
        path: [...at, "authentication", "kubernetes", "audience"],
        message: `must be the realm issuer ${ctx.config.issuer} (Keycloak accepts federated client assertions only for its own issuer); omit it to use that`,
      });
      return undefined;
    }
    clientAuthenticatorType = "federated-jwt";
    attributes = clientAttributes({
      "jwt.credential.issuer": kubernetesIdpAlias(auth.kubernetes.issuer),
      "jwt.credential.sub": auth.kubernetes.serviceAccount,
    });
    const declared = ctx.config.kubernetesIssuers.find((k) => k.issuer === auth.kubernetes.issuer);
    if (declared) podMapper = [podIdentityMapper(declared)];
  } else if ("privateKeyJwt" in auth) {
    clientAuthenticatorType = "client-jwt";
    const keyAttributes = await privateKeyJwtAttributes(ctx, auth.privateKeyJwt, [...at, "authentication", "privateKeyJwt"]);
    if (!keyAttributes) return undefined;
    attributes = keyAttributes;
  } else {
    clientAuthenticatorType = "client-secret";
    attributes = clientAttributes({});
    secret = secretAt(ctx, auth.clientSecret, [...at, "authentication", "clientSecret"]);
    if (secret === undefined) return undefined;
  }

  return {
    clientId: workloadClientId(workload.name),
    name: workload.name,
    description: `realm-sync workload; sub=${workload.subject}`,
    clientAuthenticatorType,
    ...(secret === undefined ? {} : { secret }),
    attributes,
    defaultClientScopes: [...DEFAULT_CLIENT_SCOPES],
    // kcb-agents: the workload mints the subject tokens it hands to agents.
    optionalClientScopes: [...cloudScopesOf(workload), AGENTS_SCOPE],
    // After the static session tags: the extension's mapper merges the pod's tags into that claim.
    mappers: [...tokenMappers(workload), ...podMapper],
  };
}

/** The client-auth attributes of a `private_key_jwt` key given as a JWKS URL or a PEM public key; `undefined` after reporting a problem. */
async function privateKeyJwtAttributes(
  ctx: Context,
  method: { jwksUrl: string } | { publicKey: SecretRef },
  path: ConfigPath,
): Promise<Record<string, string> | undefined> {
  if ("jwksUrl" in method) return clientAttributes({ "use.jwks.url": "true", "jwks.url": method.jwksUrl });
  const pem = secretAt(ctx, method.publicKey, [...path, "publicKey"]);
  if (pem === undefined) return undefined;
  try {
    const pk = await publicKeyAttributes(pem);
    // kid = RFC 7638 thumbprint: the signer may send it or no kid at all.
    return clientAttributes({ "use.jwks.url": "false", "jwt.credential.public.key": pk.spki, "jwt.credential.kid": pk.kid });
  } catch {
    ctx.problems.push({
      path: [...path, "publicKey"],
      message: "is not a PEM public key (SubjectPublicKeyInfo, `-----BEGIN PUBLIC KEY-----`)",
    });
    return undefined;
  }
}

/** The cloud scopes an agent's targets need at a workload: `kcb-aws` only for a role of that workload, `kcb-azure` only for one of its identities. */
function delegatedScopes(agent: TrustDomain["agents"][number], workload: Workload): string[] {
  const aws = agent.targets.some((t) => "aws" in t && workload.aws?.roles.some((r) => r.arn === t.aws.role));
  const azure = agent.targets.some((t) => "azure" in t && workload.azure?.identities.some((id) => id.name === t.azure.identity));
  return [...(aws ? [AWS_SCOPE] : []), ...(azure ? [AZURE_SCOPE] : [])];
}

/**
 * One client per (agent, workload it may act for, with a target there): its tokens carry the
 * workload's `sub` and session tags plus the chain `agent@workload` as the AWS source identity. Only
 * the key of the sidecar serving that workload (`workloads[].agentDelegation`) authenticates it, and
 * it gets only the cloud scopes the agent's targets at that workload need (broker/agents/README.md).
 */
async function delegationClients(ctx: Context): Promise<DesiredClient[]> {
  const out = new Map<string, DesiredClient>();
  const keyOwners = new Map<string, string>();
  for (const [index, workload] of ctx.config.workloads.entries()) {
    const delegation = workload.agentDelegation;
    if (!delegation) continue;
    const path: ConfigPath = ["workloads", index, "agentDelegation", "privateKeyJwt"];
    const attributes = await privateKeyJwtAttributes(ctx, delegation.privateKeyJwt, path);
    if (!attributes) continue;
    // One key per sidecar: a key shared by two workloads' sidecars would let either delegate for both.
    const keyId = attributes["jwt.credential.public.key"] || attributes["jwks.url"] || "";
    const owner = keyOwners.get(keyId);
    if (owner !== undefined) {
      ctx.problems.push({
        path,
        message: `is the same delegation key as workload "${owner}"'s; each workload's sidecar needs its own key`,
      });
      continue;
    }
    keyOwners.set(keyId, workload.name);
    for (const agent of ctx.config.agents) {
      if (!agent.actFor.includes("*") && !agent.actFor.includes(workload.name)) continue;
      const scopes = delegatedScopes(agent, workload);
      if (!scopes.length) continue;
      const clientId = delegationClientId(agent.name, workload.name);
      const chain = agentSessionName(agent.name, workload.name);
      out.set(clientId, {
        clientId,
        name: clientId,
        description: `realm-sync delegation: agent ${agent.name} acting for workload ${workload.name}; sub=${workload.subject}, source identity ${chain}`,
        clientAuthenticatorType: "client-jwt",
        attributes,
        defaultClientScopes: [...DEFAULT_CLIENT_SCOPES],
        optionalClientScopes: scopes,
        mappers: [
          ...tokenMappers(workload),
          hardcodedClaim(SOURCE_IDENTITY_MAPPER, escapeClaimName(AWS_SOURCE_IDENTITY_CLAIM), chain, "String"),
        ],
      });
    }
  }
  return [...out.values()];
}

/** The realm's frontend URL: the issuer without `/realms/<realm>`, so every cluster issues exactly the configured `iss`. */
export function frontendUrlOf(issuer: string, realm: string): string {
  const suffix = `/realms/${realm}`;
  return issuer.endsWith(suffix) ? issuer.slice(0, -suffix.length) : issuer;
}

/** The realm itself, as realm-sync creates and keeps it (needs no secret). */
export function desiredRealm(config: TrustDomain): DesiredRealm {
  return {
    realm: config.realm,
    accessTokenLifespan: config.tokens.accessTokenLifespan,
    attributes: { ...MANAGED, frontendUrl: frontendUrlOf(config.issuer, config.realm) },
  };
}

/**
 * Builds the desired Keycloak state of a validated trust domain. Reads what it needs (signing-key
 * certificates, client secrets, workload public keys) and reports all problems together. It never
 * reads a private signing key: the config has no place for one.
 *
 * @example const desired = await buildDesired(config, (ref) => resolveSecret(ref, { baseDir: source.dir, env: process.env }));
 */
export async function buildDesired(config: TrustDomain, resolve: SecretResolver): Promise<DesiredState> {
  const ctx: Context = { config, resolve, problems: [] };

  const keys: DesiredKey[] = [];
  for (const [i, key] of config.signingKeys.entries()) {
    const path: ConfigPath = ["signingKeys", i, "certificate", "file"];
    const pem = secretAt(ctx, key.certificate, path);
    if (pem === undefined) continue;
    try {
      const material = certificateMaterial(pem);
      const active = key.status === "active";
      keys.push({
        name: key.name,
        active,
        priority: active ? ACTIVE_KEY_PRIORITY : PASSIVE_KEY_PRIORITY,
        certificate: material.certificate,
        kid: material.kid,
        publicJwk: { n: material.publicJwk.n, e: material.publicJwk.e },
        keystore: { file: key.keystore.file, alias: key.keystore.alias ?? key.name, passwordVault: key.keystore.passwordVault },
      });
    } catch (error) {
      if (!(error instanceof SigningKeyError)) throw error;
      ctx.problems.push({ path, message: `signing key "${key.name}": ${error.message}` });
    }
  }

  const clients: DesiredClient[] = [];
  for (const [i, workload] of config.workloads.entries()) {
    const client = await workloadClient(ctx, workload, i);
    if (client) clients.push(client);
  }
  clients.push(...(await delegationClients(ctx)));

  // Declared issuers get the extension's provider (per-pod identity); any other issuer a workload names, Keycloak's own.
  const identityProviders = new Map<string, DesiredIdentityProvider>();
  for (const k of config.kubernetesIssuers) identityProviders.set(kubernetesIdpAlias(k.issuer), podIdentityProvider(k));
  for (const workload of config.workloads) {
    const auth = workload.authentication;
    if (!("kubernetes" in auth)) continue;
    const alias = kubernetesIdpAlias(auth.kubernetes.issuer);
    if (identityProviders.has(alias)) continue;
    identityProviders.set(alias, {
      alias,
      providerId: KUBERNETES_PROVIDER_ID,
      displayName: `Kubernetes ${auth.kubernetes.issuer}`,
      config: { ...MANAGED, issuer: auth.kubernetes.issuer },
    });
  }

  if (ctx.problems.length) throw new DesiredStateError(ctx.problems);
  return {
    realm: desiredRealm(config),
    issuer: config.issuer,
    keys: keys.sort((a, b) => a.name.localeCompare(b.name)),
    clientScopes: cloudScopes(),
    identityProviders: [...identityProviders.values()].sort((a, b) => a.alias.localeCompare(b.alias)),
    clients,
    ...(config.kubernetesIssuers.length ? { extension: REQUIRED_EXTENSION } : {}),
  };
}
