/**
 * One VRRP instance at run time: a thin executor around the state machine (instance.ts). The
 * machine holds every piece of state (its state, faults, effective priority); the runner
 * - tells it what the host reports (the interface and its source address, tracking, priority),
 * - validates received adverts and hands the good ones to it,
 * - and carries out its actions in the order emitted: adverts through the transport, the rest
 *   through its writers (VIPs, virtual routes, announcements, and any the host adds).
 * Input waiting in the socket is handed over before a BACKUP's timer callback runs, so a
 * stalled event loop does not declare a live master dead.
 * Nothing the runner does may leave the instance silent: an action, a timer callback or a
 * received advert that throws is logged and puts the instance in FAULT ("internal"), retried
 * after INTERNAL_RETRY_MS; `stop()` never throws.
 *
 * @module
 */
import type { RuleSpec } from "../netlink/rule.ts";
import type { Clock, Timer } from "../runtime/clock.ts";
import { type Logger, RateLimiter } from "../runtime/log.ts";
import { formatIp, ipEqual, parseIp } from "../net/ip.ts";
import {
  type AddressDeps,
  type AddressTable,
  AnnounceWriter,
  RouteWriter,
  RuleWriter,
  type VipSpec,
  vipTargets,
  VipWriter,
  type VrouteSpec,
} from "./addresses.ts";
import { Announcer, type AnnounceTarget, type AnnounceTiming } from "./announce.ts";
import { DropCounters } from "./counters.ts";
import { type Action, type InstanceOptions, VrrpInstance, type VrrpState } from "./instance.ts";
import { advertCapacity, DEFAULT_MTU } from "../net/advert_capacity.ts";
import { encodeAdvert, passwordBytes } from "./packet.ts";
import type { Datagram, VrrpSender, VrrpTransport } from "./transport.ts";
import { validateAdvert } from "./validate.ts";
import type { Writer } from "./writer.ts";

export type { VipSpec, VrouteSpec };

/** The keys of an instance's spec that the state machine takes as they are. */
const MACHINE_KEYS = [
  "name",
  "vrid",
  "version",
  "family",
  "priority",
  "advertIntervalCs",
  "initialState",
  "preempt",
  "preemptDelayMs",
] as const;

/** Everything a runner needs, in kernel-ready units (the machine's settings included). */
export interface InstanceSpec extends Pick<InstanceOptions, (typeof MACHINE_KEYS)[number]> {
  interface: string;
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
  /** The instance's multicast group (keepalived mcast_dst_ip); default the family's. */
  mcastGroup?: string | null;
  /** TTL / hop limit of unicast adverts (keepalived unicast_ttl; default 255). */
  unicastTtl?: number;
  /**
   * Unicast: drop adverts from addresses that are not peers, and check the peer's TTL range
   * (keepalived check_unicast_src; default true).
   */
  checkUnicastSrc?: boolean;
  /** Per peer (same order as unicastPeers): accepted TTL / hop limits (keepalived min/max_ttl). */
  peerTtl?: { min: number; max: number }[];
  /** keepalived skip_check_adv_addr: no address-list check of the current master's adverts. */
  skipCheckAdvAddr?: boolean;
  /** keepalived lower_prio_no_advert. */
  lowerPrioNoAdvert?: boolean;
  /** keepalived higher_prio_send_advert. */
  higherPrioSendAdvert?: boolean;
  /** keepalived dont_track_primary: the interface's carrier is no fault. */
  dontTrackPrimary?: boolean;
  /** Accept_Mode (keepalived accept / no_accept; default true). */
  accept?: boolean;
  /**
   * keepalived use_vmac: the VIPs (and, unless xmitBase, the adverts) are on macvlan `name`
   * over `interface`, which the host creates.
   */
  vmac?: { name: string; xmitBase: boolean } | null;
}

/** An interface as the runner sees it. */
export interface HostLink {
  index: number;
  mac: Uint8Array;
  /** Administratively up with carrier. */
  up: boolean;
  /** The MTU, when known: how many VIPs fit in an advert (DEFAULT_MTU otherwise). */
  mtu?: number;
}

