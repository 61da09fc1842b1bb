/**
 * IPVS generic netlink messages (include/uapi/linux/ip_vs.h), pure: request attributes for the
 * service and destination commands, and decoders for GET_SERVICE / GET_DEST dumps and GET_INFO.
 * The genl header is added by `Genl.request`; these functions deal in attribute bytes only.
 *
 * @module
 */

import { AttributeDecoder, AttributeEncoder } from "../netlink/attrs.ts";
import { formatIp, formatIpv4, isIpv4, parseIp, parseIpv4Into } from "../net/ip.ts";
import {
  addressFamily,
  type Destination,
  type Forwarding,
  fullNetmask,
  type IpvsFamily,
  type IpvsProtocol,
  type IpvsStats,
  type Service,
  type ServiceFlags,
  type ServiceKey,
  type TunnelType,
} from "./types.ts";

/** A decode result: wire input never throws. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The generic netlink family name and the version we speak. */
export const IPVS_GENL_NAME = "IPVS";
/** IPVS_GENL_VERSION. */
export const IPVS_GENL_VERSION = 1;

/** IPVS_CMD_* numbers. */
export const IpvsCmd = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** IPVS_CMD_ATTR_*. */
const CMD_ATTR = { SERVICE: 1, DEST: 2, DAEMON: 3 } as const;

/** IPVS_DAEMON_ATTR_*. */
const DAEMON = {
  STATE: 1,
  MCAST_IFN: 2,
  SYNC_ID: 3,
  SYNC_MAXLEN: 4,
  MCAST_GROUP: 5,
  MCAST_GROUP6: 6,
  MCAST_PORT: 7,
  MCAST_TTL: 8,
} as const;

/** IP_VS_STATE_MASTER / IP_VS_STATE_BACKUP. */
const DAEMON_STATE = { master: 1, backup: 2 } as const;

/** A connection synchronisation daemon of the kernel (ipvsadm --start-daemon). */
export interface SyncDaemon {
  role: "master" | "backup";
  /** Interface the sync multicast goes out of (master) or is received on (backup). */
  interface: string;
  syncId: number;
  /** UDP payload size; absent: the kernel's (from the interface MTU). */
  maxLen?: number;
  /** IPv4 multicast group; absent: 224.0.0.81. */
  group?: string;
  /** UDP port; absent: 8848. */
  port?: number;
  /** Multicast TTL; absent: 1. */
  ttl?: number;
}

/** IPVS_SVC_ATTR_*. */
const SVC = {
  AF: 1,
  PROTOCOL: 2,
  ADDR: 3,
  PORT: 4,
  FWMARK: 5,
  SCHED_NAME: 6,
  FLAGS: 7,
  TIMEOUT: 8,
  NETMASK: 9,
  STATS: 10,
  PE_NAME: 11,
  STATS64: 12,
} as const;

/** IPVS_DEST_ATTR_*. */
const DEST = {
  ADDR: 1,
  PORT: 2,
  FWD_METHOD: 3,
  WEIGHT: 4,
  U_THRESH: 5,
  L_THRESH: 6,
  ACTIVE_CONNS: 7,
  INACT_CONNS: 8,
  PERSIST_CONNS: 9,
  STATS: 10,
  ADDR_FAMILY: 11,
  STATS64: 12,
  TUN_TYPE: 13,
  TUN_PORT: 14,
  TUN_FLAGS: 15,
} as const;

/** IPVS_STATS_ATTR_*. */
const STATS = { CONNS: 1, INPKTS: 2, OUTPKTS: 3, INBYTES: 4, OUTBYTES: 5 } as const;

/** IPVS_INFO_ATTR_*. */
const INFO = { VERSION: 1, CONN_TAB_SIZE: 2 } as const;

/** IP_VS_SVC_F_* bits. */
const SVC_F = {
  PERSISTENT: 0x1,
  HASHED: 0x2,
  ONEPACKET: 0x4,
  SCHED1: 0x8,
  SCHED2: 0x10,
} as const;

