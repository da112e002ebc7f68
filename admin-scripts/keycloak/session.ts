/**
 * A signed-in admin session on one cluster: the admin client, with a token provider that renews
 * the master-realm token before it expires (admin-cli tokens live 60 s by default, an apply of
 * hundreds of clients takes longer).
 */
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { RealmSyncError } from "../errors.ts";
import { clusterError } from "./errors.ts";

/** How realm-sync signs in to a cluster's master realm; secrets already resolved. */
export type AdminCredentials = { username: string; password: string } | { clientId: string; clientSecret: string };

export interface ClusterTarget {
  name: string;
  /** Base URL of the cluster (admin API and token endpoint). */
  adminUrl: string;
  credentials: AdminCredentials;
}

export interface ClusterSession {
  name: string;
  url: string;
  admin: KcAdminClient;
}

const RENEW_BEFORE_MS = 15_000;
const REQUEST_TIMEOUT_MS = 60_000;

async function requestToken(target: ClusterTarget, fetchImpl: typeof fetch): Promise<{ token: string; expiresAt: number }> {
  const body =
    "username" in target.credentials
      ? new URLSearchParams({
          grant_type: "password",
          client_id: "admin-cli",
          username: target.credentials.username,
          password: target.credentials.password,
        })
      : new URLSearchParams({
          grant_type: "client_credentials",
          client_id: target.credentials.clientId,
          client_secret: target.credentials.clientSecret,
        });
  let res: Response;
  try {
    res = await fetchImpl(`${target.adminUrl.replace(/\/$/, "")}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw clusterError(target.name, "signing in", error);
  }
  const json = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    expires_in?: number;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !json.access_token) {
    const why = json.error_description ?? json.error ?? `HTTP ${res.status}`;
    throw new RealmSyncError("CLUSTER_AUTH_FAILED", `cluster ${target.name}: signing in to the master realm failed: ${why}`, {
      cluster: target.name,
    });
  }
  return { token: json.access_token, expiresAt: Date.now() + (json.expires_in ?? 60) * 1000 };
}

/** Signs in to a cluster (fails fast with CLUSTER_UNREACHABLE / CLUSTER_AUTH_FAILED) and returns the session. */
export async function openSession(target: ClusterTarget, opts: { fetch?: typeof fetch } = {}): Promise<ClusterSession> {
  const fetchImpl = opts.fetch ?? fetch;
  let current = await requestToken(target, fetchImpl);
  let renewing: Promise<void> | undefined;
  const admin = new KcAdminClient({ baseUrl: target.adminUrl.replace(/\/$/, ""), realmName: "master", timeout: REQUEST_TIMEOUT_MS });
  admin.registerTokenProvider({
    async getAccessToken() {
      if (current.expiresAt - Date.now() < RENEW_BEFORE_MS) {
        renewing ??= requestToken(target, fetchImpl)
          .then((t) => {
            current = t;
          })
          .finally(() => {
            renewing = undefined;
          });
        await renewing;
      }
      return current.token;
    },
  });
  return { name: target.name, url: target.adminUrl.replace(/\/$/, ""), admin };
}
