/**
 * Typed rtnetlink on a `NetlinkConn`: list links and addresses, add and delete addresses and
 * routes, and subscribe to link/address events. Request builders and reply decoders are pure
 * and exported for tests.
 *
 * @module
 */

import { Errno, SyscallError } from "../../ffi/errno.ts";
import { formatIp, parseIp } from "../net/ip.ts";
import { AttributeDecoder, AttributeEncoder } from "./attrs.ts";
import { type NetlinkConn, openRouteConn, type ReactorLike } from "./client.ts";
import { linkDetails, type LinkRequest } from "./rtnl_link.ts";
import {
  decodeRule,
  encodeRuleRequest,
  FIB_RULE_HDR_LEN,
  RTM_DELRULE,
  RTM_GETRULE,
  RTM_NEWRULE,
  type RuleSpec,
  ruleText,
} from "./rule.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  type Decoded,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_F_NODAD,
  IFA_F_NOPREFIXROUTE,
  IFA_F_SECONDARY,
  IFA_F_TENTATIVE,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFF_RUNNING,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_MTU,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  type NlMessage,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_SITE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PREFSRC,
  RTA_PRIORITY,
  RTA_TABLE,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTN_BLACKHOLE,
  RTN_LOCAL,
  RTN_PROHIBIT,
  RTN_THROW,
  RTN_UNICAST,
  RTN_UNREACHABLE,
  RTNH_F_ONLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_LINK,
  RTPROT_KEEPALIVED,
} from "./message.ts";

/** A network interface. */
export interface Link {
  index: number;
  name: string;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: operationally up. */
  running: boolean;
  /** IFLA_ADDRESS as sent by the kernel (6 bytes for Ethernet), or null. */
  mac: Uint8Array | null;
  mtu: number;
  /** Raw IFF_* flags. */
  flags: number;
  /** IFLA_INFO_KIND ("macvlan", "veth", ...), when the kernel sent one. */
  kind?: string | null;
  /** IFLA_MACVLAN_MODE of a macvlan. */
  macvlanMode?: number | null;
  /** IFLA_LINK: the parent of a macvlan or vlan (the peer of a veth). */
  parentIndex?: number | null;
  /** IPv4 devconf (net.ipv4.conf.IF.*) by IPV4_DEVCONF number, when the kernel sent it. */
  ipv4Conf?: ReadonlyMap<number, number>;
}

/** An interface address. */
export interface Address {
  ifindex: number;
  family: "ipv4" | "ipv6";
  address: string;
  prefix: number;
  label?: string;
  /** RT_SCOPE_* number. */
  scope: number;
  /** IFA_F_* flags (IFA_FLAGS when present). */
  flags: number;
  secondary: boolean;
  tentative: boolean;
}

/** Address scope by name or number. */
export type Scope = "global" | "link" | "host" | "site" | number;

/** An address to add or delete. */
export interface AddressSpec {
  ifindex: number;
  /** Interface name, for messages. */
  ifname: string;
  address: string;
  prefix: number;
  /** IPv4 label (`eth0:1`). */
  label?: string;
  scope?: Scope;
  /** IPv6: skip duplicate address detection. */
  nodad?: boolean;
  noprefixroute?: boolean;
  /** IPv4 broadcast address. */
  broadcast?: string;
}

/** A route to add or delete. */
export interface RouteSpec {
  family: "ipv4" | "ipv6";
  to: string;
  prefix: number;
  via?: string;
  ifindex?: number;
  /** Interface name, for messages. */
  ifname?: string;
  /** Preferred source address. */
  src?: string;
  /** Table id; default main (254). */
  table?: number;
  metric?: number;
  scope?: Scope;
  type?: "unicast" | "local" | "blackhole" | "unreachable" | "prohibit" | "throw" | number;
  /**
   * RTPROT_*; default RTPROT_KEEPALIVED (18), like keepalived. A delete matches any protocol
   * unless one is given.
   */
  protocol?: number;
  /** RTNH_F_ONLINK: the gateway is on the link even when no prefix covers it. */
  onlink?: boolean;
}

