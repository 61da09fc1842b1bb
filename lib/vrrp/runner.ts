/**
 * One VRRP instance at run time: the pure state machine (instance.ts) wired to the transport,
 * the VIPs (rtnetlink), the announcer and the drop counters. It carries out the machine's
 * actions in the order the machine emits them.
 *
 * @module
 */
import type { Received } from "../../ffi/socket.ts";
import { SyscallError } from "../../ffi/errno.ts";
import type { RouteSpec, Rtnl } from "../netlink/rtnl.ts";
import { type RuleSpec, ruleText } from "../netlink/rule.ts";
import { formatIp, ipEqual, parseIp } from "../net/ip.ts";
import type { Clock } from "../runtime/clock.ts";
import { type Logger, RateLimiter } from "../runtime/log.ts";
import { Announcer, type AnnounceTarget, type AnnounceTiming } from "./announce.ts";
import { DropCounters } from "./counters.ts";
import { type Action, VrrpInstance, type VrrpState } from "./instance.ts";
import { encodeAdvert, passwordBytes } from "./packet.ts";
import type { VrrpSender, VrrpTransport } from "./transport.ts";
import { validateAdvert } from "./validate.ts";

/** A virtual address with where and how to install it. */
export interface VipSpec {
  family: "ipv4" | "ipv6";
  address: string;
  prefix: number;
  /** Interface to add it to (default: the instance's). */
  device: string | null;
  label: string | null;
  scope: "global" | "link" | "host" | "site" | null;
  /** Excluded VIPs are installed but not listed in adverts. */
  excluded: boolean;
}

/** A virtual route installed while master. */
export interface VrouteSpec {
  family: "ipv4" | "ipv6";
  to: string;
  prefix: number;
  via: string | null;
  src: string | null;
  device: string | null;
  table: number | null;
  metric: number | null;
  /** Non-unicast routes (blackhole, unreachable, prohibit, throw) have no device. */
  type: "unicast" | "blackhole" | "unreachable" | "prohibit" | "throw";
  scope: "global" | "site" | "link" | "host" | "nowhere";
  onlink: boolean;
}

/** Everything a runner needs, in kernel-ready units. */
export interface InstanceSpec {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: "ipv4" | "ipv6";
  priority: number;
  advertIntervalCs: number;
  initialState: "BACKUP" | "MASTER";
  preempt: boolean;
  preemptDelayMs: number;
  /** v2 PASS password, or null for no authentication. */
  authPassword: string | null;
  unicastSrc: string | null;
  unicastPeers: string[];
  vips: VipSpec[];
  routes: VrouteSpec[];
  /** Policy routing rules installed while master, after the routes (virtual_rules). */
  rules: RuleSpec[];
  v3Checksum: "keepalived" | "rfc9568";
  announce: AnnounceTiming;
}

/** What the runner needs from the host (all real in the agent, fakes in tests). */
export interface RunnerHost {
  clock: Clock;
  log: Logger;
  transport: VrrpTransport;
  rtnl: Rtnl;
  announcePort: { send(t: AnnounceTarget, frame: Uint8Array): boolean };
  /** Resolves an interface by name: index, MAC, up; null when missing. */
  link(name: string): { index: number; mac: Uint8Array; up: boolean } | null;
  /** The interface's source address for a family (primary IPv4 / link-local IPv6), or null. */
  sourceAddress(ifindex: number, family: "ipv4" | "ipv6"): string | null;
  /** Whether IPv6 forwarding is on for an interface (the NA Router flag). */
  forwarding(ifname: string): boolean;
  /** Called on every state change (notify scripts, sync groups, status). */
  onState(r: VrrpRunner, from: VrrpState, to: VrrpState, reason: string): void;
  /** The instance's VRRP sockets could not be opened (it waits in FAULT). */
  socketError?(r: VrrpRunner, error: unknown): void;
}

/** A running VRRP instance. */
export class VrrpRunner implements Disposable {
  #spec: InstanceSpec;
  readonly counters = new DropCounters();
  readonly #host: RunnerHost;
  readonly #log: Logger;
  readonly #announcer: Announcer;
  readonly #dropLog: RateLimiter;
  #instance: VrrpInstance | null = null;
  #ifindex = 0;
  #mac: Uint8Array = new Uint8Array(6);
  #source: string | null = null;
  #listen: Disposable | null = null;
  #senders: { sender: VrrpSender; dst: string }[] = [];
  #vipsInstalled = false;
  #faults = new Map<string, string>();
  #state: VrrpState = "INIT";
  #reason = "starting";
  #since = new Date();
  #peerDrops = 0;
  #lastMaster: string | null = null;
  #waitingLogged = false;
  #effectivePriority: number;
  readonly #pending = new Set<Promise<unknown>>();
  /** Computed once: the addresses listed in adverts and the v2 password bytes. */
  readonly #advertAddrs: Uint8Array[];
  readonly #authData: Uint8Array | null;

