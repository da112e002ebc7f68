/**
 * What realm-sync configures so that nothing issued by Keycloak can be stretched, checked against
 * the real Keycloak on both clusters: a workload token never carries the agents' audience and a
 * cloud audience together.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  AGENTS_AUDIENCE,
  AGENTS_SCOPE,
  AWS_AUDIENCE,
  AWS_SCOPE,
  AZURE_AUDIENCE,
  AZURE_SCOPE,
} from "../../realm-config/model/conventions.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";

const domain = inject("trustDomain");
const CLUSTERS = domain.clusters.map((c) => c.name);
const SECRET = randomClientSecret();
const TENANT = "8f3a1c52-6b0e-4d7a-9c21-5e4b7a9d0f13";
const AZ_CLIENT = "5d1f7a30-9e4c-4b62-a7d8-0c3e5f1b2a96";

let fx: RealmFixture;

type TokenAnswer = { ok: true; claims: Record<string, unknown> } | { ok: false; status: number; error: string };

async function clientCredentials(cluster: string, params: Record<string, string>): Promise<TokenAnswer> {
  const res = await fetch(fx.tokenEndpoint(cluster), {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", ...params }),
  });
  const body = (await res.json()) as { access_token?: string; error?: string };
  if (!body.access_token) return { ok: false, status: res.status, error: body.error ?? "" };
  return {
    ok: true,
    claims: JSON.parse(Buffer.from(body.access_token.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>,
  };
}

const audiences = (claims: Record<string, unknown>): unknown[] => [claims.aud].flat().filter((a) => a !== undefined);

beforeAll(async () => {
  fx = await createRealmFixture({
    domain,
    prefix: "boundaries",
    files: { "etl.secret": SECRET },
    workloads: [
      {
        name: "etl",
        subject: "workload:etl",
        authentication: { clientSecret: { file: "etl.secret" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/etl" }] },
        azure: {
          identities: [{ name: "etl-storage", tenantId: TENANT, clientId: AZ_CLIENT, scopes: ["https://storage.azure.com/.default"] }],
        },
      },
    ],
  });
  await fx.apply();
});

afterAll(async () => {
  await fx?.remove();
});

describe("a workload token carries one audience: the agents' or a cloud's, never both", () => {
  it.each([
    [`${AGENTS_SCOPE} ${AWS_SCOPE}`, AWS_AUDIENCE],
    [`${AWS_SCOPE} ${AGENTS_SCOPE}`, AWS_AUDIENCE],
    [`${AGENTS_SCOPE} ${AZURE_SCOPE}`, AZURE_AUDIENCE],
    [`${AGENTS_SCOPE} ${AWS_SCOPE} ${AZURE_SCOPE}`, AWS_AUDIENCE],
  ])("scope=%s on every cluster", async (scope, cloudAudience) => {
    for (const cluster of CLUSTERS) {
      const answer = await clientCredentials(cluster, { client_id: "etl", client_secret: SECRET, scope });
      // Keycloak may refuse the combination; if it issues a token, that token has exactly one audience.
      if (!answer.ok) {
        expect(answer.status).toBe(400);
        continue;
      }
      const aud = audiences(answer.claims);
      expect(aud, `${cluster}: aud of scope=${scope}`).toHaveLength(1);
      expect(aud.includes(AGENTS_AUDIENCE) && aud.includes(cloudAudience)).toBe(false);
    }
  });

  it("each scope alone still gives its own audience, exactly", async () => {
    for (const cluster of CLUSTERS) {
      for (const [scope, aud] of [
        [AGENTS_SCOPE, AGENTS_AUDIENCE],
        [AWS_SCOPE, AWS_AUDIENCE],
        [AZURE_SCOPE, AZURE_AUDIENCE],
      ] as const) {
        const answer = await clientCredentials(cluster, { client_id: "etl", client_secret: SECRET, scope });
        expect(answer.ok && answer.claims).toMatchObject({ aud, sub: "workload:etl", azp: "etl", typ: "Bearer" });
      }
    }
  });
});