/** A route as the kernel lists it (single-path routes; multipath next hops are not decoded). */
export interface Route {
  family: "ipv4" | "ipv6";
  to: string;
  prefix: number;
  table: number;
  /** RTPROT_* number. */
  protocol: number;
  /** RT_SCOPE_* number. */
  scope: number;
  /** RTN_* number. */
  type: number;
  /** Output interface, or null. */
  ifindex: number | null;
  via: string | null;
  metric: number | null;
}

/** A change reported by the kernel; `overrun` means events were lost and state must be re-read. */
export type RtnlEvent =
  | { kind: "link"; link: Link; deleted: boolean }
  | { kind: "address"; address: Address; deleted: boolean }
  | { kind: "overrun" };

const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;
const RTMSG_LEN = 12;

function scopeNumber(s: Scope | undefined, dflt: number): number {
  switch (s) {
    case undefined:
      return dflt;
    case "global":
      return RT_SCOPE_UNIVERSE;
    case "site":
      return RT_SCOPE_SITE;
    case "link":
      return RT_SCOPE_LINK;
    case "host":
      return RT_SCOPE_HOST;
    default:
      return s;
  }
}

function routeType(t: RouteSpec["type"]): number {
  switch (t) {
    case undefined:
    case "unicast":
      return RTN_UNICAST;
    case "local":
      return RTN_LOCAL;
    case "blackhole":
      return RTN_BLACKHOLE;
    case "unreachable":
      return RTN_UNREACHABLE;
    case "prohibit":
      return RTN_PROHIBIT;
    case "throw":
      return RTN_THROW;
    default:
      return t;
  }
}

function mustIp(text: string, what: string, family?: "ipv4" | "ipv6"): Uint8Array {
  const a = parseIp(text);
  if (a === null) throw new TypeError(`Invalid ${what} "${text}": not an IPv4 or IPv6 address`);
  if (family !== undefined && a.family !== family) {
    throw new TypeError(`Invalid ${what} "${text}": not an ${family} address`);
  }
  return a.bytes;
}

/** ifaddrmsg + attributes of an RTM_NEWADDR / RTM_DELADDR request, in iproute2's order. */
export function encodeAddressRequest(spec: AddressSpec): Uint8Array {
  const bytes = mustIp(spec.address, "address");
  const v4 = bytes.length === 4;
  const max = v4 ? 32 : 128;
  if (!Number.isInteger(spec.prefix) || spec.prefix < 0 || spec.prefix > max) {
    throw new RangeError(`Invalid prefix length ${spec.prefix} for ${spec.address}`);
  }
  let flags = 0;
  if (spec.nodad) flags |= IFA_F_NODAD;
  if (spec.noprefixroute) flags |= IFA_F_NOPREFIXROUTE;
  const hdr = new Uint8Array(IFADDRMSG_LEN);
  const v = new DataView(hdr.buffer);
  hdr[0] = v4 ? AF_INET : AF_INET6;
  hdr[1] = spec.prefix;
  hdr[2] = flags & 0xff;
  hdr[3] = scopeNumber(spec.scope, RT_SCOPE_UNIVERSE);
  v.setUint32(4, spec.ifindex >>> 0, true);
  const e = new AttributeEncoder();
  e.bytes(IFA_LOCAL, bytes);
  if (spec.label !== undefined) e.string(IFA_LABEL, spec.label);
  e.bytes(IFA_ADDRESS, bytes);
  if (spec.broadcast !== undefined) {
    e.bytes(IFA_BROADCAST, mustIp(spec.broadcast, "broadcast address", "ipv4"));
  }
  if (flags > 0xff) e.u32(IFA_FLAGS, flags);
  return concat(hdr, e.finish());
}

