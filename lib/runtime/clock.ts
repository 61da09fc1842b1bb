/**
 * Time, injected: `Clock` for the real agent, `FakeClock` for deterministic tests.
 *
 * @module
 */

/** A pending timer; disposing it cancels it. Cancelling twice is harmless. */
export interface Timer extends Disposable {
  cancel(): void;
}

/** How a timer's callback behaves. */
export interface TimerOptions {
  /**
   * The callback only does synchronous work (sends, computes, sets timers) and leaves no promise
   * continuation behind (an event loop may then wait again without a pass of the runtime's own
   * loop: ffi/reactor.ts). Default false.
   */
  quiet?: boolean;
}

/** The only source of time for state machines, schedulers and checkers. */
export interface Clock {
  /** Monotonic milliseconds (fractional). */
  now(): number;
  /** Runs `fn` once after `delayMs` (clamped to >= 0). */
  setTimer(delayMs: number, fn: () => void, opts?: TimerOptions): Timer;
}

/** The real clock: `performance.now()` and `setTimeout`. */
export class RealClock implements Clock {
  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const id = setTimeout(fn, Math.max(0, delayMs));
    const cancel = () => clearTimeout(id);
    return { cancel, [Symbol.dispose]: cancel };
  }
}

interface FakeEntry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A manual clock: time moves only through `advance`, timers fire in deadline order. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #queue: FakeEntry[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const entry: FakeEntry = {
      at: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      fn,
      cancelled: false,
    };
    this.#queue.push(entry);
    const cancel = () => {
      entry.cancelled = true;
    };
    return { cancel, [Symbol.dispose]: cancel };
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.#queue.filter((e) => !e.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, earliest first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.#queue = this.#queue.filter((e) => !e.cancelled);
      let next: FakeEntry | undefined;
      for (const e of this.#queue) {
        if (
          e.at <= end &&
          (next === undefined || e.at < next.at || (e.at === next.at && e.seq < next.seq))
        ) {
          next = e;
        }
      }
      if (next === undefined) break;
      this.#queue.splice(this.#queue.indexOf(next), 1);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = end;
  }
}
