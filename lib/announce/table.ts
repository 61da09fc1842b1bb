/**
 * The announce table: an executor that keeps the kernel table in step with the entries it is
 * given (`announceEntries`), writing only the difference, so nothing that did not change is
 * withdrawn and announced again. It holds no protocol state: which routes must exist is decided
 * by its caller. At start it lists the routes of its protocol in its table (what a crashed agent
 * left) and deletes those its first complete set of entries does not claim; at stop it
 * withdraws every route of its protocol it knows of.
 *
 * @module
 */
import { SyscallError } from "../../ffi/errno.ts";
import type { Route, RouteSpec } from "../netlink/rtnl.ts";
import type { Clock, Timer } from "../runtime/clock.ts";
import type { Logger } from "../runtime/log.ts";
import type { AnnounceEntry } from "./desired.ts";

/** The route operations the table needs (the agent's Rtnl; a fake in tests). */
export interface RouteWriter {
  replaceRoute(spec: RouteSpec): Promise<void>;
  deleteRoute(spec: RouteSpec): Promise<void>;
  listRoutes(family?: "ipv4" | "ipv6", table?: number): Promise<Route[]>;
}

/** The table and protocol number of announced routes. */
export interface AnnounceSettings {
  table: number;
  protocol: number;
}

/** How long a failed route change waits before it is tried again. */
export const RETRY_MS = 5000;

const ENOENT = 2;
const ESRCH = 3;

/** A route of ours, keyed `ADDRESS/PREFIX`, with the interface it points at. */
interface Held {
  spec: RouteSpec;
  device: string;
}

/** Keeps host routes of one protocol in one kernel table. */
export class AnnounceTable implements Disposable {
  readonly #writer: RouteWriter;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #linkIndex: (name: string) => number | null;
  readonly settings: AnnounceSettings;
  /** Routes requested (or found at start and kept): what the kernel holds once settled. */
  readonly #held = new Map<string, Held>();
  /** Routes of our protocol found at start that no entry has claimed yet. */
  readonly #leftovers = new Map<string, Route>();
  /** The last error per route key (cleared by the next success). */
  readonly #errors = new Map<string, string>();
  #last: AnnounceEntry[] = [];
  #purge = false;
  /** Requests in flight: each is sent at once, so the kernel sees them in the order asked. */
  readonly #pending = new Set<Promise<void>>();
  #retry: Timer | null = null;
  #closed = false;
  #adds = 0;
  #deletes = 0;

  constructor(
    writer: RouteWriter,
    settings: AnnounceSettings,
    deps: { log: Logger; clock: Clock; linkIndex: (name: string) => number | null },
  ) {
    this.#writer = writer;
    this.settings = { ...settings };
    this.#log = deps.log;
    this.#clock = deps.clock;
    this.#linkIndex = deps.linkIndex;
  }

  /** Routes added and deleted so far. */
  get counts(): { adds: number; deletes: number } {
    return { adds: this.#adds, deletes: this.#deletes };
  }

  /** The error of a route (`ADDRESS/PREFIX`), or null. */
  error(key: string): string | null {
    return this.#errors.get(key) ?? null;
  }

  /** Whether a route (`ADDRESS/PREFIX`) is in the table (requested, or found and kept). */
  holds(key: string): boolean {
    return this.#held.has(key);
  }

  /** Lists the routes of our protocol already in the table (left by an earlier run). */
  async start(): Promise<void> {
    const { table, protocol } = this.settings;
    let found: Route[] = [];
    for (const family of ["ipv4", "ipv6"] as const) {
      try {
        found = found.concat(await this.#writer.listRoutes(family, table));
      } catch (e) {
        this.#log.warn(
          `cannot list ${family} routes of table ${table}: ${(e as Error).message}; ` +
            `leftovers of that family stay`,
        );
      }
    }
    for (const r of found) {
      if (r.protocol !== protocol || r.type !== 1) continue;
      this.#leftovers.set(`${r.to}/${r.prefix}`, r);
    }
    if (this.#leftovers.size > 0) {
      this.#log.info(
        `table ${table} holds ${this.#leftovers.size} route(s) of protocol ${protocol} from an ` +
          `earlier run: ${[...this.#leftovers.keys()].join(", ")}`,
      );
    }
  }