/** The rtmsg + attributes of an RTM_NEWROUTE / RTM_DELROUTE request. */
export function encodeRouteRequest(spec: RouteSpec, del: boolean): Uint8Array {
  const dst = mustIp(spec.to, "route destination", spec.family);
  const max = dst.length * 8;
  if (!Number.isInteger(spec.prefix) || spec.prefix < 0 || spec.prefix > max) {
    throw new RangeError(`Invalid prefix length ${spec.prefix} for route ${spec.to}`);
  }
  const table = spec.table ?? RT_TABLE_MAIN;
  const type = routeType(spec.type);
  // iproute2's defaults: deletes match any scope; local routes are host scope; unicast routes
  // without a gateway are link scope.
  const dfltScope = del
    ? RT_SCOPE_NOWHERE
    : type === RTN_LOCAL
    ? RT_SCOPE_HOST
    : type === RTN_UNICAST && spec.via === undefined
    ? RT_SCOPE_LINK
    : RT_SCOPE_UNIVERSE;
  const hdr = new Uint8Array(RTMSG_LEN);
  hdr[0] = spec.family === "ipv4" ? AF_INET : AF_INET6;
  hdr[1] = spec.prefix;
  hdr[4] = table < 256 ? table : 0;
  hdr[5] = del ? spec.protocol ?? 0 : spec.protocol ?? RTPROT_KEEPALIVED;
  hdr[6] = scopeNumber(spec.scope, dfltScope);
  hdr[7] = del && spec.type === undefined ? 0 : type;
  if (spec.onlink && !del) new DataView(hdr.buffer).setUint32(8, RTNH_F_ONLINK, true);
  const e = new AttributeEncoder();
  e.u32(RTA_TABLE, table);
  e.bytes(RTA_DST, dst);
  if (spec.via !== undefined) e.bytes(RTA_GATEWAY, mustIp(spec.via, "gateway", spec.family));
  if (spec.src !== undefined) e.bytes(RTA_PREFSRC, mustIp(spec.src, "source", spec.family));
  if (spec.ifindex !== undefined) e.u32(RTA_OIF, spec.ifindex);
  if (spec.metric !== undefined) e.u32(RTA_PRIORITY, spec.metric);
  return concat(hdr, e.finish());
}

/** Decodes an RTM_NEWLINK / RTM_DELLINK message. */
export function decodeLink(m: NlMessage): Decoded<Link> {
  const p = m.payload;
  if (p.length < IFINFOMSG_LEN) return { ok: false, reason: `ifinfomsg of ${p.length} bytes` };
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const flags = v.getUint32(8, true);
  const link: Link = {
    index: v.getInt32(4, true),
    name: "",
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    mac: null,
    mtu: 0,
    flags,
  };
  const d = new AttributeDecoder(p.subarray(IFINFOMSG_LEN));
  while (d.next()) {
    switch (d.type) {
      case IFLA_IFNAME:
        link.name = d.string();
        break;
      case IFLA_ADDRESS:
        link.mac = d.bytes();
        break;
      case IFLA_MTU:
        link.mtu = d.u32();
        break;
    }
  }
  const err = d.err();
  if (err !== null) return { ok: false, reason: err.message };
  const more = linkDetails(p.subarray(IFINFOMSG_LEN));
  link.kind = more.kind;
  link.macvlanMode = more.macvlanMode;
  link.parentIndex = more.parentIndex;
  link.ipv4Conf = more.ipv4Conf;
  return { ok: true, value: link };
}

