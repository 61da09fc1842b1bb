/**
 * The announce table's writer for one VRRP instance (a `Writer` of lib/vrrp/writer.ts, beside
 * the VIP, route and rule writers): it tells the announce side that the instance holds its VIPs
 * from "add-vips" to "remove-vips". The runner gives it the actions after the VIP writer on the
 * way up and before it on the way down, so a VIP's route is announced after the address is
 * added and withdrawn before the address is removed. It writes nothing itself and keeps no
 * protocol state.
 *
 * @module
 */
import type { Writer, WriterAction } from "../vrrp/writer.ts";

/** Tells whether an instance holds its VIPs. */
export class InstanceAnnounceWriter implements Writer {
  readonly #name: string;
  readonly #hold: (name: string, holds: boolean) => void;
  readonly #settled: () => Promise<void>;

  constructor(
    name: string,
    hold: (name: string, holds: boolean) => void,
    settled: () => Promise<void>,
  ) {
    this.#name = name;
    this.#hold = hold;
    this.#settled = settled;
  }

  act(a: WriterAction): void {
    if (a.type === "add-vips") this.#hold(this.#name, true);
    else if (a.type === "remove-vips") this.#hold(this.#name, false);
  }

  settled(): Promise<void> {
    return this.#settled();
  }

  [Symbol.dispose](): void {
    this.#hold(this.#name, false);
  }
}
