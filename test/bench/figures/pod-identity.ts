/**
 * Figure "pods": client-credentials grants per second of a Kubernetes workload with the Keycloak
 * extension (its `kubernetes-pod` provider and pod mapper, configured by realm-sync from
 * `kubernetesIssuers`) against the same workload in a realm using Keycloak's own `kubernetes`
 * provider, on the same cluster, in the same run. Rounds alternate (A B B A …) so drift in the
 * machine's load hits both sides alike. Every grant carries a fresh service-account assertion
 * (minted before the clock starts), as pods send them.
 */
import { startKubeIssuer, type KubeIssuer } from "../../../deploy/local/issuer/kube-issuer.ts";
import { createRealmFixture, type RealmFixture } from "../../support/realm-fixture.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { atLeast, ratio } from "../report/targets.ts";
import type { FigureContext } from "./serving.ts";

const CONCURRENCY = 8;

interface Side {
  name: string;
  fx: RealmFixture;
  tokenUrl: string;
  grants: number;
  ms: number;
  failed: number;
}

async function realm(ctx: FigureContext, kube: KubeIssuer, prefix: string, withExtension: boolean): Promise<RealmFixture> {
  const fx = await createRealmFixture({
    domain: ctx.world.domain.info,
    prefix,
    clusters: [ctx.world.domain.info.clusters[0]!.name],
    workloads: [
      {
        name: "orders-api",
        subject: "workload:orders-api",
        authentication: { kubernetes: { issuer: kube.issuer, serviceAccount: "system:serviceaccount:orders:orders-api" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/orders-api" }], sessionTags: { team: "orders" } },
      },
    ],
  });
  if (withExtension) {
    fx.writeConfig((doc) => {
      doc.kubernetesIssuers = [{ issuer: kube.issuer, clusterName: "bench-1", requirePodBinding: true }];
    });
  }
  await fx.apply();
  return fx;
}

/** Sends `assertions` as client-credentials grants, CONCURRENCY at a time; returns the wall time. */
async function round(side: Side, assertions: string[]): Promise<void> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < assertions.length) {
        const assertion = assertions[next++]!;
        const res = await fetch(side.tokenUrl, {
          method: "POST",
          body: new URLSearchParams({
            grant_type: "client_credentials",
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: assertion,
            scope: "kcb-aws",
          }),
        });
        const body = (await res.json()) as { access_token?: string };
        if (body.access_token) side.grants++;
        else side.failed++;
      }
    }),
  );
  side.ms += performance.now() - started;
}

export async function podIdentityFigure(ctx: FigureContext): Promise<Row[]> {
  const { world, log, quick } = ctx;
  const perRound = quick ? 100 : 400;
  const rounds = quick ? 2 : 6;
  const kube = await startKubeIssuer({ pki: world.pki });
  const fixtures: RealmFixture[] = [];
  try {
    log("figure pods: two realms on one cluster, with the extension's provider + mapper and with Keycloak's kubernetes provider");
    const cluster = world.domain.info.clusters[0]!.name;
    const sides: Side[] = [];
    for (const [name, withExtension] of [
      ["extension", true],
      ["built-in", false],
    ] as const) {
      const fx = await realm(ctx, kube, `bench-pods-${name === "extension" ? "ext" : "kc"}`, withExtension);
      fixtures.push(fx);
      sides.push({ name, fx, tokenUrl: fx.tokenEndpoint(cluster), grants: 0, ms: 0, failed: 0 });
    }
    const [ext, base] = sides as [Side, Side];
    const mint = (fx: RealmFixture, i: number) =>
      kube.mintToken({ namespace: "orders", serviceAccount: "orders-api", audience: fx.issuer, pod: { name: `orders-api-${i}` } });
    // Warm-up: JWKS fetch, class loading, JIT on both sides.
    for (const side of sides) await round(side, await Promise.all(Array.from({ length: 50 }, (_, i) => mint(side.fx, i))));
    for (const side of sides) Object.assign(side, { grants: 0, ms: 0, failed: 0 });
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [ext, base] : [base, ext];
      for (const side of order) {
        const assertions = await Promise.all(Array.from({ length: perRound }, (_, i) => mint(side.fx, r * perRound + i)));
        await round(side, assertions);
      }
    }
    const rate = (s: Side) => (s.grants * 1000) / s.ms;
    const value = ext.failed + base.failed === 0 ? ratio(rate(ext), rate(base)) : Number.NaN;
    log(`figure pods: extension ${rate(ext).toFixed(0)}/s, built-in ${rate(base).toFixed(0)}/s`);
    return [
      measuredRow({
        id: "pods-ratio",
        figure: "pods",
        title: "client-credentials grants/s with the Keycloak extension / Keycloak's kubernetes provider",
        value,
        shown: Number.isNaN(value) ? "—" : value.toFixed(2),
        target: atLeast(0.95),
        details: [
          `extension (kubernetes-pod provider + pod mapper): ${rate(ext).toFixed(1)} grants/s (${ext.grants} grants, ${ext.failed} refused)`,
          `baseline, same cluster, same run (Keycloak's kubernetes provider, no mapper): ${rate(base).toFixed(1)} grants/s (${base.grants} grants, ${base.failed} refused)`,
          `${rounds} alternating rounds of ${perRound} grants per side, ${CONCURRENCY} in flight, a fresh pod-bound assertion per grant, cluster ${cluster}`,
        ],
      }),
    ];
  } finally {
    await Promise.all(fixtures.map((fx) => fx.remove()));
    await kube.close();
  }
}
