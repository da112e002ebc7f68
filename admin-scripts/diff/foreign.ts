/**
 * What realm-sync does not own but that reaches what it does: anything else in the realm that
 * would put a managed workload's `sub` in a token (AWS and Entra trust a token by its `iss`, `sub`
 * and `aud`), and a server feature that grants exchanges outside the clients' settings. Pure.
 *
 * A token of the realm carries a managed workload's `sub` when
 *   - a protocol mapper of another client, or of a client scope realm-sync does not manage, writes
 *     the claim `sub`: a hardcoded value equal to a managed subject, or a value taken from the user
 *     or the session (realm-sync cannot rule out that it equals one, so it is flagged as well);
 *   - a user's id is a managed subject (Keycloak's own `sub` mapper writes the user's id): a user
 *     imported with that id, or the service account of another client.
 * Each becomes a `foreign` change: apply leaves it alone (it belongs to someone) and fails until it
 * is removed; plan and check report it (exit 3), naming the object.
 */
import { LOCK_CLIENT_ID, SUB_MAPPER } from "../desired/names.ts";
import { LEGACY_TOKEN_EXCHANGE_FEATURE } from "../desired/grants.ts";
import type { DesiredState } from "../desired/types.ts";
import type { Change, ResourceKind } from "./changes.ts";
import type { LiveMapper, LiveState } from "./live.ts";
import { MANAGED_ATTRIBUTE, MANAGED_VALUE } from "../../realm-config/model/conventions.ts";

const HARDCODED_CLAIM = "oidc-hardcoded-claim-mapper";

/** Managed subject → the managed clients whose tokens carry it. */
export function managedSubjects(desired: Pick<DesiredState, "clients">): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of desired.clients) {
    const sub = c.mappers.find((m) => m.name === SUB_MAPPER)?.config["claim.value"];
    if (sub !== undefined) out.set(sub, [...(out.get(sub) ?? []), c.clientId]);
  }
  return out;
}

const isManaged = (attributes: Record<string, string>): boolean => attributes[MANAGED_ATTRIBUTE] === MANAGED_VALUE;

function mapperReason(m: LiveMapper, subjects: Map<string, string[]>): string | undefined {
  if (m.config["claim.name"] !== "sub") return undefined;
  if (m.protocolMapper === HARDCODED_CLAIM) {
    const value = m.config["claim.value"] ?? "";
    const owners = subjects.get(value);
    return owners
      ? `mapper "${m.name}" sets sub to ${JSON.stringify(value)}, the subject of ${owners.join(", ")}: its tokens pass for that workload`
      : undefined;
  }
  return `mapper "${m.name}" (${m.protocolMapper}) sets sub from user or session data: it can emit a managed workload's subject`;
}

/** The `foreign` changes of one cluster (empty when nothing else emits a managed `sub`). */
export function foreignChanges(desired: Pick<DesiredState, "clients">, live: LiveState): Change[] {
  const subjects = managedSubjects(desired);
  const out: Change[] = [];
  const flag = (kind: ResourceKind, name: string, id: string, reason: string) => out.push({ op: "foreign", kind, name, id, reason });

  if (live.server?.enabledFeatures.includes(LEGACY_TOKEN_EXCHANGE_FEATURE)) {
    flag(
      "realm",
      live.realm?.realm ?? "(server)",
      live.realm?.id ?? "",
      "the server runs the legacy token exchange (feature token-exchange, v1): it grants exchanges by per-client permissions realm-sync does not compare; disable the feature",
    );
  }
  for (const c of live.clients) {
    if (isManaged(c.attributes) || c.clientId === LOCK_CLIENT_ID) continue;
    for (const m of c.mappers) {
      const reason = mapperReason(m, subjects);
      if (reason) flag("client", c.clientId, c.id, reason);
    }
  }
  for (const s of live.clientScopes) {
    if (isManaged(s.attributes)) continue;
    for (const m of s.mappers) {
      const reason = mapperReason(m, subjects);
      if (reason) flag("clientScope", s.name, s.id, reason);
    }
  }
  for (const u of live.subjectUsers) {
    const owners = subjects.get(u.id)?.join(", ") ?? "a managed workload";
    flag(
      "user",
      u.username,
      u.id,
      `its id is ${JSON.stringify(u.id)}, the subject of ${owners}: Keycloak's sub mapper puts it in this user's tokens (a service account's: its client's)`,
    );
  }
  return out;
}
