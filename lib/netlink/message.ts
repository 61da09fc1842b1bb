/**
 * Netlink message framing (`struct nlmsghdr`), pure: encode one message, decode a datagram of
 * messages, and read the `NLMSG_ERROR` payload. Also the protocol constants rtnl and genl use.
 *
 * @module
 */

import { AttributeDecoder } from "./attrs.ts";

/** One netlink message: the `nlmsghdr` fields and the bytes after the header. */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

/** Result of decoding wire input. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Size of `struct nlmsghdr`. */
export const NLMSG_HDRLEN = 16;

/** Rounds a length up to the 4-byte netlink alignment (NLMSG_ALIGN / NLA_ALIGN). */
export function nlAlign(len: number): number {
  return (len + 3) & ~3;
}

// Control message types (linux/netlink.h).
/** No-op message, ignored. */
export const NLMSG_NOOP = 1;
/** Error or, with error 0, acknowledgement. */
export const NLMSG_ERROR = 2;
/** End of a multi-part dump. */
export const NLMSG_DONE = 3;
/** Data lost (overrun). */
export const NLMSG_OVERRUN = 4;

// Flags (linux/netlink.h).
/** It is a request message. */
export const NLM_F_REQUEST = 0x01;
/** Multi-part message, terminated by NLMSG_DONE. */
export const NLM_F_MULTI = 0x02;
/** Reply with an acknowledgement. */
export const NLM_F_ACK = 0x04;
/** Echo this request to the sender. */
export const NLM_F_ECHO = 0x08;
/** Dump was inconsistent (changed during the dump). */
export const NLM_F_DUMP_INTR = 0x10;
/** GET: return the whole table. */
export const NLM_F_ROOT = 0x100;
/** GET: return all matching entries. */
export const NLM_F_MATCH = 0x200;
/** GET: ROOT | MATCH. */
export const NLM_F_DUMP = 0x300;
/** NEW: replace an existing object. */
export const NLM_F_REPLACE = 0x100;
/** NEW: do not touch an existing object. */
export const NLM_F_EXCL = 0x200;
/** NEW: create if it does not exist. */
export const NLM_F_CREATE = 0x400;
/** NEW: add to the end of the list. */
export const NLM_F_APPEND = 0x800;
/** ACK flag: the echoed request was capped to its header. */
export const NLM_F_CAPPED = 0x100;
/** ACK flag: extended ACK TLVs follow. */
export const NLM_F_ACK_TLVS = 0x200;

/** Extended ACK attribute: the kernel's error message (string). */
export const NLMSGERR_ATTR_MSG = 1;
/** Extended ACK attribute: offset of the offending attribute (u32). */
export const NLMSGERR_ATTR_OFFS = 2;

// rtnetlink message types (linux/rtnetlink.h).
/** Link created or changed. */
export const RTM_NEWLINK = 16;
/** Link deleted. */
export const RTM_DELLINK = 17;
/** Get or dump links. */
export const RTM_GETLINK = 18;
/** Address added. */
export const RTM_NEWADDR = 20;
/** Address deleted. */
export const RTM_DELADDR = 21;
/** Get or dump addresses. */
export const RTM_GETADDR = 22;
/** Route added. */
export const RTM_NEWROUTE = 24;
/** Route deleted. */
export const RTM_DELROUTE = 25;
/** Get or dump routes. */
export const RTM_GETROUTE = 26;

const typeNames = new Map<number, string>([
  [NLMSG_NOOP, "NLMSG_NOOP"],
  [NLMSG_ERROR, "NLMSG_ERROR"],
  [NLMSG_DONE, "NLMSG_DONE"],
  [NLMSG_OVERRUN, "NLMSG_OVERRUN"],
  [RTM_NEWLINK, "RTM_NEWLINK"],
  [RTM_DELLINK, "RTM_DELLINK"],
  [RTM_GETLINK, "RTM_GETLINK"],
  [RTM_NEWADDR, "RTM_NEWADDR"],
  [RTM_DELADDR, "RTM_DELADDR"],
  [RTM_GETADDR, "RTM_GETADDR"],
  [RTM_NEWROUTE, "RTM_NEWROUTE"],
  [RTM_DELROUTE, "RTM_DELROUTE"],
  [RTM_GETROUTE, "RTM_GETROUTE"],
]);

