/**
 * Requests for the long security fuzz run, generated with fast-check: every one is invalid by
 * construction (each carries at least one mutation that must make the broker refuse it), so any
 * credential in an answer is a leak and any 5xx a bug. Pure: the live values (tokens, secrets) come
 * in through {@link FuzzInputs}.
 */
import fc from "fast-check";

export interface FuzzInputs {
  /** A valid subject and actor token (aud kcb-agents) and a valid token for another audience. */
  subjectToken: string;
  actorToken: string;
  otherAudienceToken: string;
  roleArn: string;
  /** The AWS container token, the App Service header secret. */
  awsAuthToken: string;
  identityHeader: string;
  /** The configured Entra resource (without /.default). */
  resource: string;
  awsTarget: string;
}

export type Endpoint = "token" | "aws-container" | "azure-app-service" | "azure-imds";

export interface FuzzCase {
  endpoint: Endpoint;
  method: string;
  path: string;
  /** Raw header pairs (repeats allowed). */
  headers: Array<[string, string]>;
  body?: string;
  /** What makes it invalid (at least one entry). */
  mutations: string[];
  /** A token-exchange case that should get an unused actor token if one is at hand (to reach the policy). */
  wantsFreshActor?: boolean;
}

const JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";
const GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const b64 = (s: string) => Buffer.from(s).toString("base64url");

type Params = Array<[string, string]>;

const junk = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.base64String({ maxLength: 300 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9_-]{0,40}){0,5}$/),
);

/** A token made unacceptable: forged headers, tampered parts, junk, oversized. */
function badToken(valid: string, other: string): fc.Arbitrary<[string, string]> {
  const [h = "", p = "", s = ""] = valid.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString()) as Record<string, unknown>;
  const payload = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
  const withHeader = (extra: Record<string, unknown>) => `${b64(JSON.stringify({ ...header, ...extra }))}.${p}.${s}`;
  return fc.oneof(
    fc.constantFrom<[string, string]>(
      ["alg none", `${b64(JSON.stringify({ ...header, alg: "none" }))}.${p}.`],
      ["alg HS256 (key confusion)", `${b64(JSON.stringify({ ...header, alg: "HS256" }))}.${p}.${b64("mac-with-the-public-key")}`],
      ["kid unknown", withHeader({ kid: "not-a-key-of-the-issuer" })],
      ["kid path traversal", withHeader({ kid: "../../../../etc/passwd" })],
      ["jku header", withHeader({ jku: "https://attacker.example/jwks.json" })],
      ["x5u header", withHeader({ x5u: "https://attacker.example/cert.pem" })],
      ["x5c header", withHeader({ x5c: ["MIIB"] })],
      ["jwk header", withHeader({ jwk: { kty: "RSA", n: "AQAB", e: "AQAB" } })],
      ["crit header", withHeader({ crit: ["exp"] })],
      ["nested JWT (cty)", withHeader({ cty: "JWT" })],
      ["payload changed (sub)", `${h}.${b64(JSON.stringify({ ...payload, sub: "workload:someone-else" }))}.${s}`],
      ["payload changed (exp)", `${h}.${b64(JSON.stringify({ ...payload, exp: Number(payload.exp ?? 0) + 86400 }))}.${s}`],
      ["signature removed", `${h}.${p}.`],
      ["two parts", `${h}.${p}`],
      ["five parts (JWE shape)", `${h}.${p}.${s}.${s}.${s}`],
      ["other audience", other],
      ["oversized", `${h}.${p}${"A".repeat(9000)}.${s}`],
      ["empty", ""],
    ),
    fc
      .tuple(fc.nat(), fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
      .map(([at, ch]): [string, string] => {
        const i = at % (valid.length - 2);
        const c = valid[i] === ch ? (ch === "A" ? "B" : "A") : ch;
        return [`one character changed at ${i}`, `${valid.slice(0, i)}${c}${valid.slice(i + 1)}`];
      }),
    junk.map((j): [string, string] => ["junk", j]),
  );
}

