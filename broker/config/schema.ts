/**
 * The schema of the `cloud-broker` config file (YAML). Strict: unknown keys are errors. Secrets
 * never appear in it: they come from files (the Kubernetes token, the private key, the client secret).
 */
import { z } from "zod";
import { ROLE_SESSION_NAME } from "../exchange/role-session-name.ts";
import { isLoopbackHost } from "../serve/loopback.ts";

/** Default ports: the credential listener's and the agents' HTTPS listener's (also used by the cross-field checks). */
const CREDENTIALS_PORT = 8999;
const AGENTS_PORT = 8443;

/** Local name of a target: used in URLs, file names and metric labels. */
const targetName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, "lower-case letters, digits and '-', starting with a letter, at most 63 characters");

const httpsUrl = z
  .string()
  .url("a URL")
  .refine((u) => u.startsWith("https://"), "must be an https:// URL");

const httpUrl = z
  .string()
  .url("a URL")
  .refine((u) => /^https?:\/\//.test(u), "must be an http:// or https:// URL");

const filePath = z.string().min(1, "a file path");
const awsRegion = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "an AWS region, e.g. eu-west-1");
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "a GUID");
const awsRoleArn = z
  .string()
  .regex(/^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, "an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)");

/** The plaintext session policy may not exceed 2,048 characters (STS PackedPolicyTooLarge otherwise). */
const MAX_SESSION_POLICY_CHARS = 2048;

const sessionPolicy = z.union([z.record(z.string(), z.unknown()), z.string()]).transform((value, ctx) => {
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: "custom", message: "not valid JSON" });
      return z.NEVER;
    }
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    ctx.addIssue({ code: "custom", message: "an IAM policy document (a JSON object)" });
    return z.NEVER;
  }
  const json = JSON.stringify(parsed);
  if (json.length > MAX_SESSION_POLICY_CHARS) {
    ctx.addIssue({ code: "custom", message: `at most ${MAX_SESSION_POLICY_CHARS} characters as compact JSON (is ${json.length})` });
    return z.NEVER;
  }
  return json;
});

export const AwsRoleConfig = z.strictObject({
  name: targetName,
  arn: awsRoleArn,
  /** 900–43200; never more than the role's MaxSessionDuration (STS refuses otherwise). */
  durationSeconds: z.number().int().min(900, "900–43200 seconds").max(43200, "900–43200 seconds").default(3600),
  /** An IAM session policy: a YAML mapping or a JSON string; sent compact as `Policy`. */
  sessionPolicy: sessionPolicy.optional(),
  /** Overrides the derived `<clientId>@<target>`. */
  sessionName: z.string().regex(ROLE_SESSION_NAME, "2–64 characters of letters, digits and +=,.@_-").optional(),
});

export const AzureIdentityConfig = z.strictObject({
  name: targetName,
  tenantId: guid,
  /** Application (client) id of the app registration or user-assigned managed identity. */
  clientId: guid,
  /** Entra `.default` scopes, e.g. `https://storage.azure.com/.default`; the first is the default. */
  scopes: z.array(z.string().regex(/^\S+\/\.default$/, "an Entra resource scope ending in /.default")).min(1),
});

/** Exactly one method (checked in {@link crossFieldIssues}), in the order of preference. */
export const AuthenticationConfig = z.strictObject({
  /** Kubernetes projected service-account token (federated client assertion, `federated-jwt`). Re-read on every use. */
  kubernetes: z.strictObject({ tokenFile: filePath }).optional(),
  /** `private_key_jwt`: a PEM PKCS#8 private key whose public part Keycloak knows. */
  privateKeyJwt: z
    .strictObject({
      keyFile: filePath,
      kid: z.string().min(1).optional(),
      alg: z.enum(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]),
    })
    .optional(),
  /** A client secret read from a file (trailing newline ignored); the weakest option. */
  clientSecret: z
    .strictObject({
      file: filePath,
      method: z.enum(["client_secret_post", "client_secret_basic"]).default("client_secret_post"),
    })
    .optional(),
});

/** A delivery mode: `true`/`false`, or its settings (which turn it on). */
/**
 * A delivery mode: `true`/`false`, or its settings, where `enabled: false` keeps the settings but
 * turns the mode off (what a deployment's base config does; each mode its app uses is then turned
 * on by a `CLOUD_BROKER_SERVE_*` variable).
 */
function mode<T extends z.ZodRawShape>(shape: T) {
  return z.union([z.boolean(), z.strictObject({ enabled: z.boolean().optional(), ...shape })]).optional();
}

const seconds = z.number().int().positive();

