/**
 * Admin-API failures → RealmSyncError, naming the cluster and what was being done. Never includes
 * request bodies (they may hold secrets), only Keycloak's own error message.
 */
import { NetworkError } from "@keycloak/keycloak-admin-client";
import { RealmSyncError, type RealmSyncErrorCode } from "../errors.ts";

/** HTTP status of an admin-API failure, if it got that far. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof NetworkError ? error.response.status : undefined;
}

function keycloakMessage(error: NetworkError): string {
  const data = error.responseData as { errorMessage?: unknown; error_description?: unknown; error?: unknown } | string | undefined;
  if (typeof data === "object" && data !== null) {
    for (const v of [data.errorMessage, data.error_description, data.error]) if (typeof v === "string" && v) return v;
  }
  return error.message;
}

function networkCause(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  if ((error as Error).name === "TimeoutError" || (error as Error).name === "AbortError") return "timeout";
  return undefined;
}

/** Wraps any failure of a call to a cluster; `code` is used for HTTP refusals (default CLUSTER_REJECTED). */
export function clusterError(
  cluster: string,
  doing: string,
  error: unknown,
  code: RealmSyncErrorCode = "CLUSTER_REJECTED",
): RealmSyncError {
  if (error instanceof RealmSyncError) return error;
  if (error instanceof NetworkError) {
    const status = error.response.status;
    // 403: signed in, but this identity may not do this (e.g. the view-only identity asked to write).
    if (status === 403)
      return new RealmSyncError(
        "CLUSTER_FORBIDDEN",
        `cluster ${cluster}: ${doing}: HTTP 403: the identity realm-sync signed in with lacks the role for this (apply needs the write identity, clusters[].auth.apply; \`realm-sync bootstrap-identities\` gives each identity its roles)`,
        { cluster, cause: error },
      );
    const authCode: RealmSyncErrorCode = status === 401 ? "CLUSTER_AUTH_FAILED" : code;
    return new RealmSyncError(authCode, `cluster ${cluster}: ${doing}: HTTP ${status} ${keycloakMessage(error)}`, {
      cluster,
      cause: error,
    });
  }
  const net = networkCause(error);
  if (net || error instanceof TypeError) {
    return new RealmSyncError("CLUSTER_UNREACHABLE", `cluster ${cluster}: ${doing}: unreachable (${net ?? (error as Error).message})`, {
      cluster,
      cause: error,
    });
  }
  return new RealmSyncError("INTERNAL", `cluster ${cluster}: ${doing}: ${(error as Error).message ?? String(error)}`, {
    cluster,
    cause: error,
  });
}