const set = (params: Params, name: string, value: string): Params => params.map(([n, v]) => [n, n === name ? value : v]);

/** Mutations of a valid token-exchange form; each returns the new params and a label. */
function tokenMutation(inputs: FuzzInputs): fc.Arbitrary<{ label: string; apply: (p: Params) => Params; fresh?: boolean }> {
  const which = fc.constantFrom("subject_token", "actor_token");
  const required = fc.constantFrom("grant_type", "subject_token", "subject_token_type", "actor_token", "actor_token_type", "resource");
  return fc.oneof(
    fc
      .tuple(which, badToken(inputs.subjectToken, inputs.otherAudienceToken))
      .map(([name, [label, token]]) => ({ label: `${name}: ${label}`, apply: (p: Params) => set(p, name, token) })),
    required.map((name) => ({ label: `${name} missing`, apply: (p: Params) => p.filter(([n]) => n !== name) })),
    fc.tuple(required, fc.boolean()).map(([name, same]) => ({
      label: `${name} repeated`,
      apply: (p: Params) => [...p, [name, same ? (p.find(([n]) => n === name)?.[1] ?? "") : "x"] as [string, string]],
    })),
    junk.filter((g) => g !== GRANT).map((g) => ({ label: "grant_type other", apply: (p: Params) => set(p, "grant_type", g) })),
    fc
      .tuple(
        fc.constantFrom("subject_token_type", "actor_token_type"),
        fc.constantFrom("urn:ietf:params:oauth:token-type:saml2", "urn:ietf:params:oauth:token-type:id_token", "jwt", ""),
      )
      .map(([name, t]) => ({
        label: `${name} ${t || "empty"}`,
        apply: (p: Params) => set(p, name, t),
      })),
    fc
      .oneof(
        fc.constantFrom(
          "arn:aws:iam::111122223333:role/admin",
          `${inputs.roleArn}-other`,
          `${inputs.roleArn}/`,
          inputs.roleArn.toUpperCase(),
          "*",
          "storage",
        ),
        junk,
      )
      .filter((r) => r !== inputs.roleArn)
      .map((r) => ({ label: "resource not allowed", apply: (p: Params) => set(p, "resource", r), fresh: true })),
    // The audience names a role the agent may not use: with `resource` the request names two targets
    // (refused); should another mutation drop `resource`, `audience` alone is a valid way to name a
    // target (RFC 8693) and must still be refused, so it never names the allowed role.
    fc.constant({
      label: "resource and audience",
      apply: (p: Params) => [...p, ["audience", "arn:aws:iam::111122223333:role/admin"] as [string, string]],
      fresh: true,
    }),
    fc
      .constantFrom("s3:read", "https://storage.azure.com/.default", "openid")
      .map((s) => ({ label: "scope for AWS", apply: (p: Params) => [...p, ["scope", s] as [string, string]], fresh: true })),
    fc.constant({
      label: "requested_token_type access_token for AWS",
      apply: (p: Params) => [...p, ["requested_token_type", "urn:ietf:params:oauth:token-type:access_token"] as [string, string]],
      fresh: true,
    }),
    fc.constant({ label: "actor is the subject", apply: (p: Params) => set(p, "actor_token", inputs.subjectToken), fresh: true }),
    fc.constant({ label: "subject is the actor", apply: (p: Params) => set(p, "subject_token", inputs.actorToken), fresh: true }),
  );
}

