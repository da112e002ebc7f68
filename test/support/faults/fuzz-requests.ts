/**
 * Property-based fuzzing of a live broker over its socket: generators of requests to every
 * credential endpoint and to `POST /v1/token`, each **invalid by construction** (a wrong or missing
 * secret, a forbidden header, an unknown target, a mutated or forged token, a broken form…), and
 * the oracle every answer must satisfy: no 5xx, the connection answered (no crash), and never a
 * credential. `npm test` runs a few hundred cases; the benchmark runs ≥ 10,000 with the same code:
 *
 * @example
 * const stats = await fuzzBroker({ baseUrl, tokenUrl, target, numRuns: 10_000 });
 */
import fc from "fast-check";
import { decodeJwt } from "jose";
import { carriesCredentials, send, type RawRequest, type RawResponse } from "./http.ts";
import { JWT_ATTACKS, type AttackKeys } from "./jwt-attacks.ts";

export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/** What the generators need to know about the broker under test. */
export interface FuzzTarget {
  /** The secrets it wrote at start (near misses of them are generated, never them on a valid request). */
  awsContainerToken: string;
  identityHeader: string;
  awsTargets: readonly string[];
  /** Azure resources (scope without `/.default`) and client ids it serves. */
  azureResources: readonly string[];
  azureClientIds: readonly string[];
  /** A valid subject token (aud kcb-agents) and actor token, to mutate. */
  subjectToken: string;
  actorToken: string;
  /** The AWS role the agent may get (the request's resource). */
  roleArn: string;
  /** With keys, validly signed forgeries (JWT_ATTACKS) are generated too. */
  keys?: AttackKeys;
  /** Where a `jku`/`x5u` in a forged token points (a recorder: nothing may ever fetch it). */
  recorderUrl?: string;
}

export interface FuzzCase extends RawRequest {
  /** Why the request must be refused (for the failure report). */
  why: string;
}

const ascii = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const pathJunk = fc.oneof(
  ascii(40).map((s) => encodeURIComponent(s)),
  fc.constantFrom(
    "..",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "main%00",
    "MAIN",
    "main%20",
    "%ff%fe",
    "a".repeat(3000),
    "%25",
    "~",
    "main;x",
  ),
);
/** A value that is not `secret`: a near miss, a cousin secret, junk, or nothing at all. */
function wrongSecret(secret: string, other: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constant(""),
    ascii(80).filter((s) => s.trim() !== secret),
    fc.nat({ max: secret.length - 1 }).map((i) => `${secret.slice(0, i)}${secret[i] === "A" ? "B" : "A"}${secret.slice(i + 1)}`),
    fc.constantFrom(
      secret.slice(0, -1),
      `${secret}x`,
      `Bearer ${secret}`,
      secret.toLowerCase() === secret ? `${secret}X` : secret.toLowerCase(),
      `${secret},${secret}`,
      other,
      `x${secret}`,
    ),
  );
}
const header = (name: string, value: string | undefined): Array<[string, string]> => (value === undefined ? [] : [[name, value]]);
const method = fc.constantFrom("GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH");

function awsContainer(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  // Junk that cannot resolve to a configured target, however the path is decoded or normalised.
  const unknownTarget = pathJunk.filter(
    (p) => !/%2e|\.\.|%2f|\//i.test(p) && !t.awsTargets.some((x) => safeDecode(p).toLowerCase().includes(x.toLowerCase())),
  );
  return fc.oneof(
    // wrong or missing secret, any target
    fc
      .tuple(method, fc.oneof(fc.constantFrom(...t.awsTargets), pathJunk), wrongSecret(t.awsContainerToken, t.identityHeader))
      .map(([m, target, auth]) => ({
        method: m,
        path: `/v1/aws/credentials/${target}`,
        headers: header("authorization", auth),
        why: "aws container endpoint without the right Authorization",
      })),
    // the right secret, but a target that is not configured (no path tricks that would normalise to one)
    unknownTarget.map((target) => ({
      method: "GET",
      path: `/v1/aws/credentials/${target}`,
      headers: [["authorization", t.awsContainerToken]] as Array<[string, string]>,
      why: "aws container endpoint, unknown target",
    })),
  );
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function query(params: Array<[string, string | undefined]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of params) if (v !== undefined) q.append(k, v);
  return q.toString();
}