/** What the runner needs from the host: real in the agent, in memory in tests. */
export interface RunnerHost {
  clock: Clock;
  log: Logger;
  transport: VrrpTransport;
  /** Where VIPs, virtual routes and rules are written (rtnetlink in the agent). */
  table: AddressTable;
  /** Sends announcement frames (AF_PACKET in the agent). */
  announcePort: { send(t: AnnounceTarget, frame: Uint8Array): boolean };
  /** Resolves an interface by name: index, MAC, up; null when missing. */
  link(name: string): HostLink | null;
  /** The interface's source address for a family (primary IPv4 / link-local IPv6), or null. */
  sourceAddress(ifindex: number, family: "ipv4" | "ipv6"): Uint8Array | null;
  /** Whether IPv6 forwarding is on for an interface (the NA Router flag). */
  forwarding(ifname: string): boolean;
  /**
   * The runner started work that goes on asynchronously (kernel writes, notify scripts): its
   * adverts and received adverts are otherwise synchronous (see `TimerOptions.quiet`).
   */
  busy?(): void;
  /** Called on every state change (notify scripts, sync groups, status). */
  onState(r: VrrpRunner, from: VrrpState, to: VrrpState, reason: string): void;
  /** The instance's VRRP sockets could not be opened (it waits in FAULT). */
  socketError?(r: VrrpRunner, error: unknown): void;
  /** More writers for an instance (VMAC links, firewall rules, BGP routes), run after ours. */
  writers?(spec: InstanceSpec): Writer[];
  /**
   * Writers that run before the VIPs are added and, in reverse, after they are removed
   * (keepalived's no_accept firewall rules, which must be in place before the VIPs).
   */
  guards?(spec: InstanceSpec): Writer[];
}

/**
 * How long an instance stays in FAULT after an internal error before it tries again; doubled
 * at each new one, up to 5 minutes.
 */
export const INTERNAL_RETRY_MS = 10_000;
const INTERNAL_RETRY_MAX_MS = 300_000;

/** The sockets of an instance bound to one incarnation of its interface. */
interface Binding {
  ifindex: number;
  source: Uint8Array;
  listen: Disposable;
  sender: VrrpSender;
  dsts: Uint8Array[];
}

/**
 * The VIPs as installed: with a VMAC, those of the instance's family on its own interface go
 * on the VMAC; keepalived: "use_vmac applies if (no interface specified or interface ==
 * vrrp_interface) AND address families match". The others stay on the interface.
 */
function vipsOn(spec: InstanceSpec, vipIf: string): VipSpec[] {
  if (vipIf === spec.interface) return spec.vips;
  return spec.vips.map((v) => {
    const own = v.device === null || v.device === spec.interface;
    if (!own) return v;
    return { ...v, device: v.family === spec.family ? null : spec.interface };
  });
}