  constructor(spec: InstanceSpec, host: RunnerHost) {
    this.#spec = spec;
    this.#host = host;
    this.#log = host.log.child(`vrrp ${spec.name}`);
    this.#announcer = new Announcer(host.clock, host.announcePort, spec.announce);
    this.#dropLog = new RateLimiter(10_000, 5, () => host.clock.now());
    this.#effectivePriority = spec.priority;
    this.#advertAddrs = spec.vips
      .filter((v) => !v.excluded && v.family === spec.family)
      .map((v) => parseIp(v.address)!.bytes);
    this.#authData = spec.version === 2 && spec.authPassword !== null
      ? passwordBytes(spec.authPassword)
      : null;
  }

  /** The instance's settings. */
  get spec(): InstanceSpec {
    return this.#spec;
  }

  /**
   * Changes the configured priority without a restart (a reload that changed only the
   * priority). Owners (255) cannot change this way: the caller restarts them.
   */
  setBasePriority(priority: number): void {
    if (priority === 255 || this.#spec.priority === 255) {
      throw new RangeError("an address owner's priority cannot change without a restart");
    }
    this.#spec = { ...this.#spec, priority };
    this.#effectivePriority = priority;
    this.#instance?.setEffectivePriority(priority);
  }

  /** Current state (FAULT while the interface is missing). */
  get state(): VrrpState {
    return this.#state;
  }

  /** Why the last transition happened. */
  get reason(): string {
    return this.#reason;
  }

  /** When the last transition happened. */
  get since(): Date {
    return this.#since;
  }

  /** The live state machine, if the interface is ready. */
  get instance(): VrrpInstance | null {
    return this.#instance;
  }

