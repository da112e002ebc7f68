/**
 * The trust domain as code: the schema of `realm-config/*.yaml`.
 *
 * One file describes the whole trust domain: the realm and its one issuer, every Keycloak cluster
 * that must serve it identically, the shared signing keys, token lifetimes, the workloads with
 * their cloud targets, and the agents allowed to use the broker's token-exchange endpoint.
 * Secrets never appear inline: every secret is a {@link SecretRef} (an env var or a file).
 *
 * This module is the single source: `realm-config/trust-domain.schema.json` is generated from it
 * (a test keeps the two in sync).
 */
import { z } from "zod";

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, "lower-case letters, digits and '-', starting with a letter, at most 63 characters");

/** Where a secret comes from: exactly one of an environment variable or a file path (relative to the config file). */
export const SecretRef = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name") }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type SecretRef = z.infer<typeof SecretRef>;

/** One way to sign in to a cluster. */
export const ClusterIdentity = z.union([
  z.strictObject({
    /** Admin user in the master realm (password grant on `admin-cli`): for local use and bootstrapping only. */
    username: z.string().min(1),
    password: SecretRef,
  }),
  z.strictObject({
    /** A confidential service-account client in the master realm, with only the roles its command needs (README, "Security model"). */
    clientId: z.string().min(1),
    clientSecret: SecretRef,
  }),
]);

/**
 * How realm-sync signs in: one identity for every command, or, as in CI, a write identity for
 * `apply` and a view-only one for `plan` and `check`. Each command resolves only its own identity's
 * secret, so a job that plans never needs the write identity's.
 */
export const ClusterAuth = z.union([
  ClusterIdentity,
  z.strictObject({
    /** Used by `apply` only: the view roles plus manage-realm, manage-clients, manage-identity-providers and manage-users of the one realm's management client (`realm-sync bootstrap-identities` creates it). */
    apply: ClusterIdentity,
    /** Used by `plan` and `check`: view-realm, view-clients, view-identity-providers and view-users only; it cannot change Keycloak (`realm-sync bootstrap-identities` creates it). */
    view: ClusterIdentity,
  }),
]);

export const Cluster = z.strictObject({
  name,
  /** Base URL of this cluster's admin API, e.g. `https://kc-eu.internal:8443`. May be `${ENV_VAR}`. */
  adminUrl: z.string().min(1),
  auth: ClusterAuth,
});

/** A file or vault-entry name: no directory part, so it cannot point outside its directory. */
const plainFileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "a file name: letters, digits, '.', '_' and '-', no directory part");

/**
 * A signing key of the realm. Its private half never passes through realm-sync: every Keycloak
 * server loads it itself from a keystore on its own disk (the `java-keystore` key provider reads
 * `<keystores-path>/<realm>/<file>`), with the keystore password taken from Keycloak's vault.
 * realm-sync knows the key only by its public certificate.
 */
export const SigningKey = z.strictObject({
  /** Name of the key-provider component in Keycloak; stable across rotations. */
  name,
  /** The key's X.509 certificate (PEM, public: commit it), RSA ≥ 2048 bits; every cluster must publish exactly this key. */
  certificate: z.strictObject({ file: z.string().min(1) }),
  /** Where every server finds the private key. */
  keystore: z.strictObject({
    /** PKCS#12 keystore file in the realm's keystore directory of every server (`<keystores-path>/<realm>/`). */
    file: plainFileName,
    /** Alias of the key entry; defaults to the key's name. */
    alias: z.string().min(1).max(128).optional(),
    /** Name of the Keycloak vault entry holding the keystore (and key) password: realm-sync configures `${vault.<name>}`, never the password. */
    passwordVault: plainFileName,
  }),
  /** `active`: signs new tokens (exactly one); `passive`: still published in the JWKS for rotation. */
  status: z.enum(["active", "passive"]),
});

/**
 * A URL that keys or tokens are fetched from: only `https://`. A plain-http key source lets anyone on
 * the path substitute keys, and with them any identity.
 */
const httpsUrl = z
  .string()
  .url()
  .regex(/^https:\/\//i, "an https:// URL (keys are fetched from it; plain http would let anyone on the path substitute them)");

const awsRoleArn = z
  .string()
  .regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)");
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "a GUID");

/**
 * `DurationSeconds` bounds of AssumeRoleWithWebIdentity and IAM `MaxSessionDuration`.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
 */
