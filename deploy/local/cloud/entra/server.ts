/**
 * The strict Entra ID emulator as a running HTTPS server (MSAL refuses non-https authorities).
 *
 * @example
 * const entra = await startEntraEmulator({ trust: loadTrustExport(dir), pki });
 * const credential = new ClientAssertionCredential(tenantId, clientId, getAssertion, {
 *   authorityHost: entra.url, disableInstanceDiscovery: true,
 * });
 * const { token } = await credential.getToken(`${entra.resource}/.default`);
 * await fetch(`${entra.url}/resource/whoami`, { headers: { authorization: `Bearer ${token}` } });
 */
import type { TrustExport } from "../../../../admin-scripts/trust/artifacts.ts";
import type { LocalPki } from "../../pki/local-pki.ts";
import { createIssuerKeys, type IssuerKeys, type IssuerKeysOptions } from "../common/issuer-keys.ts";
import { serveApp } from "../common/serve.ts";
import { systemClock, type Clock } from "../common/types.ts";
import { createTokenSigner, type AccessTokenClaims } from "./access-token.ts";
import {
  createEntraApp,
  type EntraCall,
  type EntraFaultKind,
  type EntraFaultState,
  type IssuedAccessToken,
  type ResourceCall,
} from "./app.ts";

export interface EntraEmulatorOptions {
  trust: TrustExport;
  /** The local CA and server certificate to serve HTTPS with. */
  pki: LocalPki;
  clock?: Clock;
  issuerKeys?: IssuerKeysOptions;
  clockToleranceSec?: number;
  /** Audience accepted by `/resource/whoami`. Default `api://kcb-emulator-resource`. */
  resource?: string;
  /** Lifetime of issued access tokens. Default 3599 s (as Entra's `expires_in`). */
  tokenLifetimeSec?: number;
  port?: number;
}

export interface EntraEmulator {
  /** The authority host (`authorityHost` / `AZURE_AUTHORITY_HOST`), `https://localhost:<port>`. */
  url: string;
  /** The resource of the protected test API; request the scope `${resource}/.default`. */
  resource: string;
  close(): Promise<void>;
  readonly calls: readonly EntraCall[];
  readonly issued: readonly IssuedAccessToken[];
  readonly resourceCalls: readonly ResourceCall[];
  /** `METHOD /path` of every request, in order (what MSAL or azure-identity fetched). */
  readonly requests: readonly string[];
  /** Makes the next `times` token requests (all, when absent) fail with this fault; `undefined` clears it. */
  setFault(kind: EntraFaultKind | undefined, times?: number): void;
  readonly issuerKeys: IssuerKeys;
  /**
   * Checks an access token as an Azure resource does: this emulator's signature, issuer
   * `<authority>/<tenant>/v2.0`, `aud` = `audience`, `exp`/`nbf` at `atMs` (default: now by the
   * emulator's clock; a resource API passes its own). The claims, or `undefined`.
   */
  verifyAccessToken(token: string, audience: string, atMs?: number): Promise<AccessTokenClaims | undefined>;
}

/** Validates the FICs as Microsoft Graph would accept them: at most 20 per application, exact strings. */
function checkFics(trust: TrustExport): void {
  const perApp = new Map<string, number>();
  for (const f of trust.azure.federatedCredentials) {
    if (!f.issuer.startsWith("https://")) throw new TypeError(`FIC ${f.name}: issuer must be an https URL`);
    if (f.audiences.length !== 1) throw new TypeError(`FIC ${f.name}: exactly one audience is allowed`);
    if (f.subject.length === 0 || f.subject.length > 600) throw new TypeError(`FIC ${f.name}: subject must be 1-600 characters`);
    const key = `${f.tenantId}/${f.clientId}`;
    perApp.set(key, (perApp.get(key) ?? 0) + 1);
    if (perApp.get(key)! > 20) throw new TypeError(`application ${key}: more than 20 federated identity credentials`);
  }
}

export async function startEntraEmulator(opts: EntraEmulatorOptions): Promise<EntraEmulator> {
  checkFics(opts.trust);
  const clock = opts.clock ?? systemClock;
  const keys = createIssuerKeys({ clock, ...opts.issuerKeys });
  const signer = await createTokenSigner();
  const resource = opts.resource ?? "api://kcb-emulator-resource";
  const calls: EntraCall[] = [];
  const issued: IssuedAccessToken[] = [];
  const resourceCalls: ResourceCall[] = [];
  const requests: string[] = [];
  const fault: EntraFaultState = { kind: undefined, remaining: undefined };
  const app = createEntraApp({
    fics: opts.trust.azure.federatedCredentials,
    keys,
    signer,
    clock,
    resource,
    tokenLifetimeSec: opts.tokenLifetimeSec ?? 3599,
    clockToleranceSec: opts.clockToleranceSec,
    calls,
    issued,
    resourceCalls,
    requests,
    fault,
  });
  const served = await serveApp(app, { pki: opts.pki, port: opts.port });
  return {
    url: served.url,
    resource,
    close: () => served.close(),
    calls,
    issued,
    resourceCalls,
    requests,
    setFault(kind, times) {
      fault.kind = kind;
      fault.remaining = kind ? times : undefined;
    },
    issuerKeys: keys,
    verifyAccessToken: (token, audience, atMs) =>
      signer.verify(token, {
        issuerFor: (tenant) => `${served.url}/${tenant}/v2.0`,
        audience,
        nowSeconds: Math.floor((atMs ?? clock()) / 1000),
      }),
  };
}