const AF = { ipv4: 2, ipv6: 10 } as const;
const PROTO: Record<IpvsProtocol, number> = { tcp: 6, udp: 17, sctp: 132 };
const FWD: Record<Forwarding, number> = { nat: 0, local: 1, tun: 2, dr: 3 };
const TUN: Record<TunnelType, number> = { ipip: 0, gue: 1, gre: 2 };
const PROTO_BY_NUMBER = new Map(Object.entries(PROTO).map(([k, v]) => [v, k as IpvsProtocol]));
const FWD_BY_NUMBER = new Map(Object.entries(FWD).map(([k, v]) => [v, k as Forwarding]));
/** sizeof(union nf_inet_addr): addresses always travel in 16 bytes. */
const ADDR_LEN = 16;

/** A request ready for `Genl.request(family, cmd, attrs, flags, what)`. */
export interface IpvsRequest {
  cmd: number;
  attrs: Uint8Array;
  /** True for GET dumps (send with NLM_F_DUMP). */
  dump: boolean;
}

/** Writes `address` as 16 bytes (`union nf_inet_addr`); IPv4 text takes the fast path. */
function addrAttr(
  w: AttributeEncoder,
  type: number,
  address: string,
  family: IpvsFamily,
  what: string,
) {
  if (family === "ipv4" && parseIpv4Into(address, addr4)) {
    w.bytes(type, addr4, ADDR_LEN);
    return;
  }
  const ip = parseIp(address);
  if (ip === null || ip.family !== family) {
    throw new TypeError(`${what}: "${address}" is not an ${family} address`);
  }
  w.bytes(type, ip.bytes, ADDR_LEN);
}

const addr4 = new Uint8Array(4);

/** `struct ip_vs_flags { __u32 flags; __u32 mask; }`, host order. */
function flagsAttr(w: AttributeEncoder, type: number, flags: number, mask: number): void {
  flagsView.setUint32(0, flags >>> 0, true);
  flagsView.setUint32(4, mask >>> 0, true);
  w.bytes(type, flagsBytes);
}

const flagsBytes = new Uint8Array(8);
const flagsView = new DataView(flagsBytes.buffer);

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`${what}: port ${port} is out of range 0..65535`);
  }
}

function keyAttrs(w: AttributeEncoder, key: ServiceKey): void {
  w.u16(SVC.AF, AF[key.family]);
  if ("fwmark" in key) {
    w.u32(SVC.FWMARK, key.fwmark);
    return;
  }
  checkPort(key.port, `service ${key.address}`);
  w.u16(SVC.PROTOCOL, PROTO[key.protocol]);
  addrAttr(w, SVC.ADDR, key.address, key.family, "service");
  w.u16be(SVC.PORT, key.port);
}

/** The kernel's flag word of a service (hashed is never sent). */
export function serviceFlagBits(f: ServiceFlags): number {
  let bits = 0;
  if (f.persistent) bits |= SVC_F.PERSISTENT;
  if (f.onePacket) bits |= SVC_F.ONEPACKET;
  if (f.shFallback || f.mhFallback) bits |= SVC_F.SCHED1;
  if (f.shPort || f.mhPort) bits |= SVC_F.SCHED2;
  return bits;
}

function netmaskAttr(w: AttributeEncoder, s: Service): void {
  if (s.key.family === "ipv4") {
    if (parseIpv4Into(s.netmask, addr4)) {
      w.bytes(SVC.NETMASK, addr4);
      return;
    }
    throw new TypeError(`service netmask "${s.netmask}" is not an IPv4 mask`);
  }
  // IPv6 services carry a prefix length, in host order.
  const len = Number(s.netmask);
  if (!Number.isInteger(len) || len < 0 || len > 128) {
    throw new RangeError(`IPv6 service netmask "${s.netmask}" is not a prefix length 0..128`);
  }
  w.u32(SVC.NETMASK, len);
}

function serviceAttrs(w: AttributeEncoder, s: Service): void {
  keyAttrs(w, s.key);
  w.string(SVC.SCHED_NAME, s.scheduler);
  flagsAttr(w, SVC.FLAGS, serviceFlagBits(s.flags), 0xffffffff & ~SVC_F.HASHED);
  w.u32(SVC.TIMEOUT, s.timeoutS);
  netmaskAttr(w, s);
}