  /** Active fault reasons. */
  get faults(): string[] {
    return [...this.#faults.values()];
  }

  /** Adverts from addresses not in unicast_peers. */
  get peerDrops(): number {
    return this.#peerDrops;
  }

  /** Address of the current master as last seen, or ours when master. */
  get masterAddress(): string | null {
    if (this.#state === "MASTER") return this.#source;
    return this.#lastMaster;
  }

  /** Effective priority (after tracking). */
  get effectivePriority(): number {
    return this.#instance?.effectivePriority ?? this.#effectivePriority;
  }

  /** Starts the instance if its interface is ready; otherwise waits in FAULT. */
  start(): void {
    this.#tryStart();
  }

  #tryStart(): boolean {
    if (this.#instance !== null) return true;
    const link = this.#host.link(this.spec.interface);
    const src = link === null ? null : (this.spec.unicastSrc ??
      this.#host.sourceAddress(link.index, this.spec.family));
    if (link === null || src === null) {
      const why = link === null
        ? `interface "${this.spec.interface}" does not exist`
        : `interface "${this.spec.interface}" has no ${
          this.spec.family === "ipv4" ? "IPv4 address" : "IPv6 link-local address"
        }`;
      this.#setFault("interface", why);
      if (!this.#waitingLogged) {
        this.#log.warn(`${why}: instance in FAULT until it appears`);
        this.#waitingLogged = true;
      }
      this.#transition("FAULT", why);
      return false;
    }
    this.#waitingLogged = false;
    this.#ifindex = link.index;
    this.#mac = link.mac;
    this.#source = src;
    try {
      this.#openSockets();
    } catch (e) {
      this.#closeSockets();
      const why = (e as Error).message;
      this.#log.error(`cannot open VRRP sockets: ${why}`);
      this.#setFault("interface", why);
      this.#transition("FAULT", why);
      this.#host.socketError?.(this, e);
      return false;
    }
    const inst = new VrrpInstance(
      {
        name: this.spec.name,
        vrid: this.spec.vrid,
        version: this.spec.version,
        family: this.spec.family,
        priority: this.spec.priority,
        advertIntervalCs: this.spec.advertIntervalCs,
        initialState: this.spec.initialState,
        preempt: this.spec.preempt,
        preemptDelayMs: this.spec.preemptDelayMs,
        primaryAddress: parseIp(src)!.bytes,
        pollInput: () => this.#host.transport.poll(this.spec.interface, this.spec.family),
      },
      this.#host.clock,
      (a) => this.#act(a),
    );
    this.#instance = inst;
    this.#faults.delete("interface");
    if (!link.up) this.#faults.set("link", `interface ${this.spec.interface} down`);
    if (this.#effectivePriority !== this.spec.priority) {
      inst.setEffectivePriority(this.#effectivePriority);
    }
    // Faults known before the start keep it in FAULT (no BACKUP -> FAULT flap).
    if (this.#faults.size > 0) inst.setFault(true, this.faults.join("; "));
    inst.start();
    return true;
  }

  #openSockets(): void {
    const s = this.spec;
    this.#listen = this.#host.transport.listen(
      s.interface,
      this.#ifindex,
      s.family,
      s.vrid,
      (pkt) => this.#receive(pkt),
    );
    const source = s.family === "ipv4" ? this.#source : s.unicastSrc;
    const sender = this.#host.transport.sender(s.interface, this.#ifindex, s.family, source);
    const dsts = s.unicastPeers.length > 0
      ? s.unicastPeers
      : [this.#host.transport.group(s.family)];
    this.#senders = dsts.map((dst) => ({ sender, dst }));
  }

  #closeSockets(): void {
    this.#listen?.[Symbol.dispose]();
    this.#listen = null;
    const seen = new Set<VrrpSender>();
    for (const { sender } of this.#senders) {
      if (!seen.has(sender)) sender[Symbol.dispose]();
      seen.add(sender);
    }
    this.#senders = [];
  }

  #receive(pkt: Received): void {
    const s = this.spec;
    if (s.unicastPeers.length > 0 && !s.unicastPeers.includes(pkt.src)) {
      this.#peerDrops++;
      this.#logDrop("peer", `advert from ${pkt.src}, which is not a unicast peer`);
      return;
    }
    const srcBytes = parseIp(pkt.src)?.bytes;
    const dstBytes = parseIp(pkt.dst)?.bytes;
    if (srcBytes === undefined || dstBytes === undefined) return;
    const verdict = validateAdvert(pkt.payload, {
      expect: {
        version: s.version,
        family: s.family,
        vrid: s.vrid,
        authType: this.#authData === null ? 0 : 1,
        authData: this.#authData,
        advertIntervalCs: s.advertIntervalCs,
        addresses: this.#advertAddrs,
      },
      hopLimit: pkt.hopLimit,
      unicast: s.unicastPeers.length > 0,
      v3Checksum: s.v3Checksum,
      src: srcBytes,
      dst: dstBytes,
    });
    if (!verdict.ok) {
      this.counters.count(verdict.reason);
      this.#logDrop(verdict.reason, `dropped advert from ${pkt.src}: ${verdict.reason}`);
      return;
    }
    if (verdict.addressMismatch) {
      this.#logDrop("addresses", `advert from ${pkt.src} lists other addresses than ours`);
    }
    if (verdict.advert.priority > 0) this.#lastMaster = pkt.src;
    this.#instance?.receive({
      priority: verdict.advert.priority,
      maxAdverIntCs: verdict.advert.maxAdverIntCs,
      src: srcBytes,
    });
  }