function tokenCase(inputs: FuzzInputs): fc.Arbitrary<FuzzCase> {
  const valid: Params = [
    ["grant_type", GRANT],
    ["subject_token", inputs.subjectToken],
    ["subject_token_type", JWT_TYPE],
    ["actor_token", inputs.actorToken],
    ["actor_token_type", JWT_TYPE],
    ["resource", inputs.roleArn],
  ];
  const transport = fc.constantFrom<[string, string, string | undefined]>(
    ["form", "POST", "application/x-www-form-urlencoded"],
    ["form", "POST", "application/x-www-form-urlencoded; charset=utf-8"],
    ["json body", "POST", "application/json"],
    ["no content type", "POST", undefined],
    ["text/plain", "POST", "text/plain"],
    ["GET", "GET", undefined],
    ["PUT", "PUT", "application/x-www-form-urlencoded"],
  );
  const noise = fc.array(fc.tuple(fc.constantFrom("foo", "x", "client_id", "nonce", "_"), fc.string({ maxLength: 20 })), { maxLength: 3 });
  return fc
    .record({
      mutations: fc.array(tokenMutation(inputs), { minLength: 1, maxLength: 3 }),
      transport,
      noise,
      shuffle: fc.boolean(),
      oversized: fc.nat(40),
    })
    .map(({ mutations, transport: [label, method, contentType], noise, shuffle, oversized }) => {
      let params = valid;
      for (const m of mutations) params = m.apply(params);
      params = [...params, ...noise];
      if (shuffle) params = [...params].reverse();
      const labels = mutations.map((m) => m.label);
      if (label !== "form") labels.push(`transport: ${label}`);
      let body = label === "json body" ? JSON.stringify(Object.fromEntries(params)) : new URLSearchParams(params).toString();
      if (oversized === 0) {
        body += `&pad=${"A".repeat(33 * 1024)}`;
        labels.push("body over 32 KiB");
      }
      const headers: Array<[string, string]> = contentType ? [["content-type", contentType]] : [];
      return {
        endpoint: "token" as const,
        method,
        path: "/v1/token",
        headers,
        ...(method !== "GET" && { body }),
        mutations: labels,
        ...(mutations.some((m) => m.fresh) && { wantsFreshActor: true }),
      };
    });
}

