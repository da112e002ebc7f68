/** An injected fault: answer `kind` for the next `remaining` requests (for ever when undefined). */
export interface FaultSlot<K extends string> {
  kind: K | undefined;
  remaining: number | undefined;
}

/** The fault to answer this request with, if any; counts it down and clears it when used up. */
export function takeFault<K extends string>(state: FaultSlot<K>): K | undefined {
  if (!state.kind) return undefined;
  const kind = state.kind;
  if (state.remaining !== undefined && --state.remaining <= 0) {
    state.kind = undefined;
    state.remaining = undefined;
  }
  return kind;
}
