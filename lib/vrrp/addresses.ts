/**
 * The VIP, virtual-route, virtual-rule and announcement writers of a VRRP instance (see
 * writer.ts): VIPs, routes and rules are added on "add-vips" and removed on "remove-vips";
 * gratuitous ARP / unsolicited
 * NA bursts start on "announce" and stop on "remove-vips". A VIP removed by hand while held is
 * put back and announced again (keepalived does the same).
 *
 * @module
 */
import { Errno, SyscallError } from "../../ffi/errno.ts";
import type { AddressSpec, RouteSpec } from "../netlink/rtnl.ts";
import { type RuleSpec, ruleText } from "../netlink/rule.ts";
import { formatIp, ipEqual, parseIp } from "../net/ip.ts";
import type { Logger } from "../runtime/log.ts";
import type { Announcer, AnnounceTarget } from "./announce.ts";
import { Pending, type Writer, type WriterAction } from "./writer.ts";

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

/** The kernel calls the writers make (rtnetlink's `Rtnl` in the agent, memory in tests). */
export interface AddressTable {
  /** Adds an address; rejects with a SyscallError (EEXIST when present). */
  addAddress(spec: AddressSpec): Promise<void>;
  /** Deletes an address; rejects with a SyscallError (EADDRNOTAVAIL when absent). */
  deleteAddress(spec: AddressSpec): Promise<void>;
  /** Adds a route; rejects with a SyscallError (EEXIST when present). */
  addRoute(spec: RouteSpec): Promise<void>;
  /** Deletes a route; rejects with a SyscallError (ESRCH when absent). */
  deleteRoute(spec: RouteSpec): Promise<void>;
  /** Adds a policy rule; rejects with a SyscallError (EEXIST when present). */
  addRule(spec: RuleSpec): Promise<void>;
  /** Deletes a policy rule; rejects with a SyscallError (ENOENT when absent). */
  deleteRule(spec: RuleSpec): Promise<void>;
}

/** An interface as the writers need it. */
export interface LinkRef {
  index: number;
  mac: Uint8Array;
}

/** What the address writers look up and where they write. */
export interface AddressDeps {
  table: AddressTable;
  log: Logger;
  /** Resolves an interface by name; null when missing. */
  link(name: string): LinkRef | null;
}

/** Adds an instance's VIPs on "add-vips" and removes exactly those on "remove-vips". */
export class VipWriter implements Writer {
  readonly #ifname: string;
  readonly #vips: readonly VipSpec[];
  readonly #deps: AddressDeps;
  readonly #reannounce: (targets: AnnounceTarget[]) => void;
  readonly #pending = new Pending();
  /** What was asked of the kernel at the last "add-vips", or null when not held. */
  #installed: { vip: VipSpec; spec: AddressSpec; bytes: Uint8Array }[] | null = null;

  /** `ifname` is the instance's interface; `reannounce` sends a burst for a VIP put back. */
  constructor(
    ifname: string,
    vips: readonly VipSpec[],
    deps: AddressDeps,
    reannounce: (targets: AnnounceTarget[]) => void,
  ) {
    this.#ifname = ifname;
    this.#vips = vips;
    this.#deps = deps;
    this.#reannounce = reannounce;
  }

  /** Whether the VIPs are held (between add-vips and remove-vips). */
  get held(): boolean {
    return this.#installed !== null;
  }

  act(a: WriterAction): void {
    if (a.type === "add-vips") this.#add();
    else if (a.type === "remove-vips") this.#remove();
  }

  #add(): void {
    this.#installed = [];
    for (const vip of this.#vips) {
      const ifname = vip.device ?? this.#ifname;
      const link = this.#deps.link(ifname);
      if (link === null) {
        this.#deps.log.error(
          `cannot add ${vip.address}/${vip.prefix}: interface "${ifname}" does not exist`,
        );
        continue;
      }
      const spec: AddressSpec = {
        ifindex: link.index,
        ifname,
        address: vip.address,
        prefix: vip.prefix,
        ...(vip.label !== null ? { label: vip.label } : {}),
        ...(vip.scope !== null ? { scope: vip.scope } : {}),
        nodad: vip.family === "ipv6",
      };
      this.#installed.push({ vip, spec, bytes: parseIp(vip.address)!.bytes });
      this.#addOne(spec);
    }
  }

  #addOne(spec: AddressSpec): void {
    this.#pending.track(
      this.#deps.table.addAddress(spec)
        .catch((e) => ignore(this.#deps.log, e, [Errno.EEXIST], "cannot add VIP")),
    );
  }

  #remove(): void {
    const installed = this.#installed ?? [];
    this.#installed = null;
    for (const { spec } of installed) {
      this.#pending.track(
        this.#deps.table.deleteAddress({
          ifindex: spec.ifindex,
          ifname: spec.ifname,
          address: spec.address,
          prefix: spec.prefix,
        }).catch((e) =>
          ignore(
            this.#deps.log,
            e,
            [Errno.EADDRNOTAVAIL, Errno.ENODEV, Errno.ENOENT],
            "cannot remove VIP",
          )
        ),
      );
    }
  }

  addressDeleted(ifindex: number, address: Uint8Array): void {
    for (const { vip, spec, bytes } of this.#installed ?? []) {
      if (spec.ifindex !== ifindex || !ipEqual(bytes, address)) continue;
      this.#deps.log.warn(
        `VIP ${formatIp(bytes)}/${vip.prefix} was removed by hand: putting it back`,
      );
      this.#addOne(spec);
      const link = this.#deps.link(spec.ifname);
      if (link !== null) {
        this.#reannounce([{
          ifname: spec.ifname,
          ifindex: link.index,
          mac: link.mac,
          family: vip.family,
          address: bytes,
        }]);
      }
    }
  }

  settled(): Promise<void> {
    return this.#pending.settled();
  }

  [Symbol.dispose](): void {}
}

