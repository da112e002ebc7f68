/** Milliseconds since the epoch; injected so tests can freeze or move time. */
export type Clock = () => number;

/** The subset of `fetch` the emulators use to reach an issuer; injected so unit tests never touch the network. */
export type FetchLike = (input: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<Response>;

export const systemClock: Clock = () => Date.now();
