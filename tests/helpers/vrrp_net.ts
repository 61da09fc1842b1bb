/**
 * An in-memory VRRP network for deterministic state-machine tests: every "send-advert" of a
 * router is delivered to every live router of the same VRID on another node, after a
 * configurable delay and unless a loss rule drops it. VIP ownership is tracked from the
 * add-vips / remove-vips actions so tests can measure how long two masters coexisted.
 *
 * @module
 */
import { FakeClock } from "../../lib/runtime/clock.ts";
import {
  type Action,
  type InstanceOptions,
  VrrpInstance,
  type VrrpState,
} from "../../lib/vrrp/instance.ts";

/** One advert on the simulated wire. */
export interface WirePacket {
  /** Sending router. */
  from: string;
  /** Receiving router. */
  to: string;
  /** Virtual router id. */
  vrid: number;
  /** Advertised priority. */
  priority: number;
  /** Advertised interval (cs). */
  intervalCs: number;
  /** Send time (ms). */
  sentAtMs: number;
  /** Index of this advert among the sender's adverts (0-based). */
  seq: number;
}

/** A recorded action. */
export interface LoggedAction {
  /** When it was emitted (ms). */
  atMs: number;
  /** Router that emitted it. */
  router: string;
  /** The action. */
  action: Action;
}

/** A period during which two or more routers of one VRID held the VIPs. */
export interface DualMaster {
  /** VRID. */
  vrid: number;
  /** Start (ms). */
  fromMs: number;
  /** End (ms), null while still open. */
  toMs: number | null;
  /** Routers holding the VIPs when it started. */
  holders: string[];
}

/** Options of a simulated router; everything but `priority` has a default. */
export type RouterOptions = Partial<InstanceOptions> & {
  priority: number;
  /** Node (process) the router lives on; defaults to the router name. */
  node?: string;
};

/** One virtual router on the simulated network. */
export class SimRouter {
  /** Router name. */
  readonly name: string;
  /** Node (process) it lives on: kill/restart act on nodes. */
  readonly node: string;
  /** The state machine under test. */
  readonly inst: VrrpInstance;
  /** Its primary address (the source of its adverts). */
  readonly address: Uint8Array;
  /** Whether the node is running (false until started). */
  alive = false;
  /** Whether it holds the VIPs (add-vips seen, remove-vips not yet). */
  hasVips = false;
  /** When it last took the VIPs (ms). */
  vipsSinceMs = 0;
  /** Adverts sent so far. */
  sent = 0;

  /** Internal: created by `VrrpNet.add`. */
  constructor(name: string, node: string, inst: VrrpInstance, address: Uint8Array) {
    this.name = name;
    this.node = node;
    this.inst = inst;
    this.address = address;
  }

  /** Current state. */
  get state(): VrrpState {
    return this.inst.state;
  }
}

/** The simulated network. */
export class VrrpNet {
  /** The one clock of the simulation. */
  readonly clock: FakeClock;
  /** Delay of each packet (ms), fixed or per packet. */
  delayMs: number | ((p: WirePacket) => number);
  /** Loss rule: return true to drop a packet. */
  loss: ((p: WirePacket) => boolean) | null = null;
  /** Every action, in emission order. */
  readonly actions: LoggedAction[] = [];
  /** Packets dropped by the loss rule. */
  readonly dropped: WirePacket[] = [];
  /** Packets delivered. */
  readonly delivered: (WirePacket & { atMs: number })[] = [];
  /** Periods with more than one VIP holder per VRID. */
  readonly dualMasters: DualMaster[] = [];
  /** Protocol errors seen by the harness (add-vips twice, actions from a dead node...). */
  readonly errors: string[] = [];
  readonly #routers = new Map<string, SimRouter>();
  readonly #lastDrop = new Map<string, number>();
  #nextHost = 1;

  /** A network with a fixed delay of `delayMs` (default 1 ms). */
  constructor(opts: { delayMs?: number; clock?: FakeClock } = {}) {
    this.clock = opts.clock ?? new FakeClock();
    this.delayMs = opts.delayMs ?? 1;
  }

  /** Routers by name. */
  get routers(): ReadonlyMap<string, SimRouter> {
    return this.#routers;
  }

  /** The router called `name` (throws if unknown). */
  router(name: string): SimRouter {
    const r = this.#routers.get(name);
    if (r === undefined) throw new Error(`no router ${name}`);
    return r;
  }