/** Decodes an RTM_NEWADDR / RTM_DELADDR message. */
export function decodeAddress(m: NlMessage): Decoded<Address> {
  const p = m.payload;
  if (p.length < IFADDRMSG_LEN) return { ok: false, reason: `ifaddrmsg of ${p.length} bytes` };
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const fam = p[0]!;
  if (fam !== AF_INET && fam !== AF_INET6) {
    return { ok: false, reason: `address family ${fam}` };
  }
  let local: Uint8Array | null = null;
  let addr: Uint8Array | null = null;
  let label: string | undefined;
  let flags = p[2]!;
  const d = new AttributeDecoder(p.subarray(IFADDRMSG_LEN));
  while (d.next()) {
    switch (d.type) {
      case IFA_LOCAL:
        local = d.bytes();
        break;
      case IFA_ADDRESS:
        addr = d.bytes();
        break;
      case IFA_LABEL:
        label = d.string();
        break;
      case IFA_FLAGS:
        flags = d.u32();
        break;
    }
  }
  const err = d.err();
  if (err !== null) return { ok: false, reason: err.message };
  const bytes = local ?? addr;
  const want = fam === AF_INET ? 4 : 16;
  if (bytes === null || bytes.length !== want) {
    return { ok: false, reason: `address of ${bytes?.length ?? 0} bytes for family ${fam}` };
  }
  const a: Address = {
    ifindex: v.getUint32(4, true),
    family: fam === AF_INET ? "ipv4" : "ipv6",
    address: formatIp(bytes),
    prefix: p[1]!,
    scope: p[3]!,
    flags,
    secondary: (flags & IFA_F_SECONDARY) !== 0,
    tentative: (flags & IFA_F_TENTATIVE) !== 0,
  };
  if (label !== undefined) a.label = label;
  return { ok: true, value: a };
}

/** Decodes an RTM_NEWROUTE / RTM_DELROUTE message. */
export function decodeRoute(m: NlMessage): Decoded<Route> {
  const p = m.payload;
  if (p.length < RTMSG_LEN) return { ok: false, reason: `rtmsg of ${p.length} bytes` };
  const fam = p[0]!;
  if (fam !== AF_INET && fam !== AF_INET6) return { ok: false, reason: `route family ${fam}` };
  const len = fam === AF_INET ? 4 : 16;
  let dst: Uint8Array | null = null;
  let via: Uint8Array | null = null;
  let table = p[4]!;
  let ifindex: number | null = null;
  let metric: number | null = null;
  const d = new AttributeDecoder(p.subarray(RTMSG_LEN));
  while (d.next()) {
    switch (d.type) {
      case RTA_DST:
        dst = d.bytes();
        break;
      case RTA_GATEWAY:
        via = d.bytes();
        break;
      case RTA_TABLE:
        table = d.u32();
        break;
      case RTA_OIF:
        ifindex = d.u32();
        break;
      case RTA_PRIORITY:
        metric = d.u32();
        break;
    }
  }
  const err = d.err();
  if (err !== null) return { ok: false, reason: err.message };
  if ((dst !== null && dst.length !== len) || (via !== null && via.length !== len)) {
    return { ok: false, reason: `route address of the wrong length for family ${fam}` };
  }
  return {
    ok: true,
    value: {
      family: fam === AF_INET ? "ipv4" : "ipv6",
      to: formatIp(dst ?? new Uint8Array(len)),
      prefix: p[1]!,
      table,
      protocol: p[5]!,
      scope: p[6]!,
      type: p[7]!,
      ifindex,
      via: via === null ? null : formatIp(via),
      metric,
    },
  };
}

