/**
 * Counters of dropped VRRP advertisements, one per DropReason (what keepalived's stats and the
 * VRRP MIB expose).
 *
 * @module
 */
import { DROP_REASONS, type DropReason } from "./packet.ts";

/** Drop counts by reason; every reason starts at 0. */
export class DropCounters {
  readonly #counts: Map<DropReason, number> = new Map(DROP_REASONS.map((r) => [r, 0]));

  /** Counts one drop. */
  count(reason: DropReason): void {
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + 1);
  }

  /** The drops counted for `reason`. */
  get(reason: DropReason): number {
    return this.#counts.get(reason) ?? 0;
  }

  /** A copy of every counter, zeros included. */
  snapshot(): Record<DropReason, number> {
    return Object.fromEntries(DROP_REASONS.map((r) => [r, this.get(r)])) as Record<
      DropReason,
      number
    >;
  }

  /** All drops counted. */
  total(): number {
    let n = 0;
    for (const v of this.#counts.values()) n += v;
    return n;
  }

  /** Sets every counter back to 0. */
  reset(): void {
    for (const r of DROP_REASONS) this.#counts.set(r, 0);
  }
}
