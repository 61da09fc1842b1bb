/**
 * An in-memory VRRP network for deterministic tests without root.
 *
 * `VrrpNet` runs bare state machines: every "send-advert" of a router is delivered to every
 * live router of the same VRID on another node, after a configurable delay and unless a loss
 * rule drops it. VIP ownership is tracked from the add-vips / remove-vips actions so tests can
 * measure how long two masters coexisted.
 *
 * `MemNet` runs whole runners (lib/vrrp/runner.ts): each `MemNode` implements the runner's
 * host interfaces in memory: interfaces with addresses (`link`, `sourceAddress`), a kernel
 * address and route table (`AddressTable`, which answers EEXIST / EADDRNOTAVAIL / ESRCH as
 * the kernel does and logs every change in order), a VRRP transport carrying the encoded
 * adverts between nodes on the same wire, and a frame port recording announcements.
 *
 * @module
 */
import { Errno, SyscallError } from "../../ffi/errno.ts";
import type { AddressSpec, RouteSpec } from "../../lib/netlink/rtnl.ts";
import { ruleText } from "../../lib/netlink/rule.ts";
import { formatIp, ipEqual, isLinkLocal6, isMulticast, parseIp } from "../../lib/net/ip.ts";
import { FakeClock } from "../../lib/runtime/clock.ts";
import { Logger } from "../../lib/runtime/log.ts";
import type { AddressTable } from "../../lib/vrrp/addresses.ts";
import type { AnnounceTarget } from "../../lib/vrrp/announce.ts";
import {
  type Action,
  type InstanceOptions,
  VrrpInstance,
  type VrrpState,
} from "../../lib/vrrp/instance.ts";
import type { HostLink, RunnerHost, VrrpRunner } from "../../lib/vrrp/runner.ts";
import type {
  AdvertHandler,
  Datagram,
  VrrpSender,
  VrrpTransport,
} from "../../lib/vrrp/transport.ts";

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
    const address = opts.primaryAddress ?? new Uint8Array([10, 0, 0, host]);
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
      primaryAddress: address,
    };
    if (opts.downTimerAdverts !== undefined) full.downTimerAdverts = opts.downTimerAdverts;
    const holder: { router?: SimRouter } = {};
    const inst = new VrrpInstance(full, this.clock, (a) => this.#onAction(holder.router!, a));
    const router = new SimRouter(name, opts.node ?? name, inst, address);
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

// ---- whole runners on in-memory hosts -----------------------------------------------------

/** An interface of a `MemNode`. */
export interface MemLink {
  name: string;
  index: number;
  mac: Uint8Array;
  up: boolean;
  /** The wire it is plugged into: adverts reach the other nodes' links on the same wire. */
  wire: string;
}

/** An address in a node's kernel table. */
export interface MemAddress {
  ifindex: number;
  address: Uint8Array;
  prefix: number;
  /** Added by a runner (a VIP) rather than configured by the test. */
  vip: boolean;
}

/** An advert seen on a wire. */
export interface MemPacket {
  atMs: number;
  node: string;
  ifname: string;
  src: string;
  dst: string;
  payload: Uint8Array;
}

/** Several nodes, one clock, wires between their interfaces. */
export class MemNet {
  /** The one clock of the simulation. */
  readonly clock: FakeClock;
  /** Delay of every packet (ms). */
  delayMs: number;
  /** Every advert sent, in order. */
  readonly packets: MemPacket[] = [];
  /** Drop rule: return true to lose a packet. */
  loss: ((p: MemPacket) => boolean) | null = null;
  readonly #nodes = new Map<string, MemNode>();

  constructor(opts: { delayMs?: number; clock?: FakeClock } = {}) {
    this.clock = opts.clock ?? new FakeClock();
    this.delayMs = opts.delayMs ?? 1;
  }

  /** A new node. */
  node(name: string): MemNode {
    if (this.#nodes.has(name)) throw new Error(`node ${name} exists`);
    const n = new MemNode(this, name);
    this.#nodes.set(name, n);
    return n;
  }

  /** Advances simulated time. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  /** Internal: carries a datagram from `from` to every other node's listener on the wire. */
  deliver(from: MemNode, link: MemLink, family: "ipv4" | "ipv6", pkt: Datagram): void {
    const seen: MemPacket = {
      atMs: this.clock.now(),
      node: from.name,
      ifname: link.name,
      src: formatIp(pkt.src),
      dst: formatIp(pkt.dst),
      payload: pkt.payload,
    };
    this.packets.push(seen);
    if (this.loss !== null && this.loss(seen)) return;
    for (const n of this.#nodes.values()) {
      if (n === from) continue;
      for (const l of n.links()) {
        if (l.wire !== link.wire) continue;
        if (!isMulticast(pkt.dst) && !n.hasAddress(l.index, pkt.dst)) continue;
        this.clock.setTimer(this.delayMs, () => n.arrive(l, family, { ...pkt, ifindex: l.index }));
      }
    }
  }
}

/** One host: interfaces, kernel tables, a transport, a frame port, and a log. */
export class MemNode {
  /** Node name. */
  readonly name: string;
  /** Kernel changes in order: "add 10.0.0.100/24 eth0", "del-route 10.9.0.0/16 eth0"... */
  readonly ops: string[] = [];
  /** Announcement frames sent: interface and address. */
  readonly frames: { atMs: number; ifname: string; address: string }[] = [];
  /** Log lines of everything running on this node. */
  readonly logLines: string[] = [];
  /** A logger writing to `logLines`. */
  readonly log: Logger;
  /** Errnos to answer the next kernel requests with (first in, first used). */
  readonly failNext: number[] = [];
  /** While true, arriving adverts wait in the socket until `poll` or `stall(false)`. */
  #stalled = false;
  readonly #net: MemNet;
  readonly #links = new Map<string, MemLink>();
  #nextIndex = 2;
  readonly #addresses: MemAddress[] = [];
  readonly #routes = new Map<string, RouteSpec>();
  readonly #rules = new Set<string>();
  readonly #listeners = new Map<string, Map<number, AdvertHandler>>();
  readonly #queue: { key: string; pkt: Datagram }[] = [];

  /** Internal: created by `MemNet.node`. */
  constructor(net: MemNet, name: string) {
    this.#net = net;
    this.name = name;
    this.log = new Logger(name, {
      level: "debug",
      sink: (l) => this.logLines.push(l),
      json: false,
    });
  }

  /** The interfaces. */
  links(): MemLink[] {
    return [...this.#links.values()];
  }

  /** Creates (or re-creates, with a new index) an interface with optional addresses. */
  addLink(
    name: string,
    opts: { up?: boolean; wire?: string; addresses?: string[] } = {},
  ): MemLink {
    const index = this.#nextIndex++;
    const link: MemLink = {
      name,
      index,
      mac: new Uint8Array([2, 0, 0, 0, this.name.length, index]),
      up: opts.up ?? true,
      wire: opts.wire ?? name,
    };
    this.#links.set(name, link);
    for (const a of opts.addresses ?? []) this.addAddress(name, a);
    return link;
  }

  /** Adds a configured address ("10.0.0.1/24") to an interface. */
  addAddress(ifname: string, prefixText: string): void {
    const [text, prefix] = prefixText.split("/");
    const link = this.#mustLink(ifname);
    this.#addresses.push({
      ifindex: link.index,
      address: parseIp(text!)!.bytes,
      prefix: Number(prefix ?? 32),
      vip: false,
    });
  }

  /** Removes an address as `ip addr del` would; returns whether it was there. */
  removeAddress(ifname: string, text: string): boolean {
    const link = this.#mustLink(ifname);
    const bytes = parseIp(text)!.bytes;
    const i = this.#addresses.findIndex((a) =>
      a.ifindex === link.index && ipEqual(a.address, bytes)
    );
    if (i < 0) return false;
    this.#addresses.splice(i, 1);
    return true;
  }

  /** Sets an interface's carrier / admin state. */
  setUp(ifname: string, up: boolean): void {
    this.#mustLink(ifname).up = up;
  }

  /** Deletes an interface with its addresses and routes, as the kernel does. */
  deleteLink(ifname: string): void {
    const link = this.#mustLink(ifname);
    this.#links.delete(ifname);
    for (let i = this.#addresses.length - 1; i >= 0; i--) {
      if (this.#addresses[i]!.ifindex === link.index) this.#addresses.splice(i, 1);
    }
    for (const [k, r] of this.#routes) if (r.ifindex === link.index) this.#routes.delete(k);
  }

  /** Addresses of an interface as text ("10.0.0.1/24"), configured ones first. */
  addressesOf(ifname: string): string[] {
    const link = this.#links.get(ifname);
    if (link === undefined) return [];
    return this.#addresses.filter((a) => a.ifindex === link.index)
      .map((a) => `${formatIp(a.address)}/${a.prefix}`);
  }

  /** VIPs (addresses added through the table) on this node, as text. */
  vips(): string[] {
    return this.#addresses.filter((a) => a.vip).map((a) => formatIp(a.address));
  }

  /** Routes in the table, as "to/prefix". */
  routes(): string[] {
    return [...this.#routes.values()].map((r) => `${r.to}/${r.prefix}`);
  }

  /** Whether an interface holds an address. */
  hasAddress(ifindex: number, address: Uint8Array): boolean {
    return this.#addresses.some((a) => a.ifindex === ifindex && ipEqual(a.address, address));
  }

  /** Holds arriving adverts in the sockets (a stalled event loop) or releases them. */
  stall(on: boolean): void {
    this.#stalled = on;
    if (!on) this.#drain(null);
  }

  /** The host a runner on this node gets. */
  host(opts: { onState?: RunnerHost["onState"] } = {}): RunnerHost {
    return {
      clock: this.#net.clock,
      log: this.log,
      transport: this.transport,
      table: this.table,
      announcePort: {
        send: (t: AnnounceTarget) => {
          this.frames.push({
            atMs: this.#net.clock.now(),
            ifname: t.ifname,
            address: formatIp(t.address),
          });
          return true;
        },
      },
      link: (name): HostLink | null => {
        const l = this.#links.get(name);
        return l === undefined ? null : { index: l.index, mac: l.mac, up: l.up };
      },
      sourceAddress: (ifindex, family) => {
        for (const a of this.#addresses) {
          if (a.ifindex !== ifindex || a.vip) continue;
          if (family === "ipv4" && a.address.length === 4) return a.address;
          if (family === "ipv6" && a.address.length === 16 && isLinkLocal6(a.address)) {
            return a.address;
          }
        }
        return null;
      },
      forwarding: () => false,
      onState: opts.onState ?? (() => {}),
    };
  }

  /** The node's kernel address and route table. */
  readonly table: AddressTable = {
    addAddress: (spec) =>
      this.#kernel(() => {
        const bytes = parseIp(spec.address)!.bytes;
        if (this.hasAddress(spec.ifindex, bytes)) throw this.#errno("RTM_NEWADDR", Errno.EEXIST);
        if (this.#linkByIndex(spec.ifindex) === null) {
          throw this.#errno("RTM_NEWADDR", Errno.ENODEV);
        }
        this.#addresses.push({
          ifindex: spec.ifindex,
          address: bytes,
          prefix: spec.prefix,
          vip: true,
        });
        this.ops.push(`add ${spec.address}/${spec.prefix} ${spec.ifname}`);
      }),
    deleteAddress: (spec: AddressSpec) =>
      this.#kernel(() => {
        const bytes = parseIp(spec.address)!.bytes;
        const i = this.#addresses.findIndex((a) =>
          a.ifindex === spec.ifindex && ipEqual(a.address, bytes)
        );
        if (i < 0) throw this.#errno("RTM_DELADDR", Errno.EADDRNOTAVAIL);
        this.#addresses.splice(i, 1);
        this.ops.push(`del ${spec.address}/${spec.prefix} ${spec.ifname}`);
      }),
    addRoute: (spec) =>
      this.#kernel(() => {
        const key = routeKey(spec);
        if (this.#routes.has(key)) throw this.#errno("RTM_NEWROUTE", Errno.EEXIST);
        this.#routes.set(key, spec);
        this.ops.push(`add-route ${spec.to}/${spec.prefix}`);
      }),
    deleteRoute: (spec) =>
      this.#kernel(() => {
        if (!this.#routes.delete(routeKey(spec))) throw this.#errno("RTM_DELROUTE", Errno.ESRCH);
        this.ops.push(`del-route ${spec.to}/${spec.prefix}`);
      }),
    addRule: (spec) =>
      this.#kernel(() => {
        const key = ruleText(spec);
        if (this.#rules.has(key)) throw this.#errno("RTM_NEWRULE", Errno.EEXIST);
        this.#rules.add(key);
        this.ops.push(`add-rule ${key}`);
      }),
    deleteRule: (spec) =>
      this.#kernel(() => {
        const key = ruleText(spec);
        if (!this.#rules.delete(key)) throw this.#errno("RTM_DELRULE", Errno.ENOENT);
        this.ops.push(`del-rule ${key}`);
      }),
  };

  /** The node's VRRP transport. */
  readonly transport: VrrpTransport = {
    group: (family) => parseIp(family === "ipv4" ? "224.0.0.18" : "ff02::12")!.bytes,
    listen: (ifname, ifindex, family, vrid, handler) => {
      const link = this.#links.get(ifname);
      if (link === undefined || link.index !== ifindex) {
        throw new SyscallError("setsockopt", Errno.ENODEV, `Cannot bind to "${ifname}"`);
      }
      const key = `${ifname}/${family}`;
      const handlers = this.#listeners.get(key) ?? new Map<number, AdvertHandler>();
      if (handlers.has(vrid)) throw new Error(`VRID ${vrid} is already in use on ${ifname}`);
      handlers.set(vrid, handler);
      this.#listeners.set(key, handlers);
      return { [Symbol.dispose]: () => handlers.delete(vrid) };
    },
    sender: (_ifname, ifindex, family, source): VrrpSender => ({
      send: (payload, dst) => {
        const link = this.#linkByIndex(ifindex);
        if (link === null || !link.up) return false;
        const src = source ?? this.host().sourceAddress(ifindex, family);
        if (src === null) return false;
        this.#net.deliver(this, link, family, { payload, src, dst, ifindex, hopLimit: 255 });
        return true;
      },
      [Symbol.dispose]: () => {},
    }),
    poll: (ifname, family) => this.#drain(`${ifname}/${family}`),
  };

  /** Internal: an advert reaches `link`. */
  arrive(link: MemLink, family: "ipv4" | "ipv6", pkt: Datagram): void {
    if (!link.up || this.#links.get(link.name) !== link) return;
    const key = `${link.name}/${family}`;
    this.#queue.push({ key, pkt });
    if (!this.#stalled) this.#drain(key);
  }

  #drain(key: string | null): void {
    for (let i = 0; i < this.#queue.length;) {
      const q = this.#queue[i]!;
      if (key !== null && q.key !== key) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#listeners.get(q.key)?.get(q.pkt.payload[1]!)?.(q.pkt);
    }
  }

  #kernel(op: () => void): Promise<void> {
    const errno = this.failNext.shift();
    if (errno !== undefined) return Promise.reject(this.#errno("netlink", errno));
    try {
      op();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #errno(call: string, errno: number): SyscallError {
    return new SyscallError(call, errno, `${this.name}: ${call}`);
  }

  #linkByIndex(index: number): MemLink | null {
    for (const l of this.#links.values()) if (l.index === index) return l;
    return null;
  }

  #mustLink(name: string): MemLink {
    const l = this.#links.get(name);
    if (l === undefined) throw new Error(`${this.name} has no interface ${name}`);
    return l;
  }
}

function routeKey(r: RouteSpec): string {
  return `${r.table ?? 254}|${r.to}/${r.prefix}|${r.ifindex ?? "-"}|${r.metric ?? 0}`;
}

/** Runners' state transitions as "name FROM -> TO", in order (an `onState` recorder). */
export function stateLog(): { lines: string[]; onState: RunnerHost["onState"] } {
  const lines: string[] = [];
  return {
    lines,
    onState: (r: VrrpRunner, from, to) => lines.push(`${r.spec.name} ${from} -> ${to}`),
  };
}
