/**
 * Cutting a long synchronous job into slices on a thread that has timers to keep (the VRRP
 * thread): `due()` says when the slice's budget is spent and gives a promise that resolves on
 * a later turn of the event loop, so that timers and I/O run before the job goes on. Awaiting a
 * promise that is already settled (a microtask) lets nothing else run.
 *
 * @module
 */

/** A budget of synchronous work between two yields to the event loop. */
export class Slicer {
  readonly #budgetMs: number;
  readonly #now: () => number;
  #since: number;

  constructor(budgetMs: number, now: () => number = () => performance.now()) {
    this.#budgetMs = budgetMs;
    this.#now = now;
    this.#since = now();
  }

  /** A promise to await when the budget is spent (resolved by a timer), else null. */
  due(): Promise<void> | null {
    if (this.#now() - this.#since < this.#budgetMs) return null;
    return new Promise<void>((ok) => setTimeout(ok, 0)).then(() => {
      this.#since = this.#now();
    });
  }
}
