/**
 * Writers: the executors of what a VRRP router holds in the kernel while it is master (VIPs,
 * virtual routes, announcements; later VMAC links, firewall rules, BGP routes in a table).
 *
 * A writer is told the machine's actions, in the order the machine emits them, and does what
 * each says. It keeps a record of what it installed (so that it removes exactly that), never
 * protocol state: whether to be master is the machine's decision alone. The runner hands
 * actions to its writers in list order, and "remove-vips" in reverse order, so that what is
 * installed last is removed first (VIPs before routes on the way up, routes before VIPs on the
 * way down).
 *
 * @module
 */
import type { Action } from "./instance.ts";

/** The actions a writer is told (everything but sending adverts, which is the transport's). */
export type WriterAction = Exclude<Action, { type: "send-advert" }>;

/** An executor of the machine's actions for one kind of kernel state. */
export interface Writer extends Disposable {
  /** Carries out one action; never throws (failures are logged, naming object and errno). */
  act(action: WriterAction): void;
  /**
   * The kernel reports that an address was removed (by someone else): a writer that installed
   * it may put it back.
   */
  addressDeleted?(ifindex: number, address: Uint8Array): void;
  /** Resolves when every change asked for so far has been answered. */
  settled(): Promise<void>;
}

/** Tracks a writer's in-flight kernel requests for `settled()`. */
export class Pending {
  readonly #set = new Set<Promise<unknown>>();

  /** Adds a request; it leaves the set when it settles. */
  track(p: Promise<unknown>): void {
    this.#set.add(p);
    p.finally(() => this.#set.delete(p)).catch(() => {});
  }

  /** Resolves when every tracked request (also those added meanwhile) has settled. */
  async settled(): Promise<void> {
    while (this.#set.size > 0) await Promise.allSettled([...this.#set]);
  }
}
