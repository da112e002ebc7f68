/**
 * Which pages of a list to ask for at once (pure). Keycloak builds a page's representations on one
 * thread while it streams the answer, and a client it has not cached yet (all of them, right after
 * an apply created them) is loaded from its database there: one page of 500 new clients took
 * 33 s on a loaded machine. Pages of 100, several in flight, spread that over the server's threads.
 */

/**
 * Offsets of the next pages to read at once, from `first`: enough to cover `expected` items and one
 * more (the answer that ends the list), at least one page, at most `maxPages`.
 */
export function pageStarts(first: number, pageSize: number, expected: number, maxPages: number): number[] {
  const wanted = Math.max(1, Math.ceil((expected + 1 - first) / pageSize));
  return Array.from({ length: Math.min(maxPages, wanted) }, (_, i) => first + i * pageSize);
}
