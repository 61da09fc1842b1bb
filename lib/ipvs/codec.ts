/**
 * IPVS generic netlink messages (include/uapi/linux/ip_vs.h), pure: request attributes for the
 * service and destination commands, and decoders for GET_SERVICE / GET_DEST dumps and GET_INFO.
 * The genl header is added by `Genl.request`; these functions deal in attribute bytes only.
 *
 * @module
 */

import { AttributeDecoder, AttributeEncoder } from "../netlink/attrs.ts";
import { formatIp, parseIp } from "../net/ip.ts";
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
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;

/** IPVS_CMD_ATTR_*. */
const CMD_ATTR = { SERVICE: 1, DEST: 2 } as const;

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
/** sizeof(union nf_inet_addr): addresses always travel in 16 bytes. */
const ADDR_LEN = 16;

/** A request ready for `Genl.request(family, cmd, attrs, flags, what)`. */
export interface IpvsRequest {
  cmd: number;
  attrs: Uint8Array;
  /** True for GET dumps (send with NLM_F_DUMP). */
  dump: boolean;
}

function addrBytes(address: string, family: IpvsFamily, what: string): Uint8Array {
  const ip = parseIp(address);
  if (ip === null || ip.family !== family) {
    throw new TypeError(`${what}: "${address}" is not an ${family} address`);
  }
  const out = new Uint8Array(ADDR_LEN);
  out.set(ip.bytes);
  return out;
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new RangeError(`${what}: port ${port} is out of range 0..65535`);
  }
}