function destAttrs(w: AttributeEncoder, d: Destination, full: boolean): void {
  const family: IpvsFamily | null = isIpv4(d.address) ? "ipv4" : addressFamily(d.address);
  if (family === null) throw new TypeError(`destination "${d.address}" is not an address`);
  checkPort(d.port, `destination ${d.address}`);
  addrAttr(w, DEST.ADDR, d.address, family, "destination");
  w.u16be(DEST.PORT, d.port);
  w.u16(DEST.ADDR_FAMILY, AF[family]);
  if (!full) return;
  w.u32(DEST.FWD_METHOD, FWD[d.forwarding]);
  w.u32(DEST.WEIGHT, d.weight);
  w.u32(DEST.U_THRESH, d.upperThreshold);
  w.u32(DEST.L_THRESH, d.lowerThreshold);
  if (d.forwarding === "tun") {
    w.u8(DEST.TUN_TYPE, TUN[d.tunnelType ?? "ipip"]);
    w.u16be(DEST.TUN_PORT, d.tunnelPort ?? 0);
  }
}

/** One writer for every request: encoding is synchronous, so it is never shared. */
const writer = new AttributeEncoder(512);

function request(cmd: number, fn: (w: AttributeEncoder) => void, dump = false): IpvsRequest {
  const w = writer.reset();
  fn(w);
  return { cmd, attrs: w.finish(), dump };
}

function nested(w: AttributeEncoder, type: number, fn: () => void): void {
  const at = w.open(type);
  fn();
  w.close(at);
}

/** IPVS_CMD_NEW_SERVICE (add) or SET_SERVICE (edit) with every setting. */
export function encodeService(s: Service, edit = false): IpvsRequest {
  return request(
    edit ? IpvsCmd.SET_SERVICE : IpvsCmd.NEW_SERVICE,
    (w) => nested(w, CMD_ATTR.SERVICE, () => serviceAttrs(w, s)),
  );
}

/** IPVS_CMD_DEL_SERVICE. */
export function encodeDeleteService(key: ServiceKey): IpvsRequest {
  return request(
    IpvsCmd.DEL_SERVICE,
    (w) => nested(w, CMD_ATTR.SERVICE, () => keyAttrs(w, key)),
  );
}

/** IPVS_CMD_NEW_DEST (add) or SET_DEST (edit) of `dest` in service `key`. */
export function encodeDest(key: ServiceKey, dest: Destination, edit = false): IpvsRequest {
  return request(edit ? IpvsCmd.SET_DEST : IpvsCmd.NEW_DEST, (w) => {
    nested(w, CMD_ATTR.SERVICE, () => keyAttrs(w, key));
    nested(w, CMD_ATTR.DEST, () => destAttrs(w, dest, true));
  });
}

/** IPVS_CMD_DEL_DEST. */
export function encodeDeleteDest(key: ServiceKey, dest: Destination): IpvsRequest {
  return request(IpvsCmd.DEL_DEST, (w) => {
    nested(w, CMD_ATTR.SERVICE, () => keyAttrs(w, key));
    nested(w, CMD_ATTR.DEST, () => destAttrs(w, dest, false));
  });
}

/** IPVS_CMD_GET_SERVICE as a dump of every service. */
export function encodeGetServices(): IpvsRequest {
  return request(IpvsCmd.GET_SERVICE, () => {}, true);
}

/** IPVS_CMD_GET_DEST as a dump of the destinations of service `key`. */
export function encodeGetDests(key: ServiceKey): IpvsRequest {
  return request(
    IpvsCmd.GET_DEST,
    (w) => nested(w, CMD_ATTR.SERVICE, () => keyAttrs(w, key)),
    true,
  );
}

/** IPVS_CMD_FLUSH: deletes every service. */
export function encodeFlush(): IpvsRequest {
  return request(IpvsCmd.FLUSH, () => {});
}