const sessionDuration = z.number().int().min(900).max(43200);
/** IAM's MaxSessionDuration range (CreateRole): 3600–43200 s; a session itself may be as short as 900 s. */
const roleMaxSessionDuration = z.number().int().min(3600).max(43200);

/**
 * Session tag key and value, as STS `Tag` defines them: key 1–128, value 0–256 characters, from
 * `[\p{L}\p{Z}\p{N}_.:/=+\-@]`. https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html
 */
const SESSION_TAG_CHARS = "letters, digits, spaces and _ . : / = + - @";
const sessionTagKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, `a session tag key: ${SESSION_TAG_CHARS}`);
const sessionTagValue = z
  .string()
  .max(256)
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, `a session tag value: ${SESSION_TAG_CHARS}`);

export const AwsRole = z.strictObject({
  arn: awsRoleArn,
  /** The role's maximum session duration in seconds (IAM: 3600–43200); the broker never asks for more. */
  maxSessionDuration: roleMaxSessionDuration.default(3600),
});

export const AwsTarget = z.strictObject({
  roles: z.array(AwsRole).min(1),
  /** Session tags carried in the `https://aws.amazon.com/tags` claim of every AWS token of the workload. */
  sessionTags: z.record(sessionTagKey, sessionTagValue).default({}),
  /** Tag keys that stay on the session through role chaining. */
  transitiveTagKeys: z.array(sessionTagKey).default([]),
  /**
   * `export-trust` makes the workload's roles trust it only from its own Kubernetes namespace: the
   * trust policy conditions `aws:RequestTag/<namespace tag>` on the namespace of its service account,
   * a tag only the Keycloak extension sets, from the validated assertion. Needs `kubernetes`
   * authentication through an issuer declared in `kubernetesIssuers`.
   */
  lockToNamespace: z.boolean().default(false),
});

export const AzureIdentity = z.strictObject({
  /** Local name, referenced by agents' targets. */
  name,
  tenantId: guid,
  /** The application (client) id of the app registration or user-assigned managed identity. */
  clientId: guid,
  /** Scopes the workload may request, e.g. `https://storage.azure.com/.default`. */
  scopes: z.array(z.string().min(1)).min(1),
});

/**
 * The pod values the Keycloak extension turns into session tags, and the tag key of each. A value
 * left out is not tagged. Defaults: `kubernetes-namespace`, `kubernetes-service-account`,
 * `kubernetes-pod-name`, `kubernetes-pod-uid`, `kubernetes-cluster-name`.
 */
export const PodSessionTags = z.strictObject({
  namespace: sessionTagKey.optional(),
  serviceAccount: sessionTagKey.optional(),
  podName: sessionTagKey.optional(),
  podUid: sessionTagKey.optional(),
  clusterName: sessionTagKey.optional(),
});
export type PodSessionTags = z.infer<typeof PodSessionTags>;

export const DEFAULT_POD_SESSION_TAGS = {
  namespace: "kubernetes-namespace",
  serviceAccount: "kubernetes-service-account",
  podName: "kubernetes-pod-name",
  podUid: "kubernetes-pod-uid",
  clusterName: "kubernetes-cluster-name",
} as const satisfies Required<PodSessionTags>;

/**
 * A Kubernetes service-account issuer whose assertions Keycloak turns into per-pod identity, through
 * the Keycloak extension (deploy/keycloak/extension/): the extension's identity provider validates
 * the assertion exactly as Keycloak's own `kubernetes` provider does and keeps its pod claims; its
 * mapper puts them into the workload's tokens as AWS session tags.
 */
export const KubernetesIssuer = z.strictObject({
  /** The cluster's service-account issuer (`iss` of its tokens), as workloads' `authentication.kubernetes.issuer` name it. */
  issuer: z.string().url(),
  /** The name AWS sees in the cluster-name tag; from this config, never from the token. */
  clusterName: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, `a session tag value: ${SESSION_TAG_CHARS}`),
  /** Refuse assertions not bound to a pod (e.g. from `kubectl create token`). */
  requirePodBinding: z.boolean().default(true),
  /** Which pod values become session tags, under which keys (all five by default). */
  sessionTags: PodSessionTags.default(DEFAULT_POD_SESSION_TAGS),
  /** Pod tag keys that stay on the session through role chaining. */
  transitiveTagKeys: z.array(sessionTagKey).default([]),
  /** Also put the pod values into the token as the plain object claim `kubernetes` (namespace, service_account, pod_name, pod_uid, cluster_name). */
  plainClaims: z.boolean().default(true),
});
export type KubernetesIssuer = z.infer<typeof KubernetesIssuer>;