  /** Adds a router (not started). Defaults: vrid 1, v2, 1 s, preempt, address 10.0.0.N. */
  add(name: string, opts: RouterOptions): SimRouter {
    if (this.#routers.has(name)) throw new Error(`router ${name} exists`);
    const host = this.#nextHost++;
    const full: InstanceOptions = {
      name,
      vrid: opts.vrid ?? 1,
      version: opts.version ?? 2,
      family: opts.family ?? "ipv4",
      priority: opts.priority,
      advertIntervalCs: opts.advertIntervalCs ?? 100,
      initialState: opts.initialState ?? "BACKUP",
      preempt: opts.preempt ?? true,
      preemptDelayMs: opts.preemptDelayMs ?? 0,
      primaryAddress: opts.primaryAddress ?? new Uint8Array([10, 0, 0, host]),
    };
    if (opts.downTimerAdverts !== undefined) full.downTimerAdverts = opts.downTimerAdverts;
    const holder: { router?: SimRouter } = {};
    const inst = new VrrpInstance(full, this.clock, (a) => this.#onAction(holder.router!, a));
    const router = new SimRouter(name, opts.node ?? name, inst, full.primaryAddress);
    holder.router = router;
    this.#routers.set(name, router);
    return router;
  }

  /** Starts the named routers (all when none given). */
  start(...names: string[]): void {
    for (const r of this.#select(names)) {
      r.alive = true;
      r.inst.start();
    }
  }

  /** Kills every router of `node` like kill -9: nothing more leaves it, its VIPs vanish. */
  kill(node: string): void {
    for (const r of this.#routers.values()) {
      if (r.node !== node) continue;
      r.alive = false;
      r.inst.shutdown("killed");
    }
  }

  /** Restarts every router of `node` (same instance objects, so sync groups survive). */
  restart(node: string): void {
    for (const r of this.#routers.values()) {
      if (r.node !== node) continue;
      r.alive = true;
      r.inst.start();
    }
  }

  /** Drops the next `count` adverts sent by `from` (on top of `loss`). */
  dropNextFrom(from: string, count: number): void {
    const base = this.loss;
    let left = count;
    this.loss = (p) => {
      if (p.from === from && left > 0) {
        left--;
        return true;
      }
      return base !== null && base(p);
    };
  }

  /** Advances simulated time. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  /** Advances in steps of `stepMs`, calling `check` after each step. */
  runChecked(ms: number, stepMs: number, check: () => void): void {
    for (let t = 0; t < ms; t += stepMs) {
      this.clock.advance(Math.min(stepMs, ms - t));
      check();
    }
  }

  /** Routers of `vrid` holding the VIPs. */
  vipHolders(vrid = 1): SimRouter[] {
    return [...this.#routers.values()].filter((r) => r.hasVips && r.inst.vrid === vrid);
  }

  /** Routers of `vrid` in MASTER state. */
  masters(vrid = 1): SimRouter[] {
    return [...this.#routers.values()].filter((r) => r.state === "MASTER" && r.inst.vrid === vrid);
  }

  /** Longest period (ms) with two VIP holders for `vrid` (open periods count up to now). */
  maxDualMasterMs(vrid = 1): number {
    let max = 0;
    for (const d of this.dualMasters) {
      if (d.vrid !== vrid) continue;
      max = Math.max(max, (d.toMs ?? this.clock.now()) - d.fromMs);
    }
    return max;
  }

  /** Last time (ms) a packet between `a` and `b` (either way) was dropped, or -Infinity. */
  lastDropBetween(a: string, b: string): number {
    return this.#lastDrop.get(pairKey(a, b)) ?? -Infinity;
  }

  /** Times (ms) at which `router` emitted a "state" action to `to`. */
  transitionsTo(router: string, to: VrrpState): number[] {
    return this.actions
      .filter((l) => l.router === router && l.action.type === "state" && l.action.to === to)
      .map((l) => l.atMs);
  }

  /** Actions of `router` (types only) emitted in [fromMs, toMs]. */
  actionTypes(router: string, fromMs = -Infinity, toMs = Infinity): string[] {
    return this.actions
      .filter((l) => l.router === router && l.atMs >= fromMs && l.atMs <= toMs)
      .map((l) =>
        l.action.type === "send-advert" ? `send-advert:${l.action.priority}` : l.action.type
      );
  }

  #select(names: string[]): SimRouter[] {
    return names.length === 0 ? [...this.#routers.values()] : names.map((n) => this.router(n));
  }

  #onAction(r: SimRouter, a: Action): void {
    const now = this.clock.now();
    this.actions.push({ atMs: now, router: r.name, action: a });
    switch (a.type) {
      case "send-advert":
        this.#send(r, a.priority, a.intervalCs);
        return;
      case "add-vips":
        if (r.hasVips) this.errors.push(`${now}: ${r.name} add-vips while holding them`);
        if (!r.alive) this.errors.push(`${now}: ${r.name} add-vips while dead`);
        r.hasVips = true;
        r.vipsSinceMs = now;
        this.#trackDual(r.inst.vrid);
        return;
      case "remove-vips":
        if (!r.hasVips) this.errors.push(`${now}: ${r.name} remove-vips without holding them`);
        r.hasVips = false;
        this.#trackDual(r.inst.vrid);
        return;
      case "announce":
        if (!r.hasVips) this.errors.push(`${now}: ${r.name} announce without VIPs`);
        return;
      case "state":
        return;
    }
  }

  #send(r: SimRouter, priority: number, intervalCs: number): void {
    const seq = r.sent++;
    if (!r.alive) return;
    const now = this.clock.now();
    for (const peer of this.#routers.values()) {
      if (peer.node === r.node || peer.inst.vrid !== r.inst.vrid) continue;
      const p: WirePacket = {
        from: r.name,
        to: peer.name,
        vrid: r.inst.vrid,
        priority,
        intervalCs,
        sentAtMs: now,
        seq,
      };
      if (this.loss !== null && this.loss(p)) {
        this.dropped.push(p);
        this.#lastDrop.set(pairKey(r.name, peer.name), now);
        continue;
      }
      const delay = typeof this.delayMs === "number" ? this.delayMs : this.delayMs(p);
      const addr = r.address;
      this.clock.setTimer(delay, () => {
        if (!peer.alive) return;
        this.delivered.push({ ...p, atMs: this.clock.now() });
        peer.inst.receive({ priority, maxAdverIntCs: intervalCs, src: addr });
      });
    }
  }

  #trackDual(vrid: number): void {
    const holders = this.vipHolders(vrid);
    const open = this.dualMasters.find((d) => d.vrid === vrid && d.toMs === null);
    if (holders.length > 1 && open === undefined) {
      this.dualMasters.push({
        vrid,
        fromMs: this.clock.now(),
        toMs: null,
        holders: holders.map((h) => h.name),
      });
    } else if (holders.length <= 1 && open !== undefined) {
      open.toMs = this.clock.now();
    }
  }
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}