/** IPVS_CMD_NEW_DAEMON: starts a sync daemon. */
export function encodeNewDaemon(d: SyncDaemon): IpvsRequest {
  return request(IpvsCmd.NEW_DAEMON, (w) =>
    nested(w, CMD_ATTR.DAEMON, () => {
      w.u32(DAEMON.STATE, DAEMON_STATE[d.role]);
      w.string(DAEMON.MCAST_IFN, d.interface);
      w.u32(DAEMON.SYNC_ID, d.syncId);
      if (d.maxLen !== undefined) w.u16(DAEMON.SYNC_MAXLEN, d.maxLen);
      if (d.group !== undefined) {
        const g = new Uint8Array(4);
        if (!parseIpv4Into(d.group, g)) {
          throw new TypeError(`sync daemon group "${d.group}" is not IPv4`);
        }
        w.bytes(DAEMON.MCAST_GROUP, g);
      }
      if (d.port !== undefined) w.u16(DAEMON.MCAST_PORT, d.port);
      if (d.ttl !== undefined) w.u8(DAEMON.MCAST_TTL, d.ttl);
    }));
}

/** IPVS_CMD_DEL_DAEMON: stops the sync daemon of `role`. */
export function encodeDelDaemon(role: SyncDaemon["role"]): IpvsRequest {
  return request(
    IpvsCmd.DEL_DAEMON,
    (w) => nested(w, CMD_ATTR.DAEMON, () => w.u32(DAEMON.STATE, DAEMON_STATE[role])),
  );
}

/** IPVS_CMD_GET_DAEMON as a dump of the running sync daemons. */
export function encodeGetDaemons(): IpvsRequest {
  return request(IpvsCmd.GET_DAEMON, () => {}, true);
}

/** One reply of a GET_DAEMON dump: the role, interface and sync id of a running daemon. */
export function decodeDaemon(
  attrs: Uint8Array,
): Decoded<{ role: SyncDaemon["role"]; interface: string; syncId: number }> {
  const d = new AttributeDecoder(attrs);
  while (d.next()) {
    if (d.type !== CMD_ATTR.DAEMON) continue;
    let state = 0, ifn = "", id = -1;
    d.nested((n) => {
      while (n.next()) {
        if (n.type === DAEMON.STATE) state = n.u32();
        else if (n.type === DAEMON.MCAST_IFN) ifn = n.string();
        else if (n.type === DAEMON.SYNC_ID) id = n.u32();
      }
    });
    const role = state === DAEMON_STATE.master
      ? "master"
      : state === DAEMON_STATE.backup
      ? "backup"
      : null;
    if (role === null || id < 0) return { ok: false, reason: "daemon reply lacks state or id" };
    return { ok: true, value: { role, interface: ifn, syncId: id } };
  }
  if (d.err() !== null) return { ok: false, reason: d.err()!.message };
  return { ok: false, reason: "no daemon attribute" };
}

/** IPVS_CMD_GET_INFO. */
export function encodeGetInfo(): IpvsRequest {
  return request(IpvsCmd.GET_INFO, () => {});
}

function familyOf(af: number): IpvsFamily | null {
  return af === AF.ipv4 ? "ipv4" : af === AF.ipv6 ? "ipv6" : null;
}

function addrText(bytes: Uint8Array, family: IpvsFamily): string | null {
  if (family === "ipv4") return bytes.length < 4 ? null : formatIpv4(bytes);
  return bytes.length < 16 ? null : formatIp(bytes.subarray(0, 16));
}

function decodeStats(d: AttributeDecoder, wide: boolean): IpvsStats {
  const s: IpvsStats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
  d.nested((n) => readStats(n, wide, s));
  return s;
}

function readStats(n: AttributeDecoder, wide: boolean, s: IpvsStats): void {
  while (n.next()) {
    const v = wide || n.length === 8 ? n.u64Number() : n.u32();
    switch (n.type) {
      case STATS.CONNS:
        s.conns = v;
        break;
      case STATS.INPKTS:
        s.inPkts = v;
        break;
      case STATS.OUTPKTS:
        s.outPkts = v;
        break;
      case STATS.INBYTES:
        s.inBytes = v;
        break;
      case STATS.OUTBYTES:
        s.outBytes = v;
        break;
    }
  }
}