/** The name of an rtnetlink/control message type (`"RTM_NEWADDR"`), or `"netlink type N"`. */
export function rtmTypeName(type: number): string {
  return typeNames.get(type) ?? `netlink type ${type}`;
}

// Address families (linux/socket.h).
/** Unspecified family (dump everything). */
export const AF_UNSPEC = 0;
/** IPv4. */
export const AF_INET = 2;
/** IPv6. */
export const AF_INET6 = 10;

// ifaddrmsg attributes (linux/if_addr.h).
/** Prefix/peer address. */
export const IFA_ADDRESS = 1;
/** Local address (IPv4). */
export const IFA_LOCAL = 2;
/** Label (IPv4), NUL-terminated. */
export const IFA_LABEL = 3;
/** Broadcast address. */
export const IFA_BROADCAST = 4;
/** Anycast address. */
export const IFA_ANYCAST = 5;
/** struct ifa_cacheinfo. */
export const IFA_CACHEINFO = 6;
/** u32 flags (the full set; the header byte holds only the low 8). */
export const IFA_FLAGS = 8;

/** Address flag: secondary (IPv4) / temporary (IPv6). */
export const IFA_F_SECONDARY = 0x01;
/** Address flag: skip duplicate address detection. */
export const IFA_F_NODAD = 0x02;
/** Address flag: optimistic DAD. */
export const IFA_F_OPTIMISTIC = 0x04;
/** Address flag: DAD failed. */
export const IFA_F_DADFAILED = 0x08;
/** Address flag: deprecated. */
export const IFA_F_DEPRECATED = 0x20;
/** Address flag: DAD still running. */
export const IFA_F_TENTATIVE = 0x40;
/** Address flag: permanent (configured). */
export const IFA_F_PERMANENT = 0x80;
/** Address flag: do not add the prefix route. */
export const IFA_F_NOPREFIXROUTE = 0x200;

// ifinfomsg attributes (linux/if_link.h).
/** Link-layer address. */
export const IFLA_ADDRESS = 1;
/** Link-layer broadcast address. */
export const IFLA_BROADCAST = 2;
/** Interface name, NUL-terminated. */
export const IFLA_IFNAME = 3;
/** MTU, u32. */
export const IFLA_MTU = 4;
/** Parent link index, u32. */
export const IFLA_LINK = 5;
/** Master (bridge/bond) index, u32. */
export const IFLA_MASTER = 10;
/** RFC 2863 operational state, u8. */
export const IFLA_OPERSTATE = 16;
/** Nested link kind information. */
export const IFLA_LINKINFO = 18;
/** Dump filter mask, u32. */
export const IFLA_EXT_MASK = 29;

/** Interface flag: administratively up. */
export const IFF_UP = 0x1;
/** Interface flag: loopback. */
export const IFF_LOOPBACK = 0x8;
/** Interface flag: operationally running. */
export const IFF_RUNNING = 0x40;
/** Interface flag: carrier present. */
export const IFF_LOWER_UP = 0x10000;

// rtmsg attributes (linux/rtnetlink.h).
/** Destination prefix. */
export const RTA_DST = 1;
/** Source prefix. */
export const RTA_SRC = 2;
/** Input interface, u32. */
export const RTA_IIF = 3;
/** Output interface, u32. */
export const RTA_OIF = 4;
/** Gateway. */
export const RTA_GATEWAY = 5;
/** Metric, u32. */
export const RTA_PRIORITY = 6;
/** Preferred source address. */
export const RTA_PREFSRC = 7;
/** Table id, u32 (for ids above 255). */
export const RTA_TABLE = 15;

/** Route table: the main table. */
export const RT_TABLE_MAIN = 254;
/** Route table: the local table. */
export const RT_TABLE_LOCAL = 255;
/** Route scope: global. */
export const RT_SCOPE_UNIVERSE = 0;
/** Route scope: site. */
export const RT_SCOPE_SITE = 200;
/** Route scope: link. */
export const RT_SCOPE_LINK = 253;
/** Route scope: host. */
export const RT_SCOPE_HOST = 254;
/** Route scope: nowhere (deletes match any scope). */
export const RT_SCOPE_NOWHERE = 255;
/** Route type: unicast. */
export const RTN_UNICAST = 1;
/** Route type: local. */
export const RTN_LOCAL = 2;
/** Route type: blackhole. */
export const RTN_BLACKHOLE = 6;
/** Route type: unreachable. */
export const RTN_UNREACHABLE = 7;
/** Route type: prohibit. */
export const RTN_PROHIBIT = 8;
/** Route type: throw (policy routing goes on to the next rule). */
export const RTN_THROW = 9;
/** rtm_flags / rtnh_flags: the gateway is on the link even if no prefix says so. */
export const RTNH_F_ONLINK = 4;
/** Route protocol: keepalived (rt_protos), what haagent stamps on its routes. */
export const RTPROT_KEEPALIVED = 18;