function azureAppService(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const resource = fc.oneof(
    fc.constantFrom(...t.azureResources),
    fc.constantFrom(...t.azureResources).map((r) => `${r}/`),
    ascii(60),
  );
  const unknownResource = ascii(60).filter((r) => !t.azureResources.includes(r.trim().replace(/\/+$/, "")));
  // Not empty: an empty parameter is an absent one, and then the default identity rightly answers.
  const unknownClient = fc.oneof(fc.uuid(), ascii(40)).filter((c) => c.trim() !== "" && !t.azureClientIds.includes(c.trim().toLowerCase()));
  return fc.oneof(
    fc
      .tuple(
        method,
        resource,
        fc.option(fc.constantFrom(...t.azureClientIds)),
        wrongSecret(t.identityHeader, t.awsContainerToken),
        fc.constantFrom("x-identity-header", "x-identity-header", "authorization", "secret", "x-identity"),
      )
      .map(([m, r, c, auth, name]) => ({
        method: m,
        path: `/v1/azure/msi/token?${query([
          ["api-version", "2019-08-01"],
          ["resource", r],
          ["client_id", c ?? undefined],
        ])}`,
        // The right secret under another header name is as good as none.
        headers: name === "x-identity-header" ? header(name, auth) : header(name, t.identityHeader),
        why: `app service endpoint, ${name === "x-identity-header" ? "wrong X-IDENTITY-HEADER" : `secret under ${name}`}`,
      })),
    fc
      .oneof(
        unknownResource.map((r) => ({ r, c: undefined as string | undefined })),
        unknownClient.map((c) => ({ r: t.azureResources[0]!, c })),
      )
      .map(({ r, c }) => ({
        method: "GET",
        path: `/v1/azure/msi/token?${query([
          ["api-version", "2019-08-01"],
          ["resource", r],
          ["client_id", c],
        ])}`,
        headers: [["x-identity-header", t.identityHeader]] as Array<[string, string]>,
        why: "app service endpoint, unknown resource or identity",
      })),
  );
}

function azureImds(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const notTrue = fc.oneof(
    fc.constant(undefined),
    ascii(20).filter((s) => s.trim().toLowerCase() !== "true"),
  );
  const foreignHost = fc.constantFrom(
    "evil.example",
    "evil.example:80",
    "10.0.0.1",
    "169.254.169.254.evil.example",
    "localhost.evil.example",
    "[2001:db8::1]",
    "0.0.0.0",
  );
  const path = fc.constantFrom("/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token/");
  const q = fc.constantFrom(...t.azureResources).map(
    (r) =>
      `?${query([
        ["api-version", "2018-02-01"],
        ["resource", r],
      ])}`,
  );
  return fc.oneof(
    fc
      .tuple(path, q, notTrue)
      .map(([p, qs, m]) => ({ method: "GET", path: `${p}${qs}`, headers: header("metadata", m), why: "imds without Metadata: true" })),
    fc.tuple(path, q, ascii(30)).map(([p, qs, xff]) => ({
      method: "GET",
      path: `${p}${qs}`,
      headers: [
        ["metadata", "true"],
        ["x-forwarded-for", xff || "1.2.3.4"],
      ] as Array<[string, string]>,
      why: "imds through a proxy (X-Forwarded-For)",
    })),
    fc.tuple(path, q, foreignHost).map(([p, qs, host]) => ({
      method: "GET",
      path: `${p}${qs}`,
      headers: [
        ["metadata", "true"],
        ["host", host],
      ] as Array<[string, string]>,
      why: "imds with a foreign Host (DNS rebinding)",
    })),
  );
}

function elsewhere(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const paths = fc.oneof(
    fc.constantFrom(
      "/",
      "/v1",
      "/v1/",
      "/v1/aws",
      "/v1/azure/msi",
      "/metadata",
      "/healthz",
      "/readyz",
      "/metrics",
      "/v1/token",
      "//v1/aws/credentials/main",
      "/V1/AWS/CREDENTIALS/main",
    ),
    pathJunk.map((p) => `/${p}`),
  );
  return fc.tuple(method, paths, wrongSecret(t.awsContainerToken, t.identityHeader)).map(([m, p, auth]) => ({
    method: m,
    path: p,
    headers: header("authorization", auth),
    why: "another path or method, no valid secret",
  }));
}