/** Finds the nested attribute `type` at the top level of `attrs` and decodes it with `fn`. */
function withNested<T>(
  attrs: Uint8Array,
  type: number,
  fn: (d: AttributeDecoder) => Decoded<T>,
  start: number,
  end: number,
): Decoded<T> {
  const stop = Math.min(end, attrs.length);
  const d = new AttributeDecoder(attrs, Math.min(start, stop), stop);
  let out: Decoded<T> | null = null;
  while (d.next()) {
    if (d.type === type && out === null) {
      d.nested((n) => (out = fn(n)));
    }
  }
  if (d.err() !== null) return { ok: false, reason: d.err()!.message };
  return out ?? { ok: false, reason: `no nested attribute ${type}` };
}

/**
 * Decodes the attributes of one GET_SERVICE dump reply (after the genl header, or
 * `attrs[start, end)`); without `counters` the traffic counters are skipped (a diff ignores them).
 */
export function decodeService(
  attrs: Uint8Array,
  counters = true,
  start = 0,
  end = attrs.length,
): Decoded<Service> {
  return withNested(
    attrs,
    CMD_ATTR.SERVICE,
    (d) => {
      let af = 0, protocol = 0, port = 0, fwmark = 0, timeoutS = 0, bits = 0;
      let addr: Uint8Array | null = null, netmask: Uint8Array | null = null;
      let scheduler = "";
      let stats: IpvsStats | undefined;
      let stats32: IpvsStats | undefined;
      while (d.next()) {
        switch (d.type) {
          case SVC.AF:
            af = d.u16();
            break;
          case SVC.PROTOCOL:
            protocol = d.u16();
            break;
          case SVC.ADDR:
            addr = d.view();
            break;
          case SVC.PORT:
            port = d.u16be();
            break;
          case SVC.FWMARK:
            fwmark = d.u32();
            break;
          case SVC.SCHED_NAME:
            scheduler = d.string();
            break;
          case SVC.FLAGS:
            bits = d.firstU32();
            break;
          case SVC.TIMEOUT:
            timeoutS = d.u32();
            break;
          case SVC.NETMASK:
            netmask = d.view();
            break;
          case SVC.STATS64:
            if (counters) stats = decodeStats(d, true);
            break;
          case SVC.STATS:
            if (counters) stats32 = decodeStats(d, false);
            break;
        }
      }
      if (d.err() !== null) return { ok: false, reason: d.err()!.message };
      const family = familyOf(af);
      if (family === null) return { ok: false, reason: `service address family ${af}` };
      let key: ServiceKey;
      if (fwmark !== 0) key = { family, fwmark };
      else {
        const proto = PROTO_BY_NUMBER.get(protocol);
        if (proto === undefined) return { ok: false, reason: `service protocol ${protocol}` };
        const address = addr === null ? null : addrText(addr, family);
        if (address === null) return { ok: false, reason: "service without a valid address" };
        key = { family, protocol: proto, address, port };
      }
      let mask = fullNetmask(family);
      if (netmask !== null && netmask.length === 4) {
        mask = family === "ipv4"
          ? formatIp(netmask)
          : String(new DataView(netmask.buffer, netmask.byteOffset, 4).getUint32(0, true));
      }
      const mh = scheduler === "mh";
      const flags: ServiceFlags = {};
      if (bits & SVC_F.PERSISTENT) flags.persistent = true;
      if (bits & SVC_F.HASHED) flags.hashed = true;
      if (bits & SVC_F.ONEPACKET) flags.onePacket = true;
      if (bits & SVC_F.SCHED1) flags[mh ? "mhFallback" : "shFallback"] = true;
      if (bits & SVC_F.SCHED2) flags[mh ? "mhPort" : "shPort"] = true;
      const s: Service = { key, scheduler, flags, timeoutS, netmask: mask };
      const st = stats ?? stats32;
      if (st !== undefined) s.stats = st;
      return { ok: true, value: s };
    },
    start,
    end,
  );
}

