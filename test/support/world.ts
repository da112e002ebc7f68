/**
 * The integration world's cloud side, shared by every test that puts the strict cloud emulators
 * behind a realm: a trust domain for one hand-made workload, its trust as `export-trust` writes it,
 * and the STS + Entra emulators loaded from that trust. Every STS session the emulators issue is
 * recorded for the run's log scan, so no test can forget it.
 *
 * @example
 * const config = oneWorkloadTrustDomain(domain, { realm, issuer, workload: { name: "orders", subject, awsRole: ROLE } });
 * const clouds = await startClouds(writeTrustExport(config, join(dir, "trust")));
 * // … clouds.sts.url, clouds.entra.url …
 * await clouds.close();
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadTrustExport, type TrustExport } from "../../admin-scripts/trust/artifacts.ts";
import { renderTrustFiles } from "../../admin-scripts/trust/export.ts";
import {
  startEntraEmulator,
  startStsEmulator,
  type EntraEmulator,
  type IssuedSession,
  type StsEmulator,
} from "../../deploy/local/cloud/index.ts";
import type { IssuerKeysOptions } from "../../deploy/local/cloud/common/issuer-keys.ts";
import type { Clock } from "../../deploy/local/cloud/common/types.ts";
import type { TrustDomainInfo } from "../../deploy/local/keycloak/trust-domain.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { TrustDomain } from "../../realm-config/model/schema.ts";
import { recordSecret } from "./log-scan.ts";

/** One workload with at most one AWS role and one Azure identity, authenticated by a client secret. */
export interface WorldWorkload {
  name: string;
  subject: string;
  awsRole?: string;
  azure?: { name?: string; tenantId: string; clientId: string; scopes: string[] };
}

/**
 * The trust domain of a realm a test made by hand (not applied by realm-sync): the first cluster of
 * the shared Keycloak trust domain, placeholder secrets (never resolved), one workload.
 */
export function oneWorkloadTrustDomain(
  domain: Pick<TrustDomainInfo, "clusters">,
  opts: { realm: string; issuer: string; workload: WorldWorkload },
): TrustDomain {
  const w = opts.workload;
  return TrustDomain.parse({
    version: 1,
    realm: opts.realm,
    issuer: opts.issuer,
    clusters: [{ name: "eu", adminUrl: domain.clusters[0]!.url, auth: { username: "admin", password: { env: "KCB_UNUSED" } } }],
    signingKeys: [
      {
        name: "main",
        certificate: { file: "unused.crt" },
        keystore: { file: "main.p12", passwordVault: "main-keystore" },
        status: "active",
      },
    ],
    workloads: [
      {
        name: w.name,
        subject: w.subject,
        authentication: { clientSecret: { env: "KCB_UNUSED" } },
        ...(w.awsRole && { aws: { roles: [{ arn: w.awsRole, maxSessionDuration: 3600 }] } }),
        ...(w.azure && {
          azure: {
            identities: [{ name: w.azure.name ?? w.name, tenantId: w.azure.tenantId, clientId: w.azure.clientId, scopes: w.azure.scopes }],
          },
        }),
      },
    ],
  });
}

/** Writes the files `export-trust` would write for `config` into `dir` and loads them back, as the emulators do. */
export function writeTrustExport(config: TrustDomain, dir: string): TrustExport {
  for (const file of renderTrustFiles(config)) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.text);
  }
  return loadTrustExport(dir);
}

export interface Clouds {
  sts: StsEmulator;
  entra: EntraEmulator;
  close(): Promise<void>;
}

export interface CloudsOptions {
  clock?: Clock;
  issuerKeys?: IssuerKeysOptions;
  /** The audience of the Entra emulator's protected API (default `api://kcb-emulator-resource`). */
  resource?: string;
}

/** For the STS emulator's `onSessionIssued`: the run's log scan looks for the session's secrets (a no-op outside the run). */
export function recordStsSession(session: IssuedSession): void {
  recordSecret("aws-secret-access-key", session.secretAccessKey);
  recordSecret("aws-session-token", session.sessionToken);
}

/** The strict STS (plain HTTP, the local issuer's port allowed) and Entra (HTTPS, local CA) emulators, loaded from `trust`. */
export async function startClouds(trust: TrustExport, opts: CloudsOptions = {}): Promise<Clouds> {
  const common = { trust, ...(opts.clock && { clock: opts.clock }), ...(opts.issuerKeys && { issuerKeys: opts.issuerKeys }) };
  const sts = await startStsEmulator({ ...common, allowIssuerPort: true, onSessionIssued: recordStsSession });
  try {
    const entra = await startEntraEmulator({ ...common, pki: await ensureLocalPki(), ...(opts.resource && { resource: opts.resource }) });
    return { sts, entra, close: async () => void (await Promise.all([sts.close(), entra.close()])) };
  } catch (error) {
    await sts.close();
    throw error;
  }
}