export const ServeConfig = z.strictObject({
  /** Listen address of the credential endpoints. Credentials go over plain http: anything but loopback needs `allowNonLoopback`. */
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(CREDENTIALS_PORT),
  allowNonLoopback: z.boolean().default(false),
  /** A second listener with only /healthz, /readyz, /metrics (for kubelet probes and Prometheus); never credentials. */
  ops: z.strictObject({ host: z.string().min(1).default("0.0.0.0"), port: z.number().int().min(0).max(65535) }).optional(),
  /** Where the files for the workload are written by default (a volume shared with the workload's container). */
  stateDir: filePath.default("/var/run/cloud-broker"),
  /** Mode of every file written for the workload: "0600", or "0640" to share with the workload's group. */
  fileMode: z.enum(["0600", "0640"]).default("0600"),
  /** `Retry-After` on retryable errors. */
  retryAfterSeconds: seconds.max(300).default(2),
  aws: z
    .strictObject({
      /** Container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI). On by default when AWS roles are configured. */
      container: mode({ authTokenFile: filePath.optional() }),
      /** credential_process profiles in an AWS config file. */
      credentialProcess: mode({ configFile: filePath.optional(), command: z.array(z.string().min(1)).min(1).optional() }),
      /** AWS_WEB_IDENTITY_TOKEN_FILE with the workload's AWS-audience token. */
      webIdentity: mode({
        tokenFile: filePath.optional(),
        rewriteBeforeExpirySeconds: seconds.optional(),
        roleSessionName: z.string().regex(ROLE_SESSION_NAME, "2–64 characters of letters, digits and +=,.@_-").optional(),
      }),
    })
    .default({}),
  azure: z
    .strictObject({
      /** The identity used when a request names none; defaults to the first Azure identity. */
      defaultTarget: targetName.optional(),
      /** App Service managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER). On by default when Azure identities are configured. */
      appService: mode({ secretFile: filePath.optional() }),
      /** IMDS-compatible endpoint (AZURE_POD_IDENTITY_AUTHORITY_HOST); no secret, so loopback only. Off by default: only for SDKs that need it. */
      imds: mode({}),
      /** AZURE_FEDERATED_TOKEN_FILE with the workload's Azure-audience token. */
      federatedTokenFile: mode({ tokenFile: filePath.optional(), rewriteBeforeExpirySeconds: seconds.optional() }),
    })
    .default({}),
});

export const RefreshConfig = z.strictObject({
  /** Refresh once this little lifetime remains (capped at half the lifetime). Default 20 min: botocore refreshes at 15. */
  aheadSeconds: z.number().int().min(60).max(43200).default(1200),
  /** Refresh up to this much earlier still, at random, so many sidecars do not refresh together. */
  jitterSeconds: z.number().int().min(0).max(3600).default(120),
  /** Stop serving credentials once this little lifetime remains (capped at a quarter of the lifetime). */
  stopServingSeconds: z.number().int().min(0).max(3600).default(300),
  /** Backoff of the background refresh after a failure: from this… */
  retryMinSeconds: z.number().min(0.1).max(600).default(1),
  /** …doubling up to this. */
  retryMaxSeconds: z.number().min(1).max(3600).default(30),
});

export const UpstreamConfig = z.strictObject({
  /** Timeout of one request to Keycloak, STS or Entra. */
  timeoutSeconds: z.number().min(1).max(120).default(10),
  /** Attempts per exchange for retryable STS / Entra errors (jittered exponential backoff between them). */
  maxAttempts: z.number().int().min(1).max(10).default(3),
});

const signingAlg = z.enum(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]);

/** The RFC 8693 token-exchange endpoint for agents (`POST /v1/token`, broker/agents/). Off unless configured. */
export const AgentsConfig = z.strictObject({
  /** realm-sync's trust-domain file: the policy comes from its `agents` section; reloaded when the file changes. */
  realmConfigFile: filePath,
  /** This sidecar's own delegation key: its public part is this workload's `agentDelegation.privateKeyJwt` in that file (no other sidecar has it). */
  delegationKey: z.strictObject({
    keyFile: filePath,
    alg: signingAlg.default("RS256"),
    /** Defaults to the RFC 7638 thumbprint of the public key (what realm-sync registers). */
    kid: z.string().min(1).optional(),
  }),
  /**
   * The endpoint's own listener: HTTPS only, never the plain-http credential listener, so enabling
   * it never puts a credential endpoint on a pod address. Loopback by default; agents in other pods
   * need `host: 0.0.0.0` (and a NetworkPolicy naming them).
   */
  listen: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(AGENTS_PORT),
    tls: z.strictObject({
      /** PEM certificate chain and its private key; re-read when either file changes (cert-manager rotation). */
      certFile: filePath,
      keyFile: filePath,
      /** PEM CA certificates: when set, every agent must present a client certificate issued by one of them. */
      clientCaFile: filePath.optional(),
    }),
  }),
  /** Per-agent token bucket. */
  rateLimit: z
    .strictObject({ burst: z.number().int().min(1).default(10), perSecond: z.number().positive().default(1) })
    .default({ burst: 10, perSecond: 1 }),
  /** Where agents' AWS credentials are minted; defaults to the `aws` section. */
  aws: z.strictObject({ region: awsRegion, stsEndpoint: httpUrl.optional() }).optional(),
  /** Where agents' Entra tokens are minted; defaults to the `azure` section, else the public cloud. */
  azure: z.strictObject({ authorityHost: httpsUrl }).optional(),
});