/** Secrets the caller does not have: absent, wrong, one character off, decorated. */
function badSecret(secret: string): fc.Arbitrary<[string, string | undefined]> {
  return fc.oneof(
    fc.constantFrom<[string, string | undefined]>(
      ["secret missing", undefined],
      ["secret empty", ""],
      ["secret with Bearer", `Bearer ${secret}`],
      // (not a trailing space: HTTP strips a header value's surrounding whitespace, RFC 9110 §5.5)
      ["secret with a space inside", `${secret.slice(0, 10)} ${secret.slice(10)}`],
      ["secret lower-cased", secret.toLowerCase() === secret ? secret.toUpperCase() : secret.toLowerCase()],
      ["secret doubled", `${secret}${secret}`],
      ["secret truncated", secret.slice(0, -1)],
    ),
    fc
      .tuple(fc.nat(), fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
      .map(([at, ch]): [string, string] => {
        const i = at % secret.length;
        return [
          `secret one character off at ${i}`,
          `${secret.slice(0, i)}${secret[i] === ch ? (ch === "A" ? "B" : "A") : ch}${secret.slice(i + 1)}`,
        ];
      }),
    junk.filter((j) => j !== secret).map((j): [string, string] => ["secret junk", j]),
  );
}

const pathNoise = fc.constantFrom("", "/", "//", "%2F..", "?x=1", "#frag");

function awsCase(inputs: FuzzInputs): fc.Arbitrary<FuzzCase> {
  const target = fc.oneof(
    fc.constant(inputs.awsTarget),
    fc.constantFrom("..%2Fmetrics", "main%00", "MAIN", "*", "", "a".repeat(300)),
    fc.stringMatching(/^[a-z0-9%._-]{1,40}$/),
  );
  return fc
    .record({
      secret: badSecret(inputs.awsAuthToken),
      target,
      header: fc.constantFrom("authorization", "Authorization", "x-authorization"),
      noise: pathNoise,
      method: fc.constantFrom("GET", "GET", "POST", "HEAD"),
    })
    .map(({ secret: [label, value], target: t, header, noise, method }) => ({
      endpoint: "aws-container" as const,
      method,
      path: `/v1/aws/credentials/${t}${noise}`,
      headers: value === undefined ? [] : [[header, value] as [string, string]],
      mutations: [header === "x-authorization" ? "secret in another header" : label],
    }));
}

function appServiceCase(inputs: FuzzInputs): fc.Arbitrary<FuzzCase> {
  const query = fc.oneof(
    fc.constant(`api-version=2019-08-01&resource=${encodeURIComponent(inputs.resource)}`),
    fc.constant(`api-version=2019-08-01&resource=${encodeURIComponent(inputs.resource)}&client_id=00000000-0000-4000-8000-000000000000`),
    fc.stringMatching(/^[a-z_=&%.0-9-]{0,60}$/),
  );
  const wrongAuth = fc.record({ secret: badSecret(inputs.identityHeader), query }).map(({ secret: [label, value], query: q }) => ({
    headers: value === undefined ? [] : [["x-identity-header", value] as [string, string]],
    query: q,
    label,
  }));
  const rightAuthBadResource = fc
    .oneof(fc.constantFrom("https://management.azure.com", "https://vault.azure.net", `${inputs.resource}x`, ""), fc.webUrl())
    .filter((r) => r.replace(/\/+$/, "") !== inputs.resource)
    .map((r) => ({
      headers: [["x-identity-header", inputs.identityHeader] as [string, string]],
      query: `api-version=2019-08-01&resource=${encodeURIComponent(r)}`,
      label: "resource not configured",
    }));
  return fc.oneof(wrongAuth, rightAuthBadResource).map(({ headers, query: q, label }) => ({
    endpoint: "azure-app-service" as const,
    method: "GET",
    path: `/v1/azure/msi/token?${q}`,
    headers,
    mutations: [label],
  }));
}

function imdsCase(inputs: FuzzInputs): fc.Arbitrary<FuzzCase> {
  const ok = `api-version=2018-02-01&resource=${encodeURIComponent(inputs.resource)}`;
  return fc
    .oneof(
      fc.constantFrom<[string, Array<[string, string]>, string]>(
        ["Metadata header missing", [], ok],
        ["Metadata: false", [["metadata", "false"]], ok],
        ["Metadata: TRUE1", [["metadata", "TRUE1"]], ok],
        [
          "X-Forwarded-For present",
          [
            ["metadata", "true"],
            ["x-forwarded-for", "203.0.113.7"],
          ],
          ok,
        ],
        [
          "foreign Host (DNS rebinding)",
          [
            ["metadata", "true"],
            ["host", "attacker.example"],
          ],
          ok,
        ],
        [
          "foreign Host with port",
          [
            ["metadata", "true"],
            ["host", "attacker.example:80"],
          ],
          ok,
        ],
      ),
      fc
        .oneof(fc.constantFrom("https://management.azure.com", `${inputs.resource}x`, ""), fc.webUrl())
        .filter((r) => r.replace(/\/+$/, "") !== inputs.resource)
        .map((r): [string, Array<[string, string]>, string] => [
          "resource not configured",
          [["metadata", "true"]],
          `api-version=2018-02-01&resource=${encodeURIComponent(r)}`,
        ]),
    )
    .chain(([label, headers, q]) =>
      fc
        .constantFrom("/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token/")
        .map((p) => ({ endpoint: "azure-imds" as const, method: "GET", path: `${p}?${q}`, headers, mutations: [label] })),
    );
}

/** Every endpoint, weighted towards the token exchange (the richest input). */
export function fuzzCase(inputs: FuzzInputs): fc.Arbitrary<FuzzCase> {
  return fc.oneof(
    { arbitrary: tokenCase(inputs), weight: 5 },
    { arbitrary: awsCase(inputs), weight: 2 },
    { arbitrary: appServiceCase(inputs), weight: 2 },
    { arbitrary: imdsCase(inputs), weight: 1 },
  );
}

/** Markers of a credential in an answer body. */
export const CREDENTIAL_MARKERS = ["AccessKeyId", "SecretAccessKey", "access_token"];

export function leaksCredential(status: number, body: string): boolean {
  return status >= 200 && status < 300 && CREDENTIAL_MARKERS.some((m) => body.includes(m));
}