/** Requests to every credential endpoint (AWS container, App Service, IMDS, and the rest of the surface), all invalid. */
export function credentialRequests(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  return fc.oneof(awsContainer(t), azureAppService(t), azureImds(t), elsewhere(t));
}

type Params = Array<[string, string]>;
type Mutation = {
  why: string;
  apply(p: Params): Promise<Params> | Params;
  contentType?: string;
  body?: (p: Params) => string | Uint8Array;
};

const setParam = (p: Params, name: string, value: string): Params => p.map(([n, v]) => [n, n === name ? value : v]);
const REQUIRED = ["grant_type", "subject_token", "subject_token_type", "actor_token", "actor_token_type", "resource"];

function mutations(t: FuzzTarget): fc.Arbitrary<Mutation> {
  const which = fc.constantFrom("subject_token", "actor_token");
  const tokenOf = (name: string) => (name === "subject_token" ? t.subjectToken : t.actorToken);
  const list: Array<fc.Arbitrary<Mutation>> = [
    fc
      .tuple(which, fc.nat(), fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))
      .map(([name, at, ch]) => ({
        why: `${name} with one character changed`,
        apply: (p) => {
          const v = tokenOf(name);
          const i = at % (v.length - 2); // never the last two: their spare bits may not count
          return setParam(p, name, `${v.slice(0, i)}${v[i] === ch ? (ch === "A" ? "B" : "A") : ch}${v.slice(i + 1)}`);
        },
      })),
    fc
      .tuple(
        which,
        fc.oneof(ascii(300), fc.base64String({ maxLength: 400 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,60}(\.[A-Za-z0-9_-]{0,60}){0,5}$/)),
      )
      .map(([name, junk]) => ({
        why: `${name} replaced by junk`,
        apply: (p) => setParam(p, name, junk || "x"),
      })),
    fc
      .tuple(which, fc.constantFrom("A".repeat(9000), ".".repeat(10), ""))
      .map(([name, extra]) => ({ why: `${name} oversized or broken`, apply: (p) => setParam(p, name, `${tokenOf(name)}${extra || "."}`) })),
    ascii(60)
      .filter((g) => g !== TOKEN_EXCHANGE_GRANT)
      .map((g) => ({ why: "grant_type wrong", apply: (p: Params) => setParam(p, "grant_type", g || "client_credentials") })),
    fc.constantFrom(...REQUIRED).map((name) => ({ why: `${name} missing`, apply: (p: Params) => p.filter(([n]) => n !== name) })),
    fc.tuple(fc.constantFrom(...REQUIRED), fc.boolean(), ascii(40)).map(([name, same, other]) => ({
      why: `${name} repeated`,
      apply: (p: Params) => [...p, [name, same ? (p.find(([n]) => n === name)?.[1] ?? "x") : other || "x"]] as Params,
    })),
    fc
      .oneof(
        ascii(80).filter((r) => r !== t.roleArn),
        fc.constant(t.roleArn.replace(/role\/.*/, "role/admin")),
        fc.constant(`${t.roleArn} `),
      )
      .map((r) => ({
        why: "resource not allowed",
        apply: (p: Params) => setParam(p, "resource", r.trim() === t.roleArn ? `${r}x` : r || "x"),
      })),
    fc.constant<Mutation>({ why: "two targets", apply: (p) => [...p, ["audience", "blob"]] }),
    fc.tuple(fc.constantFrom("subject_token_type", "actor_token_type"), ascii(60)).map(([name, v]) => ({
      why: `${name} not a JWT type`,
      apply: (p: Params) =>
        setParam(p, name, v === JWT_TOKEN_TYPE || v === ACCESS_TOKEN_TYPE || v === "" ? "urn:ietf:params:oauth:token-type:saml2" : v),
    })),
    ascii(40).map((s) => ({ why: "a scope for an AWS target", apply: (p: Params) => [...p, ["scope", s || "s3"]] as Params })),
    fc.constant<Mutation>({
      why: "an Azure token type for an AWS target",
      apply: (p) => [...p, ["requested_token_type", ACCESS_TOKEN_TYPE]],
    }),
    fc
      .constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencodedx")
      .map((ct) => ({ why: `content-type ${ct}`, apply: (p: Params) => p, contentType: ct })),
    fc
      .uint8Array({ minLength: 1, maxLength: 2000 })
      .map((bytes) => ({ why: "a body of random bytes", apply: (p: Params) => p, body: () => bytes })),
    fc.constant<Mutation>({ why: "a body over 32 KiB", apply: (p) => [...p, ["padding", "x".repeat(40 * 1024)]] }),
  ];
  const keys = t.keys;
  if (keys) {
    const recorderUrl = t.recorderUrl ?? "http://127.0.0.1:9";
    list.push(
      fc.tuple(which, fc.constantFrom(...JWT_ATTACKS)).map(([name, attack]) => ({
        why: `${name}: ${attack.name}`,
        apply: async (p: Params) =>
          setParam(p, name, await attack.build(decodeJwt(tokenOf(name)), keys, { recorderUrl, innerToken: tokenOf(name) })),
      })),
    );
  }
  return fc.oneof(...list);
}