export const BrokerConfigSchema = z.strictObject({
  /** The trust domain's issuer, `https://<host>/realms/<realm>`; its discovery document gives the token endpoint. */
  issuer: httpsUrl,
  /** The workload's Keycloak client id. */
  clientId: z.string().min(1).max(255),
  authentication: AuthenticationConfig,
  aws: z
    .strictObject({
      region: awsRegion,
      /** Overrides `https://sts.<region>.amazonaws.com` (tests, VPC endpoints). */
      stsEndpoint: httpUrl.optional(),
      roles: z.array(AwsRoleConfig).min(1),
    })
    .optional(),
  azure: z
    .strictObject({
      authorityHost: httpsUrl.default("https://login.microsoftonline.com"),
      identities: z.array(AzureIdentityConfig).min(1),
    })
    .optional(),
  serve: ServeConfig.default(ServeConfig.parse({})),
  refresh: RefreshConfig.default(RefreshConfig.parse({})),
  upstream: UpstreamConfig.default(UpstreamConfig.parse({})),
  agents: AgentsConfig.optional(),
  log: z.strictObject({ level: z.enum(["debug", "info", "warn", "error"]).default("info") }).default({ level: "info" }),
});

export type BrokerConfigInput = z.input<typeof BrokerConfigSchema>;

export interface CrossFieldIssue {
  path: PropertyKey[];
  message: string;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/**
 * Rules across fields, checked on the raw input so they are reported together with the field
 * errors (a schema refinement would only run once every field is valid).
 */
export function crossFieldIssues(input: unknown): CrossFieldIssue[] {
  const issues: CrossFieldIssue[] = [];
  const raw = record(input) ?? {};
  const aws = record(raw.aws);
  const azure = record(raw.azure);
  const agents = record(raw.agents);
  if (!aws && !azure && !agents) issues.push({ path: [], message: "configure at least one of aws, azure, agents" });
  if (agents && !record(agents.aws) && !aws) {
    issues.push({ path: ["agents"], message: "agents need an AWS region: set agents.aws.region (or an aws section)" });
  }
  const agentsPort = record(agents?.listen)?.port ?? AGENTS_PORT;
  const serveSection = record(raw.serve);
  for (const [name, port] of [
    ["serve.port", serveSection?.port ?? CREDENTIALS_PORT],
    ["serve.ops.port", record(serveSection?.ops)?.port],
  ] as const) {
    if (agents && port !== 0 && port === agentsPort)
      issues.push({
        path: ["agents", "listen", "port"],
        message: `is the same port as ${name}: the agents' HTTPS listener has a port of its own`,
      });
  }

  const auth = record(raw.authentication);
  if (auth) {
    const given = ["kubernetes", "privateKeyJwt", "clientSecret"].filter((k) => auth[k] !== undefined);
    if (given.length !== 1) {
      issues.push({
        path: ["authentication"],
        message:
          given.length === 0
            ? "exactly one of kubernetes, privateKeyJwt, clientSecret is required"
            : `exactly one method allowed, found ${given.join(", ")}`,
      });
    }
  }

  const seen = new Map<string, string>();
  const checkName = (item: unknown, path: PropertyKey[]) => {
    const name = record(item)?.name;
    if (typeof name !== "string") return;
    const first = seen.get(name);
    if (first) issues.push({ path: [...path, "name"], message: `target name "${name}" is already used by ${first}` });
    else
      seen.set(
        name,
        path
          .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
          .join("")
          .slice(1),
      );
  };
  list(aws?.roles).forEach((role, i) => checkName(role, ["aws", "roles", i]));
  list(azure?.identities).forEach((identity, i) => checkName(identity, ["azure", "identities", i]));

  const defaultTarget = record(record(raw.serve)?.azure)?.defaultTarget;
  if (typeof defaultTarget === "string" && !list(azure?.identities).some((i) => record(i)?.name === defaultTarget)) {
    issues.push({ path: ["serve", "azure", "defaultTarget"], message: `no Azure identity named "${defaultTarget}"` });
  }

  const refresh = record(raw.refresh) ?? {};
  const num = (v: unknown, fallback: number) => (typeof v === "number" ? v : fallback);
  if (num(refresh.stopServingSeconds, 300) >= num(refresh.aheadSeconds, 1200)) {
    issues.push({ path: ["refresh", "stopServingSeconds"], message: "must be less than refresh.aheadSeconds" });
  }
  if (num(refresh.retryMinSeconds, 1) > num(refresh.retryMaxSeconds, 30)) {
    issues.push({ path: ["refresh", "retryMinSeconds"], message: "must not exceed refresh.retryMaxSeconds" });
  }

  const serve = record(raw.serve) ?? {};
  const host = typeof serve.host === "string" ? serve.host : "127.0.0.1";
  if (serve.allowNonLoopback !== true && !isLoopbackHost(host)) {
    issues.push({
      path: ["serve", "host"],
      message: `"${host}" is not a loopback address: credentials would be served over plain http to the network (set serve.allowNonLoopback: true to accept that)`,
    });
  }
  return issues;
}
