/**
 * How realm-sync finds users in bulk (pure). Keycloak 26.7's admin `GET /users?search=` looks up
 * several users at once when the search starts with `id:` or `username:` and lists the terms
 * separated by whitespace (one answer, no paging), so the service-account users of 500 managed
 * clients and the users whose id is a managed subject take a few calls instead of one each.
 *
 * Nothing here is trusted blindly: a term that cannot go in a batch (empty, or holding whitespace)
 * is looked up alone, and a batch of ids also asks for a user known to exist (the canary); an
 * answer without it means the server searched the terms as one string, and those ids are looked
 * up one by one.
 */

/** Keycloak's username of a client's service-account user (usernames are stored in lower case). */
export function serviceAccountUsername(clientId: string): string {
  return `service-account-${clientId}`.toLowerCase();
}

/**
 * Encoded length of one `search` query value that Keycloak (Quarkus' 4096-byte request line by
 * default) accepts with room for the path and the other parameters.
 */
export const SEARCH_BUDGET = 2500;

/** A term Keycloak would split or could not match: looked up alone. */
export function batchable(term: string): boolean {
  return term.length > 0 && !/\s/.test(term);
}

/** The `search` value of one batch, e.g. `id:a b c`. */
export function searchValue(prefix: "id:" | "username:", terms: readonly string[]): string {
  return `${prefix}${terms.join(" ")}`;
}

/**
 * Splits `terms` into batches whose `search` value, URL-encoded, stays within `budget`, and of at
 * most ⌈terms / spread⌉ terms each, so that `spread` calls in flight share the work (Keycloak looks
 * a batch's terms up one after the other on one thread); `fixed` (the canary) goes first in every
 * batch. Terms that are not batchable are left out (see `batchable`); a term alone over the budget
 * gets a batch of its own.
 */
export function searchBatches(
  prefix: "id:" | "username:",
  terms: readonly string[],
  opts: { fixed?: string; budget?: number; spread?: number } = {},
): string[][] {
  const budget = opts.budget ?? SEARCH_BUDGET;
  const head = opts.fixed === undefined ? [] : [opts.fixed];
  const size = (list: readonly string[]) => encodeURIComponent(searchValue(prefix, list)).length;
  const unique = [...new Set(terms)].filter((t) => batchable(t) && t !== opts.fixed);
  const most = Math.max(1, Math.ceil(unique.length / Math.max(1, opts.spread ?? 1)));
  const out: string[][] = [];
  let current = [...head];
  for (const term of unique) {
    const full = current.length - head.length >= most || size([...current, term]) > budget;
    if (current.length > head.length && full) {
      out.push(current);
      current = [...head];
    }
    current.push(term);
  }
  if (current.length > head.length) out.push(current);
  return out;
}

/** The ids of one `id:` batch the server did not answer as a list (no canary in the answer): looked up one by one. */
export function unansweredIds(batch: readonly string[], canary: string, foundIds: ReadonlySet<string>): string[] {
  return foundIds.has(canary) ? [] : batch.filter((id) => id !== canary);
}