function formBody(params: Params): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

/** `POST /v1/token` requests built from valid ones with one to three invalidating mutations. */
export function tokenExchangeRequests(t: FuzzTarget): fc.Arbitrary<() => Promise<FuzzCase>> {
  const valid: Params = [
    ["grant_type", TOKEN_EXCHANGE_GRANT],
    ["subject_token", t.subjectToken],
    ["subject_token_type", JWT_TOKEN_TYPE],
    ["actor_token", t.actorToken],
    ["actor_token_type", JWT_TOKEN_TYPE],
    ["resource", t.roleArn],
  ];
  return fc.array(mutations(t), { minLength: 1, maxLength: 3 }).map((ms) => async () => {
    let params = valid;
    for (const m of ms) params = await m.apply(params);
    const raw = ms.find((m) => m.body)?.body?.(params);
    const contentType = ms.find((m) => m.contentType)?.contentType ?? "application/x-www-form-urlencoded";
    return {
      method: "POST",
      path: "/v1/token",
      headers: [["content-type", contentType]],
      body: raw ?? formBody(params),
      why: ms.map((m) => m.why).join(" + "),
    };
  });
}

/** The oracle: why this answer is wrong for an invalid request, or undefined. */
export function violation(res: RawResponse): string | undefined {
  if (res.status === 0) return `no answer (${res.error ?? "connection cut"}): did the broker crash?`;
  if (res.status >= 500) return `HTTP ${res.status}`;
  if (res.status >= 200 && res.status < 300 && carriesCredentials(res.body)) return `HTTP ${res.status} with credentials`;
  if (carriesCredentials(res.body)) return `credentials in a ${res.status} answer`;
  return undefined;
}

export interface FuzzStats {
  runs: number;
  statuses: Record<number, number>;
}

/**
 * Runs `numRuns` generated requests (credential endpoints and token exchange, half each) against
 * `baseUrl` (the credential listener) and `tokenUrl` (the agents' HTTPS listener); throws fast-check's report (seed, shrunk counterexample) on the first violation.
 */
export async function fuzzBroker(opts: {
  baseUrl: string;
  tokenUrl: string;
  target: FuzzTarget;
  numRuns: number;
  seed?: number;
  timeoutMs?: number;
}): Promise<FuzzStats> {
  const stats: FuzzStats = { runs: 0, statuses: {} };
  const check = async (req: FuzzCase, url = opts.baseUrl) => {
    const res = await send(url, req, opts.timeoutMs);
    if (res.status === -1) return; // Node's client refused to send it: nothing reached the broker
    stats.runs += 1;
    stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
    const wrong = violation(res);
    // The report names the case, never a credential it may have received.
    if (wrong)
      throw new Error(
        `${wrong} for ${req.method} ${req.path.slice(0, 200)} (${req.why}): ${carriesCredentials(res.body) ? "[body withheld: it holds credentials]" : res.body.slice(0, 300)}`,
      );
  };
  const half = Math.ceil(opts.numRuns / 2);
  const params = { numRuns: half, ...(opts.seed !== undefined && { seed: opts.seed }), endOnFailure: true };
  await fc.assert(
    fc.asyncProperty(credentialRequests(opts.target), (req) => check(req)),
    params,
  );
  await fc.assert(
    fc.asyncProperty(tokenExchangeRequests(opts.target), async (make) => check(await make(), opts.tokenUrl)),
    params,
  );
  return stats;
}