/** Decodes a link or address notification into an event, or null for anything else. */
export function decodeEvent(m: NlMessage): RtnlEvent | null {
  switch (m.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      const l = decodeLink(m);
      return l.ok ? { kind: "link", link: l.value, deleted: m.type === RTM_DELLINK } : null;
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      const a = decodeAddress(m);
      return a.ok ? { kind: "address", address: a.value, deleted: m.type === RTM_DELADDR } : null;
    }
    default:
      return null;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function routeText(s: RouteSpec): string {
  let t = `route ${s.to}/${s.prefix}`;
  if (s.via !== undefined) t += ` via ${s.via}`;
  if (s.ifname !== undefined) t += ` dev "${s.ifname}"`;
  else if (s.ifindex !== undefined) t += ` dev #${s.ifindex}`;
  if (s.table !== undefined && s.table !== RT_TABLE_MAIN) t += ` table ${s.table}`;
  return t;
}

/** rtnetlink operations on one connection, which it owns (disposed with it). */
export class Rtnl implements Disposable {
  readonly #conn: NetlinkConn;
  readonly #openEvents: ((groups: number[]) => NetlinkConn) | undefined;
  readonly #subs = new Set<Disposable>();

  /**
   * `openEvents` opens the separate event connection `subscribe` needs; without it (tests with
   * `FakeNetlink`) events are taken from `conn`'s notifications.
   */
  constructor(conn: NetlinkConn, openEvents?: (groups: number[]) => NetlinkConn) {
    this.#conn = conn;
    this.#openEvents = openEvents;
  }

  /** An Rtnl on real NETLINK_ROUTE sockets registered with `reactor`. */
  static open(reactor: ReactorLike): Rtnl {
    return new Rtnl(openRouteConn(reactor), (groups) => openRouteConn(reactor, groups));
  }

  /** Every link. */
  async listLinks(): Promise<Link[]> {
    const msgs = await this.#dump(RTM_GETLINK, new Uint8Array(IFINFOMSG_LEN), "Cannot list links");
    return decodeAll(msgs, RTM_NEWLINK, decodeLink);
  }

  /** One link by name, or null when there is none. */
  async linkByName(name: string): Promise<Link | null> {
    const payload = concat(
      new Uint8Array(IFINFOMSG_LEN),
      new AttributeEncoder().string(IFLA_IFNAME, name).finish(),
    );
    try {
      const msgs = await this.#conn.request(RTM_GETLINK, 0, payload, `Cannot get link "${name}"`);
      return decodeAll(msgs, RTM_NEWLINK, decodeLink)[0] ?? null;
    } catch (e) {
      if (e instanceof SyscallError && e.errno === Errno.ENODEV) return null;
      throw e;
    }
  }

  /** Every address, optionally of one family. */
  async listAddresses(family?: "ipv4" | "ipv6"): Promise<Address[]> {
    const hdr = new Uint8Array(IFADDRMSG_LEN);
    hdr[0] = family === undefined ? AF_UNSPEC : family === "ipv4" ? AF_INET : AF_INET6;
    const msgs = await this.#dump(RTM_GETADDR, hdr, "Cannot list addresses");
    return decodeAll(msgs, RTM_NEWADDR, decodeAddress);
  }

  /** Adds an address; fails with EEXIST if it is already there. */
  async addAddress(spec: AddressSpec): Promise<void> {
    const payload = encodeAddressRequest(spec);
    await this.#conn.request(
      RTM_NEWADDR,
      NLM_F_CREATE | NLM_F_EXCL,
      payload,
      `Cannot add ${spec.address}/${spec.prefix} to "${spec.ifname}"`,
    );
  }

  /** Deletes an address; fails with EADDRNOTAVAIL if it is not there. */
  async deleteAddress(spec: AddressSpec): Promise<void> {
    const payload = encodeAddressRequest(spec);
    await this.#conn.request(
      RTM_DELADDR,
      0,
      payload,
      `Cannot delete ${spec.address}/${spec.prefix} from "${spec.ifname}"`,
    );
  }

  /** Adds a route; fails with EEXIST if it is already there. */
  async addRoute(spec: RouteSpec): Promise<void> {
    await this.#conn.request(
      RTM_NEWROUTE,
      NLM_F_CREATE | NLM_F_EXCL,
      encodeRouteRequest(spec, false),
      `Cannot add ${routeText(spec)}`,
    );
  }

  /** Adds a route or replaces the one with the same destination, table and metric. */
  async replaceRoute(spec: RouteSpec): Promise<void> {
    await this.#conn.request(
      RTM_NEWROUTE,
      NLM_F_CREATE | NLM_F_REPLACE,
      encodeRouteRequest(spec, false),
      `Cannot add ${routeText(spec)}`,
    );
  }

  /**
   * Every route of a family (both when absent), optionally of one table. The kernel dumps every
   * table; the filter is applied here.
   */
  async listRoutes(family?: "ipv4" | "ipv6", table?: number): Promise<Route[]> {
    const out: Route[] = [];
    for (const f of family === undefined ? ["ipv4", "ipv6"] as const : [family]) {
      const hdr = new Uint8Array(RTMSG_LEN);
      hdr[0] = f === "ipv4" ? AF_INET : AF_INET6;
      const msgs = await this.#dump(RTM_GETROUTE, hdr, `Cannot list ${f} routes`);
      for (const r of decodeAll(msgs, RTM_NEWROUTE, decodeRoute)) {
        if (table === undefined || r.table === table) out.push(r);
      }
    }
    return out;
  }

  /** Deletes a route; fails with ESRCH if it is not there. */
  async deleteRoute(spec: RouteSpec): Promise<void> {
    await this.#conn.request(
      RTM_DELROUTE,
      0,
      encodeRouteRequest(spec, true),
      `Cannot delete ${routeText(spec)}`,
    );
  }

  /** Adds a policy routing rule; fails with EEXIST if an equal one is there. */
  async addRule(spec: RuleSpec): Promise<void> {
    await this.#conn.request(
      RTM_NEWRULE,
      NLM_F_CREATE | NLM_F_EXCL,
      encodeRuleRequest(spec),
      `Cannot add ${ruleText(spec)}`,
    );
  }

  /** Deletes the first rule that matches every selector given; ENOENT if none does. */
  async deleteRule(spec: RuleSpec): Promise<void> {
    await this.#conn.request(
      RTM_DELRULE,
      0,
      encodeRuleRequest(spec),
      `Cannot delete ${ruleText(spec)}`,
    );
  }

  /** Every policy routing rule of a family. */
  async listRules(family: "ipv4" | "ipv6"): Promise<RuleSpec[]> {
    const hdr = new Uint8Array(FIB_RULE_HDR_LEN);
    hdr[0] = family === "ipv4" ? AF_INET : AF_INET6;
    const msgs = await this.#dump(RTM_GETRULE, hdr, "Cannot list rules");
    return decodeAll(msgs, RTM_NEWRULE, decodeRule);
  }

  /** Sends a link request built by rtnl_link.ts (create, delete, up, devconf); `what` names it. */
  async linkRequest(r: LinkRequest, what: string): Promise<void> {
    await this.#conn.request(r.type, r.flags, r.payload, what);
  }

  /**
   * Streams link and IPv4/IPv6 address events (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
   * RTNLGRP_IPV6_IFADDR) until disposed. After `{ kind: "overrun" }` re-read with the list calls.
   */
  subscribe(fn: (e: RtnlEvent) => void): Disposable {
    const conn = this.#openEvents?.([RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR]) ??
      null;
    const source = conn ?? this.#conn;
    const a = source.onNotification((m) => {
      const e = decodeEvent(m);
      if (e !== null) fn(e);
    });
    const b = source.onOverrun(() => fn({ kind: "overrun" }));
    const sub: Disposable = {
      [Symbol.dispose]: () => {
        if (!this.#subs.delete(sub)) return;
        a[Symbol.dispose]();
        b[Symbol.dispose]();
        conn?.[Symbol.dispose]();
      },
    };
    this.#subs.add(sub);
    return sub;
  }

  /** Ends every subscription and closes the connection. */
  [Symbol.dispose](): void {
    for (const s of [...this.#subs]) s[Symbol.dispose]();
    this.#conn[Symbol.dispose]();
  }

  async #dump(type: number, payload: Uint8Array, what: string): Promise<NlMessage[]> {
    // A dump interrupted by a concurrent change (EINTR) is retried twice.
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#conn.request(type, NLM_F_DUMP, payload, what);
      } catch (e) {
        if (attempt >= 3 || !(e instanceof SyscallError && e.errno === Errno.EINTR)) throw e;
      }
    }
  }
}

function decodeAll<T>(msgs: NlMessage[], type: number, dec: (m: NlMessage) => Decoded<T>): T[] {
  const out: T[] = [];
  for (const m of msgs) {
    if (m.type !== type) continue;
    const d = dec(m);
    if (d.ok) out.push(d.value);
  }
  return out;
}
