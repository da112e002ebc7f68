/**
 * Property: whatever malformed request or token reaches the endpoint, the answer is a 4xx OAuth
 * error — never a 5xx, never a credential — and exactly one audit event that holds no token.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createTokenExchangeApp } from "../../../../broker/agents/app.ts";
import { JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "../../../../broker/agents/protocol.ts";
import {
  AWS_SECRET,
  AWS_SESSION_TOKEN,
  AZURE_ACCESS_TOKEN,
  ISSUER,
  NOW,
  ROLE,
  actorToken,
  claims,
  fakeDeps,
  makeKeys,
  signRaw,
  subjectToken,
  type Keys,
} from "../../../support/fixtures/agents.ts";

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});

type Params = Array<[string, string]>;
type Mutation = (params: Params, k: Keys) => Params;

const PARAMS = [
  "grant_type",
  "subject_token",
  "subject_token_type",
  "actor_token",
  "actor_token_type",
  "resource",
  "audience",
  "scope",
  "requested_token_type",
];

function validParams(k: Keys): Params {
  return [
    ["grant_type", TOKEN_EXCHANGE_GRANT],
    ["subject_token", subjectToken(k)],
    ["subject_token_type", JWT_TOKEN_TYPE],
    ["actor_token", actorToken(k)],
    ["actor_token_type", JWT_TOKEN_TYPE],
    ["resource", ROLE],
  ];
}

const set = (params: Params, name: string, value: string): Params => params.map(([n, v]) => [n, n === name ? value : v]);
const which = fc.constantFrom("subject_token", "actor_token");
const junk = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.base64String({ maxLength: 400 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,60}(\.[A-Za-z0-9_-]{0,60}){0,5}$/),
);

/** Each mutation is guaranteed to make the request unacceptable. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // a character of a signed token changed (never the last two, whose spare bits may not matter)
  fc.tuple(which, fc.nat(), fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")).map(
    ([name, at, ch]): Mutation =>
      (params) =>
        params.map(([n, v]) => {
          if (n !== name) return [n, v];
          const i = at % (v.length - 2);
          const replacement = v[i] === ch ? (ch === "A" ? "B" : "A") : ch;
          return [n, `${v.slice(0, i)}${replacement}${v.slice(i + 1)}`] as [string, string];
        }),
  ),
  // a token replaced by junk
  fc.tuple(which, junk).map(
    ([name, value]): Mutation =>
      (params) =>
        set(params, name, value),
  ),
  // a validly signed token with a forbidden header
  fc
    .tuple(
      which,
      fc.constantFrom<Record<string, unknown>>(
        { alg: "none", kid: "k1" },
        { alg: "RS256", kid: "k1", jku: "https://evil.example/jwks" },
        { alg: "RS256", kid: "k1", x5u: "https://evil.example/c" },
        { alg: "RS256", kid: "k1", x5c: ["MII"] },
        { alg: "RS256", kid: "k1", crit: ["x"], x: 1 },
        { alg: "RS256", kid: "k1", cty: "JWT" },
        { alg: "RS256", kid: "../k1" },
        { alg: "RS256" },
        { alg: "RS256", kid: "unknown" },
      ),
    )
    .map(
      ([name, header]): Mutation =>
        (params, k) =>
          set(params, name, signRaw(header, claims({ sub: "wl-billing", azp: "agent-copilot" }), k.rsa)),
    ),
  // HS256 keyed with the public key
  which.map(
    (name): Mutation =>
      (params, k) =>
        set(
          params,
          name,
          signRaw(
            { alg: "HS256", kid: "k1" },
            claims({ sub: "wl-billing", azp: "agent-copilot" }),
            k.rsaPublic.export({ type: "spki", format: "pem" }).toString(),
          ),
        ),
  ),
  // validly signed, but a claim that must not pass
  fc
    .tuple(
      which,
      fc.oneof(
        fc.string({ maxLength: 30 }).map((s) => ({ iss: `https://evil.example/${s}` })),
        fc.string({ maxLength: 30 }).map((s) => ({ aud: `x-${s}` })),
        fc.integer({ min: 61, max: 10_000_000 }).map((ago) => ({ iat: NOW / 1000 - ago - 600, exp: NOW / 1000 - ago })),
        fc.string({ maxLength: 30 }).map((s) => ({ sub: `x-${s}`, azp: `x-${s}` })),
      ),
    )
    .map(
      ([name, bad]): Mutation =>
        (params, k) =>
          set(params, name, name === "subject_token" ? subjectToken(k, bad) : actorToken(k, bad)),
    ),
  // signed by a foreign key
  which.map(
    (name): Mutation =>
      (params, k) =>
        set(params, name, signRaw({ alg: "RS256", kid: "k1" }, claims({ sub: "wl-billing", azp: "agent-copilot" }), k.foreign)),
  ),
  // a required parameter dropped
  fc.constantFrom("grant_type", "subject_token", "subject_token_type", "actor_token", "resource").map(
    (name): Mutation =>
      (params) =>
        params.filter(([n]) => n !== name),
  ),
  // a parameter repeated
  fc.tuple(fc.constantFrom(...PARAMS), junk).map(([name, value]): Mutation => (params) => [...params, [name, value], [name, value]]),
  // a wrong value for a protocol parameter
  fc
    .tuple(
      fc.constantFrom("grant_type", "subject_token_type", "actor_token_type", "resource", "requested_token_type"),
      fc.string({ maxLength: 80 }),
    )
    .map(([name, value]): Mutation => (params) => [...params.filter(([n]) => n !== name), [name, `x${value}`]]),
  // an oversized token
  which.map(
    (name): Mutation =>
      (params) =>
        set(params, name, "e".repeat(9000)),
  ),
);

const SECRETS = [AWS_SECRET, AWS_SESSION_TOKEN, AZURE_ACCESS_TOKEN];

async function expectRefusal(body: string, contentType: string, k: Keys): Promise<void> {
  const { deps, recorded } = fakeDeps(k);
  const response = await createTokenExchangeApp(deps).request("/v1/token", {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  const text = await response.text();
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  const json = JSON.parse(text) as Record<string, unknown>;
  expect(Object.keys(json).sort()).toEqual(["error", "error_description"]);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  expect(recorded.assumeRole).toEqual([]);
  expect(recorded.azureToken).toEqual([]);
  expect(recorded.audit).toHaveLength(1);
  const audited = JSON.stringify(recorded.audit);
  for (const [name, value] of new URLSearchParams(body)) {
    if (name.endsWith("_token") && value.length > 20) expect(audited).not.toContain(value);
  }
}

describe("property: malformed requests never get a 5xx or a credential", () => {
  it("(control) the unmutated request is accepted, so each refusal comes from a mutation", async () => {
    const { deps } = fakeDeps(keys);
    const body = validParams(keys)
      .map(([n, v]) => `${n}=${encodeURIComponent(v)}`)
      .join("&");
    const response = await createTokenExchangeApp(deps).request("/v1/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(response.status).toBe(200);
  });

  it("a valid request with one to three breaking mutations", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const params = mutations.reduce((p, m) => m(p, keys), validParams(keys));
        const body = params.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join("&");
        await expectRefusal(body, "application/x-www-form-urlencoded", keys);
      }),
      { numRuns: 400 },
    );
  });

  it("arbitrary bodies and content types", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 2000 }),
          fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b).toString("latin1")),
          fc.webQueryParameters(),
        ),
        fc.constantFrom(
          "application/x-www-form-urlencoded",
          "application/x-www-form-urlencoded; charset=utf-8",
          "application/json",
          "text/plain",
          "",
        ),
        async (body, contentType) => {
          await expectRefusal(body, contentType, keys);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("keeps the issuer pinned whatever the issuer-like strings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.webUrl(), async (iss) => {
        fc.pre(iss !== ISSUER);
        const params = set(validParams(keys), "subject_token", subjectToken(keys, { iss }));
        await expectRefusal(params.map(([n, v]) => `${n}=${encodeURIComponent(v)}`).join("&"), "application/x-www-form-urlencoded", keys);
      }),
      { numRuns: 100 },
    );
  });
});