  /**
   * Logs a dropped or odd advert: at most 5 lines per instance per 10 s whatever the reason
   * (a flood of mixed garbage must not flood the log); the counters keep the full tally.
   */
  #logDrop(reason: string, msg: string): void {
    const suppressed = this.#dropLog.allow("drop");
    if (suppressed === null) return;
    this.#log.warn(
      suppressed > 0 ? `${msg} (${suppressed} more dropped or odd adverts not logged)` : msg,
      { reason },
    );
  }

  #act(a: Action): void {
    switch (a.type) {
      case "send-advert":
        this.#sendAdvert(a.priority, a.intervalCs);
        return;
      case "add-vips":
        this.#addVips();
        return;
      case "remove-vips":
        this.#removeVips();
        return;
      case "announce":
        this.#announcer.start(() => this.#announceTargets());
        return;
      case "state":
        this.#transition(a.to, a.reason);
        return;
      default: {
        const never: never = a;
        throw new Error(`unknown action ${JSON.stringify(never)}`);
      }
    }
  }

  #sendAdvert(priority: number, intervalCs: number): void {
    const s = this.spec;
    const src = parseIp(this.#source ?? (s.family === "ipv4" ? "0.0.0.0" : "::"))!.bytes;
    for (const { sender, dst } of this.#senders) {
      const payload = encodeAdvert({
        version: s.version,
        type: 1,
        vrid: s.vrid,
        priority,
        maxAdverIntCs: intervalCs,
        authType: this.#authData === null ? 0 : 1,
        authData: this.#authData,
        addresses: this.#advertAddrs,
      }, { family: s.family, src, dst: parseIp(dst)!.bytes, v3Checksum: s.v3Checksum });
      sender.send(payload, dst);
    }
  }

  #vipIfindex(v: VipSpec): number | null {
    if (v.device === null || v.device === this.spec.interface) return this.#ifindex;
    return this.#host.link(v.device)?.index ?? null;
  }

  #routeSpec(r: VrouteSpec): RouteSpec {
    const ifindex = r.type !== "unicast"
      ? undefined
      : r.device === null
      ? this.#ifindex
      : this.#host.link(r.device)?.index;
    return {
      family: r.family,
      to: r.to,
      prefix: r.prefix,
      ...(r.via !== null ? { via: r.via } : {}),
      ...(r.src !== null ? { src: r.src } : {}),
      ...(ifindex !== undefined ? { ifindex } : {}),
      ...(r.table !== null ? { table: r.table } : {}),
      ...(r.metric !== null ? { metric: r.metric } : {}),
      type: r.type,
      scope: r.scope === "nowhere" ? 255 : r.scope,
      ...(r.onlink ? { onlink: true } : {}),
    };
  }

  #addVips(): void {
    this.#vipsInstalled = true;
    for (const v of this.spec.vips) this.#addVip(v);
    for (const r of this.spec.routes) {
      this.#track(
        this.#host.rtnl.addRoute(this.#routeSpec(r))
          .catch((e) => this.#ignore(e, [17], `cannot add route ${r.to}/${r.prefix}`)),
      );
    }
    // keepalived's order: addresses, routes, then rules; removed in the reverse order.
    for (const r of this.spec.rules) {
      this.#track(
        this.#host.rtnl.addRule(r).catch((e) => this.#ignore(e, [17], `cannot add ${ruleText(r)}`)),
      );
    }
  }

  #addVip(v: VipSpec): void {
    const ifindex = this.#vipIfindex(v);
    const ifname = v.device ?? this.spec.interface;
    if (ifindex === null) {
      this.#log.error(`cannot add ${v.address}/${v.prefix}: interface "${ifname}" does not exist`);
      return;
    }
    this.#track(
      this.#host.rtnl.addAddress({
        ifindex,
        ifname,
        address: v.address,
        prefix: v.prefix,
        ...(v.label !== null ? { label: v.label } : {}),
        ...(v.scope !== null ? { scope: v.scope } : {}),
        nodad: v.family === "ipv6",
      }).catch((e) => this.#ignore(e, [17], `cannot add VIP`)),
    );
  }

  #removeVips(): void {
    this.#vipsInstalled = false;
    this.#announcer.stop();
    for (const r of this.spec.rules) {
      this.#track(
        this.#host.rtnl.deleteRule(r)
          .catch((e) => this.#ignore(e, [2], `cannot delete ${ruleText(r)}`)),
      );
    }
    for (const r of this.spec.routes) {
      this.#track(
        this.#host.rtnl.deleteRoute(this.#routeSpec(r))
          .catch((e) => this.#ignore(e, [2, 3], `cannot delete route ${r.to}/${r.prefix}`)),
      );
    }
    for (const v of this.spec.vips) {
      const ifindex = this.#vipIfindex(v);
      if (ifindex === null) continue;
      this.#track(
        this.#host.rtnl.deleteAddress({
          ifindex,
          ifname: v.device ?? this.spec.interface,
          address: v.address,
          prefix: v.prefix,
        }).catch((e) => this.#ignore(e, [99, 19, 2], `cannot remove VIP`)),
      );
    }
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
  }

  /** Resolves when every address and route change requested so far has been answered. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #ignore(e: unknown, errnos: number[], what: string): void {
    if (e instanceof SyscallError && errnos.includes(e.errno)) return;
    this.#log.error(`${what}: ${(e as Error).message ?? e}`);
  }

  #announceTargets(): AnnounceTarget[] {
    const out: AnnounceTarget[] = [];
    for (const v of this.spec.vips) {
      const ifname = v.device ?? this.spec.interface;
      const link = ifname === this.spec.interface
        ? { index: this.#ifindex, mac: this.#mac }
        : this.#host.link(ifname);
      if (link === null) continue;
      out.push({
        ifname,
        ifindex: link.index,
        mac: link.mac,
        family: v.family,
        address: parseIp(v.address)!.bytes,
        ...(v.family === "ipv6" ? { router: this.#host.forwarding(ifname) } : {}),
      });
    }
    return out;
  }

  #transition(to: VrrpState, reason: string): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#reason = reason;
    this.#since = new Date();
    this.#log.info(`${from} -> ${to}: ${reason}`);
    this.#host.onState(this, from, to, reason);
  }

  #setFault(key: string, reason: string): void {
    this.#faults.set(key, reason);
  }

  /** The instance's interface went up or down (rtnetlink link event). */
  linkChanged(up: boolean): void {
    if (up) {
      this.#faults.delete("link");
      if (!this.#tryStart()) return;
      if (this.#faults.size === 0) {
        this.#instance?.setFault(false, `interface ${this.spec.interface} up`);
      }
    } else {
      this.#faults.set("link", `interface ${this.spec.interface} down`);
      this.#instance?.setFault(true, `interface ${this.spec.interface} down`);
    }
  }

  /** The interface (re)appeared or its addresses changed: start if waiting. */
  linkAppeared(): void {
    if (this.#instance === null) {
      this.#faults.delete("interface");
      this.#tryStart();
    }
  }

  /** The interface was deleted: stop the machine and wait in FAULT. */
  linkDeleted(): void {
    const inst = this.#instance;
    if (inst === null) return;
    const why = `interface "${this.spec.interface}" was deleted`;
    // Straight to FAULT (a master sends priority 0 and releases); FAULT leaves no timers, so
    // the machine is dropped without a shutdown, whose INIT would run notify_stop.
    inst.setFault(true, why);
    this.#instance = null;
    this.#closeSockets();
    this.#announcer.stop();
    this.#log.warn(`${why}: instance in FAULT until it appears`);
    this.#waitingLogged = true;
    this.#setFault("interface", why);
    this.#transition("FAULT", why);
  }

  /** A tracked object changed: fault on/off (weight 0) and priority. */
  setTracking(fault: boolean, reasons: string[], effectivePriority: number): void {
    this.#effectivePriority = effectivePriority;
    if (fault) this.#faults.set("track", reasons.join("; "));
    else this.#faults.delete("track");
    const inst = this.#instance;
    if (inst === null) return;
    if (inst.effectivePriority !== effectivePriority) inst.setEffectivePriority(effectivePriority);
    inst.setFault(
      this.#faults.size > 0,
      this.#faults.size > 0 ? this.faults.join("; ") : "tracking ok",
    );
  }

  /**
   * An address was deleted from an interface. While master, a VIP deleted by hand is put
   * back and announced again (keepalived does the same).
   */
  addressDeleted(ifindex: number, address: string): void {
    if (!this.#vipsInstalled || this.#state !== "MASTER") return;
    const a = parseIp(address);
    if (a === null) return;
    for (const v of this.spec.vips) {
      if (this.#vipIfindex(v) !== ifindex) continue;
      if (!ipEqual(parseIp(v.address)!.bytes, a.bytes)) continue;
      this.#log.warn(`VIP ${formatIp(a.bytes)}/${v.prefix} was removed by hand: putting it back`);
      this.#addVip(v);
      const link = this.#host.link(v.device ?? this.spec.interface);
      if (link !== null) {
        this.#announcer.burstNow([{
          ifname: v.device ?? this.spec.interface,
          ifindex: link.index,
          mac: link.mac,
          family: v.family,
          address: a.bytes,
        }]);
      }
    }
  }

  /** Whether the VIPs are installed (between add-vips and remove-vips). */
  get vipsInstalled(): boolean {
    return this.#vipsInstalled;
  }

  /** Stops: a master sends priority 0 and removes its VIPs. */
  stop(): void {
    this.#instance?.shutdown();
    this.#instance = null;
    this.#announcer.stop();
    this.#closeSockets();
    this.#transition("INIT", "stopped");
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}
