/**
 * A clock that moves only when told: simulated hours pass in seconds while the code under test
 * (the broker's refreshing cache) runs unmodified, its timers fired in time order. Between two
 * timers the caller lets real asynchronous work (network calls to Keycloak and the STS emulator)
 * finish through `settle`.
 */
import type { TimerClock } from "../../../broker/clock.ts";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualClock implements TimerClock {
  private current: number;
  private readonly timers: Timer[] = [];
  private nextId = 1;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    const i = this.timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.timers.splice(i, 1);
  }

  /** Timers still pending. */
  get pending(): number {
    return this.timers.length;
  }

  /**
   * Moves to `target`, firing every timer due on the way in time order (a timer set by a fired
   * one fires too if due), awaiting `settle` after each.
   */
  async advanceTo(target: number, settle: () => Promise<void> = async () => {}): Promise<void> {
    if (target < this.current) throw new RangeError("time does not go back");
    for (;;) {
      let next: Timer | undefined;
      for (const t of this.timers) if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.current = Math.max(this.current, next.at);
      next.fn();
      await settle();
    }
    this.current = target;
  }
}