// rtnetlink multicast groups (linux/rtnetlink.h, enum rtnetlink_groups).
/** Link changes. */
export const RTNLGRP_LINK = 1;
/** IPv4 address changes. */
export const RTNLGRP_IPV4_IFADDR = 5;
/** IPv4 route changes. */
export const RTNLGRP_IPV4_ROUTE = 7;
/** IPv6 address changes. */
export const RTNLGRP_IPV6_IFADDR = 9;
/** IPv6 route changes. */
export const RTNLGRP_IPV6_ROUTE = 11;

/** Encodes one message: header (length filled in) + payload, padded to 4 bytes. */
export function encodeMessage(m: NlMessage): Uint8Array {
  const len = NLMSG_HDRLEN + m.payload.length;
  const out = new Uint8Array(nlAlign(len));
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, m.type, true);
  v.setUint16(6, m.flags, true);
  v.setUint32(8, m.seq >>> 0, true);
  v.setUint32(12, m.pid >>> 0, true);
  out.set(m.payload, NLMSG_HDRLEN);
  return out;
}

/**
 * Decodes every message of a datagram. Payloads are views into `buf`. Never throws: a header
 * shorter than 16 bytes, a length past the end or stray trailing bytes give `{ ok: false }`.
 */
export function decodeMessages(buf: Uint8Array): Decoded<NlMessage[]> {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) {
      return { ok: false, reason: `truncated header: ${buf.length - off} bytes at offset ${off}` };
    }
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN) return { ok: false, reason: `bad length ${len} at offset ${off}` };
    if (len > buf.length - off) {
      return { ok: false, reason: `length ${len} at offset ${off} exceeds ${buf.length - off}` };
    }
    out.push({
      type: v.getUint16(off + 4, true),
      flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true),
      pid: v.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += nlAlign(len);
  }
  return { ok: true, value: out };
}

/** The content of an `NLMSG_ERROR` message: errno 0 is an acknowledgement. */
export interface NlError {
  /** Positive errno, 0 for an ACK. */
  errno: number;
  /** The kernel's extended ACK message, when it sent one. */
  message: string | null;
  /** The header of the request this answers. */
  request: { type: number; flags: number; seq: number; pid: number } | null;
}

/** Decodes an `NLMSG_ERROR` message (`struct nlmsgerr` and extended ACK TLVs). */
export function decodeError(m: NlMessage): Decoded<NlError> {
  const p = m.payload;
  if (p.length < 4) return { ok: false, reason: `NLMSG_ERROR payload of ${p.length} bytes` };
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const code = v.getInt32(0, true);
  const errno = code < 0 ? -code : code;
  if (p.length < 4 + NLMSG_HDRLEN) {
    return { ok: true, value: { errno, message: null, request: null } };
  }
  const origLen = v.getUint32(4, true);
  const request = {
    type: v.getUint16(8, true),
    flags: v.getUint16(10, true),
    seq: v.getUint32(12, true),
    pid: v.getUint32(16, true),
  };
  let message: string | null = null;
  if (m.flags & NLM_F_ACK_TLVS) {
    const tlvAt = 4 + ((m.flags & NLM_F_CAPPED) ? NLMSG_HDRLEN : nlAlign(origLen));
    if (tlvAt <= p.length) {
      const d = new AttributeDecoder(p.subarray(tlvAt));
      while (d.next()) {
        if (d.type === NLMSGERR_ATTR_MSG) message = d.string();
      }
    }
  }
  return { ok: true, value: { errno, message, request } };
}

/** Reads the optional error code in an `NLMSG_DONE` payload (a failed dump), as positive errno. */
export function doneErrno(m: NlMessage): number {
  if (m.payload.length < 4) return 0;
  const code = new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true);
  return code < 0 ? -code : 0;
}