function keyAttrs(e: AttributeEncoder, key: ServiceKey): void {
  e.u16(SVC.AF, AF[key.family]);
  if ("fwmark" in key) {
    e.u32(SVC.FWMARK, key.fwmark);
    return;
  }
  checkPort(key.port, `service ${key.address}`);
  e.u16(SVC.PROTOCOL, PROTO[key.protocol]);
  e.bytes(SVC.ADDR, addrBytes(key.address, key.family, "service"));
  e.u16be(SVC.PORT, key.port);
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

function netmaskAttr(e: AttributeEncoder, s: Service): void {
  if (s.key.family === "ipv4") {
    const m = parseIp(s.netmask);
    if (m === null || m.family !== "ipv4") {
      throw new TypeError(`service netmask "${s.netmask}" is not an IPv4 mask`);
    }
    e.bytes(SVC.NETMASK, m.bytes);
    return;
  }
  // IPv6 services carry a prefix length, in host order.
  const len = Number(s.netmask);
  if (!Number.isInteger(len) || len < 0 || len > 128) {
    throw new RangeError(`IPv6 service netmask "${s.netmask}" is not a prefix length 0..128`);
  }
  e.u32(SVC.NETMASK, len);
}

function serviceAttrs(e: AttributeEncoder, s: Service): void {
  keyAttrs(e, s.key);
  e.string(SVC.SCHED_NAME, s.scheduler);
  const flags = new Uint8Array(8);
  const v = new DataView(flags.buffer);
  v.setUint32(0, serviceFlagBits(s.flags), true);
  v.setUint32(4, 0xffffffff & ~SVC_F.HASHED, true);
  e.bytes(SVC.FLAGS, flags);
  e.u32(SVC.TIMEOUT, s.timeoutS);
  netmaskAttr(e, s);
}

function destAttrs(e: AttributeEncoder, d: Destination, full: boolean): void {
  const family = addressFamily(d.address);
  if (family === null) throw new TypeError(`destination "${d.address}" is not an address`);
  checkPort(d.port, `destination ${d.address}`);
  e.bytes(DEST.ADDR, addrBytes(d.address, family, "destination"));
  e.u16be(DEST.PORT, d.port);
  e.u16(DEST.ADDR_FAMILY, AF[family]);
  if (!full) return;
  e.u32(DEST.FWD_METHOD, FWD[d.forwarding]);
  e.u32(DEST.WEIGHT, d.weight);
  e.u32(DEST.U_THRESH, d.upperThreshold);
  e.u32(DEST.L_THRESH, d.lowerThreshold);
  if (d.forwarding === "tun") {
    e.u8(DEST.TUN_TYPE, TUN[d.tunnelType ?? "ipip"]);
    e.u16be(DEST.TUN_PORT, d.tunnelPort ?? 0);
  }
}

function request(cmd: number, fn: (e: AttributeEncoder) => void, dump = false): IpvsRequest {
  const e = new AttributeEncoder();
  fn(e);
  return { cmd, attrs: e.finish(), dump };
}

/** IPVS_CMD_NEW_SERVICE (add) or SET_SERVICE (edit) with every setting. */
export function encodeService(s: Service, edit = false): IpvsRequest {
  return request(
    edit ? IpvsCmd.SET_SERVICE : IpvsCmd.NEW_SERVICE,
    (e) => e.nested(CMD_ATTR.SERVICE, (n) => serviceAttrs(n, s)),
  );
}

/** IPVS_CMD_DEL_SERVICE. */
export function encodeDeleteService(key: ServiceKey): IpvsRequest {
  return request(IpvsCmd.DEL_SERVICE, (e) => e.nested(CMD_ATTR.SERVICE, (n) => keyAttrs(n, key)));
}

/** IPVS_CMD_NEW_DEST (add) or SET_DEST (edit) of `dest` in service `key`. */
export function encodeDest(key: ServiceKey, dest: Destination, edit = false): IpvsRequest {
  return request(edit ? IpvsCmd.SET_DEST : IpvsCmd.NEW_DEST, (e) => {
    e.nested(CMD_ATTR.SERVICE, (n) => keyAttrs(n, key));
    e.nested(CMD_ATTR.DEST, (n) => destAttrs(n, dest, true));
  });
}

/** IPVS_CMD_DEL_DEST. */
export function encodeDeleteDest(key: ServiceKey, dest: Destination): IpvsRequest {
  return request(IpvsCmd.DEL_DEST, (e) => {
    e.nested(CMD_ATTR.SERVICE, (n) => keyAttrs(n, key));
    e.nested(CMD_ATTR.DEST, (n) => destAttrs(n, dest, false));
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
    (e) => e.nested(CMD_ATTR.SERVICE, (n) => keyAttrs(n, key)),
    true,
  );
}

/** IPVS_CMD_FLUSH: deletes every service. */
export function encodeFlush(): IpvsRequest {
  return request(IpvsCmd.FLUSH, () => {});
}

/** IPVS_CMD_GET_INFO. */
export function encodeGetInfo(): IpvsRequest {
  return request(IpvsCmd.GET_INFO, () => {});
}

function familyOf(af: number): IpvsFamily | null {
  return af === AF.ipv4 ? "ipv4" : af === AF.ipv6 ? "ipv6" : null;
}

function addrText(bytes: Uint8Array, family: IpvsFamily): string | null {
  const n = family === "ipv4" ? 4 : 16;
  return bytes.length < n ? null : formatIp(bytes.subarray(0, n));
}

function decodeStats(d: AttributeDecoder, wide: boolean): IpvsStats {
  const s: IpvsStats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 };
  d.nested((n) => {
    while (n.next()) {
      const v = wide || n.length === 8 ? Number(n.u64()) : n.u32();
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
  });
  return s;
}

/** Finds the nested attribute `type` at the top level of `attrs` and decodes it with `fn`. */
function withNested<T>(
  attrs: Uint8Array,
  type: number,
  fn: (d: AttributeDecoder) => Decoded<T>,
): Decoded<T> {
  const d = new AttributeDecoder(attrs);
  let out: Decoded<T> | null = null;
  while (d.next()) {
    if (d.type === type && out === null) d.nested((n) => (out = fn(n)));
  }
  const err = d.err();
  if (err !== null) return { ok: false, reason: err.message };
  return out ?? { ok: false, reason: `no nested attribute ${type}` };
}

/** Decodes the attributes of one GET_SERVICE dump reply (after the genl header). */
export function decodeService(attrs: Uint8Array): Decoded<Service> {
  return withNested(attrs, CMD_ATTR.SERVICE, (d) => {
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
          addr = d.bytes();
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
          bits = d.length >= 4 ? new DataView(d.bytes().buffer).getUint32(0, true) : 0;
          break;
        case SVC.TIMEOUT:
          timeoutS = d.u32();
          break;
        case SVC.NETMASK:
          netmask = d.bytes();
          break;
        case SVC.STATS64:
          stats = decodeStats(d, true);
          break;
        case SVC.STATS:
          stats32 = decodeStats(d, false);
          break;
      }
    }
    if (d.err() !== null) return { ok: false, reason: d.err()!.message };
    const family = familyOf(af);
    if (family === null) return { ok: false, reason: `service address family ${af}` };
    let key: ServiceKey;
    if (fwmark !== 0) key = { family, fwmark };
    else {
      const proto = (Object.keys(PROTO) as IpvsProtocol[]).find((p) => PROTO[p] === protocol);
      if (proto === undefined) return { ok: false, reason: `service protocol ${protocol}` };
      const address = addr === null ? null : addrText(addr, family);
      if (address === null) return { ok: false, reason: "service without a valid address" };
      key = { family, protocol: proto, address, port };
    }
    let mask = fullNetmask(family);
    if (netmask !== null && netmask.length === 4) {
      mask = family === "ipv4"
        ? formatIp(netmask)
        : String(new DataView(netmask.buffer).getUint32(0, true));
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
  });
}

/** Decodes the attributes of one GET_DEST dump reply (after the genl header). */
export function decodeDest(attrs: Uint8Array, serviceFamily: IpvsFamily): Decoded<Destination> {
  return withNested(attrs, CMD_ATTR.DEST, (d) => {
    let addr: Uint8Array | null = null;
    let af = 0, port = 0, fwd = 0, weight = 0, upper = 0, lower = 0, active = 0, inactive = 0;
    let tunType = -1, tunPort = 0;
    let stats: IpvsStats | undefined;
    let stats32: IpvsStats | undefined;
    while (d.next()) {
      switch (d.type) {
        case DEST.ADDR:
          addr = d.bytes();
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
          stats = decodeStats(d, true);
          break;
        case DEST.STATS:
          stats32 = decodeStats(d, false);
          break;
      }
    }
    if (d.err() !== null) return { ok: false, reason: d.err()!.message };
    const family = af === 0 ? serviceFamily : familyOf(af);
    if (family === null) return { ok: false, reason: `destination address family ${af}` };
    const address = addr === null ? null : addrText(addr, family);
    if (address === null) return { ok: false, reason: "destination without a valid address" };
    const forwarding = (Object.keys(FWD) as Forwarding[]).find((f) => FWD[f] === fwd);
    if (forwarding === undefined) return { ok: false, reason: `forwarding method ${fwd}` };
    const dest: Destination = {
      address,
      port,
      forwarding,
      weight,
      upperThreshold: upper,
      lowerThreshold: lower,
      activeConns: active,
      inactiveConns: inactive,
    };
    if (forwarding === "tun" && tunType >= 0) {
      const t = (Object.keys(TUN) as TunnelType[]).find((k) => TUN[k] === tunType);
      if (t === undefined) return { ok: false, reason: `tunnel type ${tunType}` };
      dest.tunnelType = t;
      if (tunPort !== 0) dest.tunnelPort = tunPort;
    }
    const st = stats ?? stats32;
    if (st !== undefined) dest.stats = st;
    return { ok: true, value: dest };
  });
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