/** How the workload proves itself to Keycloak: exactly one method. */
export const WorkloadAuth = z.union([
  z.strictObject({
    /** Kubernetes projected service-account token, used as a federated client assertion (`federated-jwt`). */
    kubernetes: z.strictObject({
      /** The cluster's service-account issuer (its `iss`); Keycloak fetches its JWKS, so https only. */
      issuer: httpsUrl,
      /** `system:serviceaccount:<namespace>:<name>`. */
      serviceAccount: z.string().regex(/^system:serviceaccount:[a-z0-9-]+:[a-z0-9.-]+$/, "system:serviceaccount:<namespace>:<name>"),
      /** Audience the projected token is minted for (defaults to the realm issuer). */
      audience: z.string().min(1).optional(),
    }),
  }),
  z.strictObject({
    /** `private_key_jwt`: the workload signs assertions with a key whose public part Keycloak knows. */
    privateKeyJwt: z.union([z.strictObject({ jwksUrl: httpsUrl }), z.strictObject({ publicKey: SecretRef })]),
  }),
  z.strictObject({
    /** A client secret, delivered to the workload as a file; the weakest option. */
    clientSecret: SecretRef,
  }),
]);

/**
 * The delegation key of the sidecar serving a workload: its token-exchange endpoint authenticates
 * with it (`private_key_jwt`) to the workload's delegation clients, and only those accept it. The
 * private key stays in that one sidecar; each workload's sidecar has its own.
 */
export const AgentDelegation = z.strictObject({
  privateKeyJwt: z.union([z.strictObject({ jwksUrl: httpsUrl }), z.strictObject({ publicKey: SecretRef })]),
});

export const Workload = z.strictObject({
  name,
  /** The stable `sub` of this workload's tokens, identical on every cluster; what AWS and Entra trust. */
  subject: z.string().min(1).max(255),
  authentication: WorkloadAuth,
  aws: AwsTarget.optional(),
  azure: z.strictObject({ identities: z.array(AzureIdentity).min(1) }).optional(),
  /** Its sidecar's delegation public key; without it, no agent can act for this workload. */
  agentDelegation: AgentDelegation.optional(),
});

export const AgentTarget = z.union([
  z.strictObject({
    aws: z.strictObject({
      role: awsRoleArn,
      /** Shorter than the role's maximum: the agent's credentials expire sooner. */
      maxDuration: sessionDuration.optional(),
      /** An IAM session policy (JSON object): the agent's credentials can do at most this. */
      sessionPolicy: z.record(z.string(), z.unknown()).optional(),
    }),
  }),
  z.strictObject({
    azure: z.strictObject({
      /** Name of a workload's Azure identity. */
      identity: name,
      /** Subset of that identity's scopes. */
      scopes: z.array(z.string().min(1)).min(1).optional(),
    }),
  }),
]);

export const Agent = z.strictObject({
  name,
  /** Which presented actor tokens this rule is about. All given fields must match. */
  match: z.strictObject({
    issuer: z.string().url().optional(),
    subject: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    claims: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  }),
  /** Workload names (or `*`) whose subject tokens this agent may act for. */
  actFor: z.array(z.string().min(1)).min(1),
  targets: z.array(AgentTarget).min(1),
});

export const TrustDomain = z.strictObject({
  /** Schema version of this file. */
  version: z.literal(1),
  realm: name,
  /** The one issuer of the trust domain: `https://<public host>/realms/<realm>`, served by every cluster. */
  issuer: z.string().url(),
  clusters: z.array(Cluster).min(1),
  signingKeys: z.array(SigningKey).min(1),
  tokens: z
    .strictObject({
      /** Access token lifetime in seconds. */
      accessTokenLifespan: z.number().int().min(60).max(43200).default(600),
    })
    .default({ accessTokenLifespan: 600 }),
  /** Kubernetes issuers with per-pod identity (the Keycloak extension); a workload's issuer not listed here uses Keycloak's own `kubernetes` provider, without pod values. */
  kubernetesIssuers: z.array(KubernetesIssuer).default([]),
  workloads: z.array(Workload).default([]),
  agents: z.array(Agent).default([]),
});
export type TrustDomain = z.infer<typeof TrustDomain>;
export type Workload = z.infer<typeof Workload>;
export type Agent = z.infer<typeof Agent>;