  /**
   * Brings the table to `entries`: adds (or repoints) the routes to announce, withdraws the
   * ones no longer announced. With `purge`, leftovers of an earlier run that no entry claims are
   * deleted too (from then on, every call purges).
   */
  apply(entries: readonly AnnounceEntry[], opts: { purge?: boolean } = {}): void {
    if (this.#closed) return;
    this.#last = entries.map((e) => ({ ...e, reasons: [...e.reasons] }));
    if (opts.purge) this.#purge = true;
    this.#retry?.cancel();
    this.#retry = null;
    const want = new Map<string, AnnounceEntry>();
    for (const e of entries) if (e.announce) want.set(`${e.address}/${e.prefix}`, e);
    for (const [key, held] of [...this.#held]) {
      if (!want.has(key)) this.#withdraw(key, held.spec);
    }
    for (const [key, e] of want) this.#announce(key, e);
    if (this.#purge) {
      for (const [key, r] of [...this.#leftovers]) {
        this.#leftovers.delete(key);
        this.#log.info(`removing leftover route ${key} from table ${this.settings.table}`);
        this.#withdraw(key, this.#specOf(r.family, r.to, r.prefix, undefined));
      }
    }
  }

  /**
   * The routes through `device` may be gone (the kernel flushes routes through an interface that
   * goes down or away): the next `apply` writes them again.
   */
  relink(device: string): void {
    for (const [key, held] of [...this.#held]) {
      if (held.device === device) this.#held.delete(key);
    }
  }

  #announce(key: string, e: AnnounceEntry): void {
    const held = this.#held.get(key);
    if (held !== undefined && held.device === e.device && !this.#errors.has(key)) return;
    const ifindex = this.#linkIndex(e.device);
    if (ifindex === null) {
      this.#fail(key, `interface "${e.device}" does not exist`);
      return;
    }
    const left = this.#leftovers.get(key);
    if (left !== undefined) {
      this.#leftovers.delete(key);
      if (left.ifindex === ifindex && left.family === e.family) {
        // Left by an earlier run exactly as wanted: kept, no withdraw / announce flap.
        this.#held.set(key, {
          spec: this.#specOf(e.family, e.address, e.prefix, ifindex),
          device: e.device,
        });
        this.#errors.delete(key);
        return;
      }
    }
    const spec = this.#specOf(e.family, e.address, e.prefix, ifindex);
    this.#held.set(key, { spec, device: e.device });
    this.#track(
      this.#writer.replaceRoute(spec).then(() => {
        this.#adds++;
        this.#errors.delete(key);
        this.#log.info(`announcing ${key} dev ${e.device} (${e.reasons.join("; ")})`);
      }, (err) => {
        if (this.#held.get(key)?.spec === spec) this.#held.delete(key);
        this.#fail(key, (err as Error).message);
      }),
    );
  }

  #withdraw(key: string, spec: RouteSpec): void {
    this.#held.delete(key);
    this.#errors.delete(key);
    this.#track(
      this.#writer.deleteRoute(spec).then(() => {
        this.#deletes++;
        this.#log.info(`withdrew ${key}`);
      }, (err) => {
        // Already gone (deleted by hand, or the interface went away with it).
        if (err instanceof SyscallError && (err.errno === ESRCH || err.errno === ENOENT)) return;
        this.#log.error(`cannot withdraw ${key}: ${(err as Error).message}`);
      }),
    );
  }

  #specOf(family: "ipv4" | "ipv6", to: string, prefix: number, ifindex: number | undefined) {
    const { table, protocol } = this.settings;
    return {
      family,
      to,
      prefix,
      table,
      protocol,
      ...(ifindex !== undefined ? { ifindex } : {}),
    } satisfies RouteSpec;
  }

  #fail(key: string, why: string): void {
    if (this.#errors.get(key) !== why) this.#log.error(`cannot announce ${key}: ${why}`);
    this.#errors.set(key, why);
    if (this.#retry === null && !this.#closed) {
      this.#retry = this.#clock.setTimer(RETRY_MS, () => {
        this.#retry = null;
        this.apply(this.#last);
      });
    }
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
  }

  /** Resolves once every change requested so far (and meanwhile) has been answered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Withdraws every route of ours (announced, or left by an earlier run) and stops. */
  async withdrawAll(): Promise<void> {
    this.#last = [];
    for (const [key, held] of [...this.#held]) this.#withdraw(key, held.spec);
    for (const [key, r] of [...this.#leftovers]) {
      this.#leftovers.delete(key);
      this.#withdraw(key, this.#specOf(r.family, r.to, r.prefix, undefined));
    }
    this.#close();
    await this.settled();
  }

  #close(): void {
    this.#closed = true;
    this.#retry?.cancel();
    this.#retry = null;
  }

  /** Stops without touching the table (the routes stay, as after a crash). */
  [Symbol.dispose](): void {
    this.#close();
  }
}