/**
 * Decodes the attributes of one GET_DEST dump reply (after the genl header, or
 * `attrs[start, end)`); without `counters` the traffic counters and connection counts are skipped.
 */
export function decodeDest(
  attrs: Uint8Array,
  serviceFamily: IpvsFamily,
  counters = true,
  start = 0,
  end = attrs.length,
): Decoded<Destination> {
  return withNested(
    attrs,
    CMD_ATTR.DEST,
    (d) => {
      let addr: Uint8Array | null = null;
      let af = 0, port = 0, fwd = 0, weight = 0, upper = 0, lower = 0, active = 0, inactive = 0;
      let tunType = -1, tunPort = 0;
      let stats: IpvsStats | undefined;
      let stats32: IpvsStats | undefined;
      while (d.next()) {
        switch (d.type) {
          case DEST.ADDR:
            addr = d.view();
            break;
          case DEST.PORT:
            port = d.u16be();
            break;
          case DEST.ADDR_FAMILY:
            af = d.u16();
            break;
          case DEST.FWD_METHOD:
            fwd = d.u32() & 0x7;
            break;
          case DEST.WEIGHT:
            weight = d.u32() | 0;
            break;
          case DEST.U_THRESH:
            upper = d.u32();
            break;
          case DEST.L_THRESH:
            lower = d.u32();
            break;
          case DEST.ACTIVE_CONNS:
            active = d.u32();
            break;
          case DEST.INACT_CONNS:
            inactive = d.u32();
            break;
          case DEST.TUN_TYPE:
            tunType = d.u8();
            break;
          case DEST.TUN_PORT:
            tunPort = d.u16be();
            break;
          case DEST.STATS64:
            if (counters) stats = decodeStats(d, true);
            break;
          case DEST.STATS:
            if (counters) stats32 = decodeStats(d, false);
            break;
        }
      }
      if (d.err() !== null) return { ok: false, reason: d.err()!.message };
      const family = af === 0 ? serviceFamily : familyOf(af);
      if (family === null) return { ok: false, reason: `destination address family ${af}` };
      const address = addr === null ? null : addrText(addr, family);
      if (address === null) return { ok: false, reason: "destination without a valid address" };
      const forwarding = FWD_BY_NUMBER.get(fwd);
      if (forwarding === undefined) return { ok: false, reason: `forwarding method ${fwd}` };
      const dest: Destination = {
        address,
        port,
        forwarding,
        weight,
        upperThreshold: upper,
        lowerThreshold: lower,
      };
      if (counters) {
        dest.activeConns = active;
        dest.inactiveConns = inactive;
      }
      if (forwarding === "tun" && tunType >= 0) {
        const t = (Object.keys(TUN) as TunnelType[]).find((k) => TUN[k] === tunType);
        if (t === undefined) return { ok: false, reason: `tunnel type ${tunType}` };
        dest.tunnelType = t;
        if (tunPort !== 0) dest.tunnelPort = tunPort;
      }
      const st = stats ?? stats32;
      if (st !== undefined) dest.stats = st;
      return { ok: true, value: dest };
    },
    start,
    end,
  );
}

/** Decodes the attributes of the GET_INFO reply: version text and connection table size. */
export function decodeInfo(attrs: Uint8Array): Decoded<{ version: string; connTableSize: number }> {
  const d = new AttributeDecoder(attrs);
  let version = -1, size = -1;
  while (d.next()) {
    if (d.type === INFO.VERSION) version = d.u32();
    else if (d.type === INFO.CONN_TAB_SIZE) size = d.u32();
  }
  if (d.err() !== null) return { ok: false, reason: d.err()!.message };
  if (version < 0 || size < 0) return { ok: false, reason: "GET_INFO reply lacks version or size" };
  const text = `${(version >> 16) & 0xff}.${(version >> 8) & 0xff}.${version & 0xff}`;
  return { ok: true, value: { version: text, connTableSize: size } };
}
