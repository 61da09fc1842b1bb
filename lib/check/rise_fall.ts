/**
 * The rise/fall reducer: turns a sequence of round results into up/down state with hysteresis.
 * Pure: no time, no I/O.
 *
 * @module
 */

/** Reducer state. */
export interface RiseFallState {
  readonly up: boolean;
  /** Consecutive successful rounds while down. */
  readonly successes: number;
  /** Consecutive failed rounds while up. */
  readonly failures: number;
}

/** The initial state. */
export function riseFallInit(up: boolean): RiseFallState {
  return { up, successes: 0, failures: 0 };
}

/**
 * Feeds one round result. Up goes down after `fall` consecutive failures; down goes up after
 * `rise` consecutive successes (values below 1 count as 1). Returns the new state and whether
 * `up` changed.
 */
export function riseFallStep(
  s: RiseFallState,
  ok: boolean,
  rise: number,
  fall: number,
): { state: RiseFallState; changed: boolean } {
  if (s.up) {
    if (ok) return { state: { up: true, successes: 0, failures: 0 }, changed: false };
    const failures = s.failures + 1;
    if (failures >= Math.max(1, fall)) {
      return { state: { up: false, successes: 0, failures: 0 }, changed: true };
    }
    return { state: { up: true, successes: 0, failures }, changed: false };
  }
  if (!ok) return { state: { up: false, successes: 0, failures: 0 }, changed: false };
  const successes = s.successes + 1;
  if (successes >= Math.max(1, rise)) {
    return { state: { up: true, successes: 0, failures: 0 }, changed: true };
  }
  return { state: { up: false, successes, failures: 0 }, changed: false };
}