/** Adds an instance's virtual routes on "add-vips" and removes exactly those on "remove-vips". */
export class RouteWriter implements Writer {
  readonly #ifname: string;
  readonly #routes: readonly VrouteSpec[];
  readonly #deps: AddressDeps;
  readonly #pending = new Pending();
  #installed: RouteSpec[] | null = null;

  /** `ifname` is the instance's interface (routes without a device go there). */
  constructor(ifname: string, routes: readonly VrouteSpec[], deps: AddressDeps) {
    this.#ifname = ifname;
    this.#routes = routes;
    this.#deps = deps;
  }

  act(a: WriterAction): void {
    if (a.type === "add-vips") this.#add();
    else if (a.type === "remove-vips") this.#remove();
  }

  #add(): void {
    this.#installed = this.#routes.map((r) => this.#spec(r));
    for (const spec of this.#installed) {
      this.#pending.track(
        this.#deps.table.addRoute(spec).catch((e) =>
          ignore(this.#deps.log, e, [Errno.EEXIST], `cannot add route ${spec.to}/${spec.prefix}`)
        ),
      );
    }
  }

  #remove(): void {
    const installed = this.#installed ?? [];
    this.#installed = null;
    for (const spec of installed) {
      this.#pending.track(
        this.#deps.table.deleteRoute(spec).catch((e) =>
          ignore(
            this.#deps.log,
            e,
            [Errno.ENOENT, Errno.ESRCH],
            `cannot delete route ${spec.to}/${spec.prefix}`,
          )
        ),
      );
    }
  }

  #spec(r: VrouteSpec): RouteSpec {
    const ifindex = r.type !== "unicast"
      ? undefined
      : this.#deps.link(r.device ?? this.#ifname)?.index;
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

  settled(): Promise<void> {
    return this.#pending.settled();
  }

  [Symbol.dispose](): void {}
}

/** Adds an instance's policy rules (virtual_rules) on "add-vips", removes them on "remove-vips". */
export class RuleWriter implements Writer {
  readonly #rules: readonly RuleSpec[];
  readonly #deps: AddressDeps;
  readonly #pending = new Pending();
  #held = false;

  constructor(rules: readonly RuleSpec[], deps: AddressDeps) {
    this.#rules = rules;
    this.#deps = deps;
  }

  act(a: WriterAction): void {
    if (a.type === "add-vips") {
      this.#held = true;
      for (const r of this.#rules) {
        this.#pending.track(
          this.#deps.table.addRule(r).catch((e) =>
            ignore(this.#deps.log, e, [Errno.EEXIST], `cannot add ${ruleText(r)}`)
          ),
        );
      }
    } else if (a.type === "remove-vips" && this.#held) {
      this.#held = false;
      for (const r of this.#rules) {
        this.#pending.track(
          this.#deps.table.deleteRule(r).catch((e) =>
            ignore(this.#deps.log, e, [Errno.ENOENT], `cannot delete ${ruleText(r)}`)
          ),
        );
      }
    }
  }

  settled(): Promise<void> {
    return this.#pending.settled();
  }

  [Symbol.dispose](): void {}
}

/**
 * Starts the announcer's bursts on "announce", stops them on "remove-vips", and sends the
 * lower-priority bursts on "lower-priority".
 */
export class AnnounceWriter implements Writer {
  readonly #announcer: Announcer;
  readonly #targets: () => AnnounceTarget[];

  /** `targets` is read at each burst, so a new MAC or a VIP's interface is honoured. */
  constructor(announcer: Announcer, targets: () => AnnounceTarget[]) {
    this.#announcer = announcer;
    this.#targets = targets;
  }

  act(a: WriterAction): void {
    if (a.type === "announce") this.#announcer.start(this.#targets);
    else if (a.type === "remove-vips") this.#announcer.stop();
    // keepalived garp_lower_prio_repeat / garp_lower_prio_delay.
    else if (a.type === "lower-priority") this.#announcer.lowerPriority(this.#targets);
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  [Symbol.dispose](): void {
    this.#announcer.stop();
  }
}

/** The announcement targets of `vips` (those whose interface exists). */
export function vipTargets(
  ifname: string,
  vips: readonly VipSpec[],
  link: (name: string) => LinkRef | null,
  forwarding: (ifname: string) => boolean,
): AnnounceTarget[] {
  const out: AnnounceTarget[] = [];
  for (const v of vips) {
    const name = v.device ?? ifname;
    const l = link(name);
    if (l === null) continue;
    out.push({
      ifname: name,
      ifindex: l.index,
      mac: l.mac,
      family: v.family,
      address: parseIp(v.address)!.bytes,
      ...(v.family === "ipv6" ? { router: forwarding(name) } : {}),
    });
  }
  return out;
}

/** Logs `e` unless it is a SyscallError with one of `errnos` (the wanted state is reached). */
function ignore(log: Logger, e: unknown, errnos: number[], what: string): void {
  if (e instanceof SyscallError && errnos.includes(e.errno)) return;
  log.error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
}