/** A running VRRP instance. */
export class VrrpRunner implements Disposable {
  #spec: InstanceSpec;
  /** Adverts dropped by the receive checks, by reason. */
  readonly counters = new DropCounters();
  readonly #host: RunnerHost;
  readonly #log: Logger;
  readonly #dropLog: RateLimiter;
  readonly #machine: VrrpInstance;
  readonly #vips: VipWriter;
  readonly #writers: Writer[];
  #binding: Binding | null = null;
  #peerDrops = 0;
  /** Wall clock minus the host clock, taken once, so `since` is stable between calls. */
  readonly #epochOffsetMs: number;
  /** Computed once: the addresses listed in adverts, the v2 password bytes, the peers. */
  readonly #advertAddrs: Uint8Array[];
  readonly #authData: Uint8Array | null;
  readonly #peers: Uint8Array[];
  /** Where the sockets are (the VMAC unless vmac_xmit_base), where the VIPs go, the base. */
  readonly #sockIf: string;
  readonly #vipIf: string;
  /** What last failed in our own code, while the instance is in FAULT for it. */
  #internalError: string | null = null;
  #internalRetry: Timer | null = null;
  #internalFailures = 0;
  #stopped = false;
  /** The adverts last encoded (one per destination of `binding`). */
  #advertCache: {
    binding: Binding;
    priority: number;
    intervalCs: number;
    payloads: Uint8Array[];
  } | null = null;

  constructor(spec: InstanceSpec, host: RunnerHost) {
    this.#spec = spec;
    this.#host = host;
    this.#log = host.log.child(`vrrp ${spec.name}`);
    this.#dropLog = new RateLimiter(10_000, 5, () => host.clock.now());
    this.#epochOffsetMs = Date.now() - host.clock.now();
    // keepalived: VIPs past what fits in an advert are held but not listed (moved to eVIPs).
    const listed = spec.vips.filter((v) => !v.excluded && v.family === spec.family);
    const mtu = host.link(spec.interface)?.mtu || DEFAULT_MTU;
    const room = advertCapacity(spec.family, spec.version, mtu);
    if (listed.length > room) {
      this.#log.warn(
        `${listed.length - room} of ${listed.length} VIPs are not advertised: at most ${room} ` +
          `fit in an advert on ${spec.interface} (MTU ${mtu}); they are held like ` +
          `virtual_ipaddresses_excluded (keepalived: "Number of VIPs (${listed.length}) exceeds ` +
          `maximum/space available in packet (max ${room} addresses) - excess moved to eVIPs")`,
      );
    }
    this.#advertAddrs = listed.slice(0, room).map((v) => parseIp(v.address)!.bytes);
    this.#authData = spec.version === 2 && spec.authPassword !== null
      ? passwordBytes(spec.authPassword)
      : null;
    this.#peers = spec.unicastPeers.map((p) => parseIp(p)!.bytes);
    const vmac = spec.vmac ?? null;
    this.#vipIf = vmac === null ? spec.interface : vmac.name;
    this.#sockIf = vmac === null || vmac.xmitBase ? spec.interface : vmac.name;
    // The machine's timers: a BACKUP first reads what waits in its socket (see @module).
    // They are quiet: whatever they start asynchronously goes through #act, which says so.
    const clock: Clock = {
      now: () => host.clock.now(),
      setTimer: (ms, fn) =>
        host.clock.setTimer(ms, () => {
          try {
            if (this.#machine.state === "BACKUP") this.#pollInput();
            fn();
          } catch (e) {
            this.#failed("a timer", e);
          }
        }, { quiet: true }),
    };
    this.#machine = new VrrpInstance(
      {
        ...pick(spec, MACHINE_KEYS),
        interface: this.#sockIf,
        lowerPrioNoAdvert: spec.lowerPrioNoAdvert ?? false,
        higherPrioSendAdvert: spec.higherPrioSendAdvert ?? false,
        trackLink: spec.dontTrackPrimary !== true,
      },
      clock,
      (a) => this.#act(a),
    );
    const deps: AddressDeps = { table: host.table, log: this.#log, link: (n) => host.link(n) };
    const announcer = new Announcer(host.clock, host.announcePort, spec.announce);
    const vipIf = this.#vipIf;
    this.#vips = new VipWriter(vipIf, vipsOn(spec, vipIf), deps, (t) => announcer.burstNow(t));
    this.#writers = [
      // keepalived: the no_accept drop rules go in before the VIPs and out after them.
      ...(host.guards?.(spec) ?? []),
      this.#vips,
      new RouteWriter(vipIf, spec.routes, deps),
      // keepalived's order: addresses, routes, then rules; removed in the reverse order.
      new RuleWriter(spec.rules, deps),
      new AnnounceWriter(
        announcer,
        () => vipTargets(vipIf, vipsOn(spec, vipIf), (n) => host.link(n), host.forwarding),
      ),
      ...(host.writers?.(spec) ?? []),
    ];
  }

  /** The instance's settings. */
  get spec(): InstanceSpec {
    return this.#spec;
  }

  /** The state machine (it lives as long as the runner). */
  get instance(): VrrpInstance {
    return this.#machine;
  }

  /** Current state. */
  get state(): VrrpState {
    return this.#machine.state;
  }

  /** Why the last transition happened. */
  get reason(): string {
    return this.#machine.reason;
  }

  /** When the last transition happened (wall clock). */
  get since(): Date {
    return new Date(Math.round(this.#epochOffsetMs + this.#machine.changedAtMs));
  }

  /** Active fault reasons. */
  get faults(): string[] {
    return this.#machine.faults;
  }

  /** Adverts from addresses not in unicast_peers. */
  get peerDrops(): number {
    return this.#peerDrops;
  }

  /** Address of the current master as last seen, or ours when master. */
  get masterAddress(): string | null {
    const m = this.#machine;
    const a = m.state === "MASTER" ? m.primaryAddress : m.lastSeenMaster;
    return a === null ? null : formatIp(a);
  }

  /** Effective priority (after tracking). */
  get effectivePriority(): number {
    return this.#machine.effectivePriority;
  }

  /** Whether the instance's sockets are open on its interface. */
  get bound(): boolean {
    return this.#binding !== null;
  }

  /** Whether the VIPs are installed (between add-vips and remove-vips). */
  get vipsInstalled(): boolean {
    return this.#vips.held;
  }

  /**
   * Changes the configured priority without a restart (a reload that changed only the
   * priority). Owners (255) cannot change this way: RangeError, the caller restarts them.
   */
  setBasePriority(priority: number): void {
    this.#machine.setBasePriority(priority);
    this.#spec = { ...this.#spec, priority };
  }

  /** Starts the machine; it waits in FAULT while the interface is missing or unusable. */
  start(): void {
    this.#sync();
    this.#machine.start();
  }

  /**
   * The interface may have changed (appeared, went up or down, got an address, was deleted
   * or re-created): re-reads it from the host and tells the machine.
   */
  refresh(): void {
    if (this.#machine.state === "INIT") return;
    this.#sync();
  }

  /** A tracked object changed: fault on/off (weight 0) and priority. */
  setTracking(fault: boolean, reasons: string[], effectivePriority: number): void {
    this.#machine.setEffectivePriority(effectivePriority);
    this.#machine.setFault("track", fault, fault ? reasons.join("; ") : "tracking ok");
  }

  /** An address was deleted from an interface: the writers may put back what they hold. */
  addressDeleted(ifindex: number, address: Uint8Array): void {
    for (const w of this.#writers) this.#guard(w, () => w.addressDeleted?.(ifindex, address));
  }

  /**
   * Stops: a master sends priority 0 and removes its VIPs; the sockets close. Never throws:
   * whatever fails is logged and the rest of the stop goes on.
   */
  stop(): void {
    this.#stopped = true;
    this.#internalRetry?.cancel();
    this.#internalRetry = null;
    try {
      this.#machine.shutdown("stopped");
    } catch (e) {
      this.#log.error(`shutdown failed: ${e instanceof Error ? e.message : e}`);
    }
    try {
      this.#unbind();
    } catch (e) {
      this.#log.error(`cannot close the VRRP sockets: ${e instanceof Error ? e.message : e}`);
    }
    for (const w of this.#writers) this.#guard(w, () => w[Symbol.dispose]());
  }

  /** Resolves when every address and route change requested so far has been answered. */
  async settled(): Promise<void> {
    await Promise.all(this.#writers.map((w) => w.settled()));
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  /** Binds to the interface when it is usable and tells the machine what it looks like. */
  #sync(): void {
    const s = this.#spec;
    const link = this.#host.link(this.#sockIf);
    const bound = this.#binding;
    if (bound !== null && (link === null || link.index !== bound.ifindex)) {
      // Gone or re-created: the machine leaves MASTER (priority 0, VIPs) while the sockets
      // still exist, then they close.
      this.#tell({ kind: "missing", deleted: true }, "until it appears");
      this.#unbind();
    }
    if (link === null) {
      if (bound === null) this.#tell({ kind: "missing", deleted: false }, "until it appears");
      return;
    }
    if (this.#binding === null) {
      // A VMAC has no IPv4 address of its own: IPv4 adverts go from the base's (keepalived).
      const from = s.family === "ipv4" && this.#sockIf !== s.interface
        ? this.#host.link(s.interface)?.index ?? null
        : link.index;
      const source = s.unicastSrc !== null
        ? parseIp(s.unicastSrc)!.bytes
        : from === null
        ? null
        : this.#host.sourceAddress(from, s.family);
      if (source === null) {
        this.#tell({ kind: "no-source" }, "until it has one");
        return;
      }
      try {
        this.#bind(link.index, source);
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        this.#log.error(`cannot open VRRP sockets: ${reason}`);
        this.#machine.setLink({ kind: "unusable", reason });
        this.#host.socketError?.(this, e);
        return;
      }
    }
    this.#machine.setLink({ kind: "ready", up: link.up, source: this.#binding!.source });
  }

  /** Tells the machine the interface cannot be used; logs once per new reason. */
  #tell(view: { kind: "missing"; deleted: boolean } | { kind: "no-source" }, until: string) {
    const before = this.#machine.faults;
    this.#machine.setLink(view);
    const added = this.#machine.faults.filter((f) => !before.includes(f));
    for (const f of added) this.#log.warn(`${f}: instance in FAULT ${until}`);
  }

  #bind(ifindex: number, source: Uint8Array): void {
    const s = this.#spec;
    const t = this.#host.transport;
    const group = this.#peers.length > 0 || s.mcastGroup == null
      ? t.group(s.family)
      : parseIp(s.mcastGroup)!.bytes;
    const ifname = this.#sockIf;
    const listen = t.listen(ifname, ifindex, s.family, s.vrid, (p) => this.#receive(p), group);
    try {
      // Multicast IPv4 sends from the interface's address; otherwise only unicast_src binds.
      const from = s.family === "ipv4" ? source : s.unicastSrc === null ? null : source;
      const sender = t.sender(ifname, ifindex, s.family, from, s.unicastTtl ?? 255);
      const dsts = this.#peers.length > 0 ? this.#peers : [group];
      this.#binding = { ifindex, source, listen, sender, dsts };
    } catch (e) {
      listen[Symbol.dispose]();
      throw e;
    }
  }

  #unbind(): void {
    const b = this.#binding;
    if (b === null) return;
    this.#binding = null;
    b.listen[Symbol.dispose]();
    b.sender[Symbol.dispose]();
  }

  #pollInput(): void {
    if (this.#binding !== null) this.#host.transport.poll(this.#sockIf, this.#spec.family);
  }

  #receive(pkt: Datagram): void {
    const s = this.#spec;
    const unicast = this.#peers.length > 0;
    // keepalived vrrp_check_packet(): with check_unicast_src the source must be a peer, and
    // the peer's min_ttl..max_ttl applies; without it any source is taken.
    let ttlRange: { min: number; max: number } | null = null;
    if (unicast && s.checkUnicastSrc !== false) {
      const i = this.#peers.findIndex((p) => ipEqual(p, pkt.src));
      if (i < 0) {
        this.#peerDrops++;
        this.#logDrop("peer", `advert from ${formatIp(pkt.src)}, which is not a unicast peer`);
        return;
      }
      ttlRange = s.peerTtl?.[i] ?? null;
    }
    // keepalived vrrp_state_backup(): skip_check_adv_addr trusts the current master's list.
    const master = this.#machine.masterAddress;
    const trusted = s.skipCheckAdvAddr === true && this.#machine.state === "BACKUP" &&
      master !== null && ipEqual(master, pkt.src);
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
      unicast,
      ttlRange,
      checkAddresses: !trusted,
      v3Checksum: s.v3Checksum,
      src: pkt.src,
      dst: pkt.dst,
    });
    if (!verdict.ok) {
      this.counters.count(verdict.reason);
      this.#logDrop(
        verdict.reason,
        `dropped advert from ${formatIp(pkt.src)}: ${verdict.reason}`,
      );
      return;
    }
    if (verdict.addressMismatch) {
      // RFC 3768 7.1: kept only because it comes from the address owner (priority 255).
      this.#logDrop(
        "addresses",
        `advert from the address owner ${formatIp(pkt.src)} lists other addresses than ours`,
      );
    }
    try {
      this.#machine.receive({
        priority: verdict.advert.priority,
        maxAdverIntCs: verdict.advert.maxAdverIntCs,
        src: pkt.src,
      });
    } catch (e) {
      this.#failed("a received advert", e);
    }
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

  /**
   * Carries out one action: adverts here, the rest by the writers (releases in reverse). It
   * never throws into the machine: a failure puts the instance in FAULT once the machine's
   * step is over (see #failed).
   */
  #act(a: Action): void {
    try {
      if (a.type === "send-advert") {
        this.#sendAdvert(a.priority, a.intervalCs);
        return;
      }
      this.#host.busy?.();
      const writers = a.type === "remove-vips" ? [...this.#writers].reverse() : this.#writers;
      // Every writer runs even if one fails (a release must reach them all); a failure then
      // faults the instance.
      for (const w of writers) this.#guard(w, () => w.act(a), a.type);
      if (a.type === "state") {
        this.#log.info(`${a.from} -> ${a.to}: ${a.reason}`);
        this.#host.onState(this, a.from, a.to, a.reason);
      }
    } catch (e) {
      this.#failed(a.type === "state" ? `the ${a.to} transition` : `"${a.type}"`, e);
    }
  }

  /**
   * Our own code failed (an action, a timer, a received advert): log it and put the instance in
   * FAULT, visibly (status shows "internal error: ..."), rather than leave it silent in a
   * half-done state; INTERNAL_RETRY_MS later (doubled at each new failure) the fault is cleared
   * and the instance tries again. The fault is set after the machine's current step, which the
   * failure interrupted.
   */
  #failed(what: string, e: unknown): void {
    this.#host.busy?.();
    const msg = `${what} failed: ${e instanceof Error ? e.message : String(e)}`;
    if (this.#stopped) {
      this.#log.error(`${msg} (while stopping)`);
      return;
    }
    if (this.#internalError !== null) {
      this.#log.debug(msg);
      return;
    }
    this.#internalError = msg;
    const retryMs = Math.min(
      INTERNAL_RETRY_MS * 2 ** this.#internalFailures,
      INTERNAL_RETRY_MAX_MS,
    );
    this.#internalFailures++;
    this.#log.error(`${msg}: instance in FAULT, retried in ${retryMs / 1000} s`);
    this.#host.clock.setTimer(0, () => {
      if (this.#stopped || this.#internalError === null) return;
      try {
        this.#machine.setFault("internal", true, `internal error: ${msg}`);
      } catch (err) {
        this.#log.error(`cannot enter FAULT: ${err instanceof Error ? err.message : err}`);
      }
      this.#internalRetry = this.#host.clock.setTimer(retryMs, () => {
        this.#internalRetry = null;
        this.#internalError = null;
        if (this.#stopped) return;
        try {
          this.#machine.setFault("internal", false, "retrying after an internal error");
        } catch (err) {
          this.#failed("the retry", err);
        }
      });
    });
  }

  /**
   * Runs a writer's step; a writer that throws is logged, never left to break the machine or
   * the other writers. A failed action (`action` given) faults the instance (#failed).
   */
  #guard(w: Writer, step: () => void, action?: Action["type"]): void {
    try {
      step();
    } catch (e) {
      const name = w.constructor.name === "Object" ? "a writer" : w.constructor.name;
      if (action !== undefined) this.#failed(`${name} on "${action}"`, e);
      else this.#log.error(`${name} failed: ${e instanceof Error ? e.message : e}`);
    }
  }

  #sendAdvert(priority: number, intervalCs: number): void {
    const b = this.#binding;
    if (b === null) return;
    // A master sends the same bytes every time: encoded once per binding, priority and interval.
    const c = this.#advertCache;
    if (c !== null && c.binding === b && c.priority === priority && c.intervalCs === intervalCs) {
      for (let i = 0; i < b.dsts.length; i++) b.sender.send(c.payloads[i]!, b.dsts[i]!);
      return;
    }
    const s = this.#spec;
    const payloads: Uint8Array[] = [];
    this.#advertCache = { binding: b, priority, intervalCs, payloads };
    for (const dst of b.dsts) {
      const payload = encodeAdvert({
        version: s.version,
        type: 1,
        vrid: s.vrid,
        priority,
        maxAdverIntCs: intervalCs,
        authType: this.#authData === null ? 0 : 1,
        authData: this.#authData,
        addresses: this.#advertAddrs,
      }, { family: s.family, src: b.source, dst, v3Checksum: s.v3Checksum });
      payloads.push(payload);
      b.sender.send(payload, dst);
    }
  }
}

/** The `keys` of `o`, as a new object. */
function pick<T, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = o[k];
  return out;
}
