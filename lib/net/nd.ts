/**
 * IPv6 neighbour advertisements (RFC 4861 section 4.4), pure: the unsolicited NA keepalived
 * sends for each IPv6 VIP on becoming master, and a decoder with the section 7.1.2 checks.
 *
 * @module
 */
import { internetChecksum, IPPROTO_ICMPV6, pseudoHeader6 } from "./checksum.ts";
import {
  decodeEthernet,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_IPV6,
  ipv6MulticastMac,
  writeEthernetHeader,
} from "./ethernet.ts";

/** ICMPv6 type of a neighbour advertisement. */
export const ICMPV6_NEIGHBOR_ADVERT = 136;
/** ND option: target link-layer address. */
export const ND_OPT_TARGET_LLADDR = 2;
/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LEN = 40;
/** Length of an NA with one target link-layer address option (ICMPv6 part). */
export const NA_LEN = 32;
/** Length of the whole unsolicited NA frame. */
export const NA_FRAME_LEN = ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + NA_LEN;
/** ff02::1, all nodes. */
export const ALL_NODES: Uint8Array = new Uint8Array([
  0xff,
  0x02,
  ...new Array<number>(13).fill(0),
  1,
]);

/** NA flag bits (first byte after the checksum). */
const FLAG = { router: 0x80, solicited: 0x40, override: 0x20 } as const;

/** A decoded neighbour advertisement with its Ethernet and IPv6 addresses. */
export interface NeighborAdvert {
  ethDst: Uint8Array;
  ethSrc: Uint8Array;
  /** IPv6 source. */
  src: Uint8Array;
  /** IPv6 destination. */
  dst: Uint8Array;
  hopLimit: number;
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: Uint8Array;
  /** The target link-layer address option, or null when absent. */
  targetMac: Uint8Array | null;
}

/**
 * An unsolicited NA exactly as keepalived 2.2.7 sends it (86 bytes): Ethernet to
 * 33:33:00:00:00:01, IPv6 from `opts.src` (default: the target itself, as keepalived) to ff02::1
 * with hop limit 255, traffic class and flow label 0, flags Override (+ Router when
 * `opts.router`), a target link-layer address option carrying `mac`, and the ICMPv6 checksum.
 */
export function unsolicitedNa(
  mac: Uint8Array,
  target: Uint8Array,
  opts: { router?: boolean; src?: Uint8Array } = {},
): Uint8Array {
  const src = opts.src ?? target;
  if (target.length !== 16 || src.length !== 16) {
    throw new RangeError(`NA addresses must have 16 bytes, not ${target.length}/${src.length}`);
  }
  if (mac.length !== 6) throw new RangeError(`A MAC address has 6 bytes, not ${mac.length}`);
  const out = new Uint8Array(NA_FRAME_LEN);
  writeEthernetHeader(out, 0, ipv6MulticastMac(ALL_NODES), mac, ETHERTYPE_IPV6);
  const ip = ETHERNET_HEADER_LEN;
  out[ip] = 0x60;
  out[ip + 4] = 0;
  out[ip + 5] = NA_LEN;
  out[ip + 6] = IPPROTO_ICMPV6;
  out[ip + 7] = 255;
  out.set(src, ip + 8);
  out.set(ALL_NODES, ip + 24);
  const icmp = ip + IPV6_HEADER_LEN;
  out[icmp] = ICMPV6_NEIGHBOR_ADVERT;
  out[icmp + 4] = FLAG.override | (opts.router ? FLAG.router : 0);
  out.set(target, icmp + 8);
  out[icmp + 24] = ND_OPT_TARGET_LLADDR;
  out[icmp + 25] = 1;
  out.set(mac, icmp + 26);
  const sum = internetChecksum(
    pseudoHeader6(src, ALL_NODES, IPPROTO_ICMPV6, NA_LEN),
    out.subarray(icmp),
  );
  out[icmp + 2] = sum >> 8;
  out[icmp + 3] = sum & 0xff;
  return out;
}

/**
 * Decodes an Ethernet frame carrying an IPv6 neighbour advertisement and applies the RFC 4861
 * section 7.1.2 checks (hop limit 255, valid checksum, code 0, length >= 24, target not
 * multicast, S clear when sent to multicast, no zero-length option). No extension headers are
 * accepted. Never throws.
 */
export function decodeNa(
  frame: Uint8Array,
): { ok: true; value: NeighborAdvert } | { ok: false; reason: string } {
  const eth = decodeEthernet(frame);
  if (!eth.ok) return eth;
  if (eth.value.etherType !== ETHERTYPE_IPV6) {
    return { ok: false, reason: `EtherType 0x${eth.value.etherType.toString(16)} is not IPv6` };
  }
  const p = eth.value.payload;
  if (p.length < IPV6_HEADER_LEN) return { ok: false, reason: "truncated IPv6 header" };
  if (p[0]! >> 4 !== 6) return { ok: false, reason: `IP version ${p[0]! >> 4} is not 6` };
  const payloadLen = (p[4]! << 8) | p[5]!;
  if (p[6] !== IPPROTO_ICMPV6) return { ok: false, reason: `next header ${p[6]} is not ICMPv6` };
  if (IPV6_HEADER_LEN + payloadLen > p.length) {
    return { ok: false, reason: `IPv6 payload length ${payloadLen} exceeds the frame` };
  }
  const hopLimit = p[7]!;
  const src = p.slice(8, 24);
  const dst = p.slice(24, 40);
  const icmp = p.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + payloadLen);
  if (icmp.length < 24) {
    return { ok: false, reason: `NA of ${icmp.length} bytes is shorter than 24` };
  }
  if (icmp[0] !== ICMPV6_NEIGHBOR_ADVERT) {
    return { ok: false, reason: `ICMPv6 type ${icmp[0]} is not a neighbour advertisement` };
  }
  if (icmp[1] !== 0) return { ok: false, reason: `NA code ${icmp[1]} is not 0` };
  if (hopLimit !== 255) return { ok: false, reason: `hop limit ${hopLimit} is not 255` };
  if (internetChecksum(pseudoHeader6(src, dst, IPPROTO_ICMPV6, icmp.length), icmp) !== 0) {
    return { ok: false, reason: "bad ICMPv6 checksum" };
  }
  const flags = icmp[4]!;
  const target = icmp.slice(8, 24);
  if (target[0] === 0xff) return { ok: false, reason: "NA target is a multicast address" };
  const solicited = (flags & FLAG.solicited) !== 0;
  if (solicited && dst[0] === 0xff) {
    return { ok: false, reason: "solicited NA sent to a multicast destination" };
  }
  let targetMac: Uint8Array | null = null;
  for (let off = 24; off < icmp.length;) {
    if (off + 2 > icmp.length) return { ok: false, reason: "truncated ND option" };
    const type = icmp[off]!;
    const len = icmp[off + 1]! * 8;
    if (len === 0) return { ok: false, reason: "ND option of length 0" };
    if (off + len > icmp.length) return { ok: false, reason: "ND option overruns the message" };
    if (type === ND_OPT_TARGET_LLADDR && len >= 8 && targetMac === null) {
      targetMac = icmp.slice(off + 2, off + 8);
    }
    off += len;
  }
  return {
    ok: true,
    value: {
      ethDst: eth.value.dst,
      ethSrc: eth.value.src,
      src,
      dst,
      hopLimit,
      router: (flags & FLAG.router) !== 0,
      solicited,
      override: (flags & FLAG.override) !== 0,
      target,
      targetMac,
    },
  };
}
