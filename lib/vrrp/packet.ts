/**
 * The VRRP advertisement codec, pure: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798 / RFC 9568) messages
 * without the IP header, their checksum variants, and the structural receive checks (length,
 * version, type). The semantic checks against an instance live in validate.ts.
 *
 * @module
 */
import { internetChecksum, IPPROTO_VRRP, pseudoHeader4, pseudoHeader6 } from "../net/checksum.ts";
import type { Family } from "../net/ip.ts";

export type { Family } from "../net/ip.ts";

/** Why a received advertisement was dropped; the drop counters are keyed by these. */
export const DROP_REASONS = [
  "ttl",
  "version",
  "type",
  "length",
  "checksum",
  "vrid",
  "auth",
  "interval",
  "address-count",
  "zero-count",
  "zero-interval",
  "family",
  "addresses",
] as const;

/**
 * Why a received advertisement was dropped. "length": shorter than the fixed header (8 bytes,
 * v2: 8 + 8 auth bytes); "address-count": the message length disagrees with the address count;
 * "family": v2 over IPv6, or src/dst addresses of the wrong size; "addresses": the address list
 * differs from ours; "ttl": not 255 (multicast) or outside the peer's min_ttl..max_ttl.
 */
export type DropReason = typeof DROP_REASONS[number];

/** VRRP message type ADVERTISEMENT (the only one defined). */
export const VRRP_TYPE_ADVERT = 1;
/** Length of the fixed VRRP header. */
export const VRRP_HEADER_LEN = 8;
/** Length of the VRRPv2 authentication data. */
export const VRRP_AUTH_LEN = 8;
/** VRRPv2 authentication types (RFC 3768 section 5.3.6; AH is deprecated). */
export const AUTH = { none: 0, pass: 1, ah: 2 } as const;
/** 224.0.0.18, the VRRP IPv4 multicast group. */
export const VRRP_GROUP4: Uint8Array = new Uint8Array([224, 0, 0, 18]);
/** ff02::12, the VRRP IPv6 multicast group. */
export const VRRP_GROUP6: Uint8Array = new Uint8Array([
  0xff,
  2,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0x12,
]);

/** Field offsets of the VRRP header. */
const OFF = {
  versionType: 0,
  vrid: 1,
  priority: 2,
  count: 3,
  v2AuthType: 4,
  interval: 4,
  checksum: 6,
} as const;

/** A decoded (or to-be-encoded) advertisement. */
export interface Advert {
  version: 2 | 3;
  /** Always 1 (ADVERTISEMENT) when decoded. */
  type: number;
  vrid: number;
  priority: number;
  /** v3: the 12-bit Max Adver Int in centiseconds; v2: the advert interval seconds * 100. */
  maxAdverIntCs: number;
  /** v2 only (0 none, 1 PASS, 2 AH); 0 for v3. */
  authType: number;
  /** v2: the 8 auth bytes as on the wire (always present when decoded); v3: null. */
  authData: Uint8Array | null;
  /** 4 or 16 bytes each, in wire order. */
  addresses: Uint8Array[];
  /** As read (decode) or as computed (encode). */
  checksum: number;
}

/**
 * What the checksum covers. v2: the VRRP message only. v3 over IPv6: with the IPv6
 * pseudo-header. v3 over IPv4: with the IPv4 pseudo-header ("keepalived", also FRR; the default)
 * or without ("rfc9568", RFC 9568 section 5.2.8). `dst` is the real destination (the peer's
 * address for unicast).
 */
export interface ChecksumContext {
  family: Family;
  src: Uint8Array;
  dst: Uint8Array;
  v3Checksum: "keepalived" | "rfc9568";
}

/** The result of decoding an advertisement. */
export type DecodeResult = { ok: true; value: Advert } | { ok: false; reason: DropReason };

function addrLen(family: Family): number {
  return family === "ipv4" ? 4 : 16;
}

/** The parts the checksum is summed over, or null when the context addresses are unusable. */
function checksumParts(msg: Uint8Array, ctx: ChecksumContext): Uint8Array[] | null {
  const version = msg[0]! >> 4;
  if (version === 2) return [msg];
  if (ctx.family === "ipv6") {
    if (ctx.src.length !== 16 || ctx.dst.length !== 16) return null;
    return [pseudoHeader6(ctx.src, ctx.dst, IPPROTO_VRRP, msg.length), msg];
  }
  if (ctx.v3Checksum === "rfc9568") return [msg];
  if (ctx.src.length !== 4 || ctx.dst.length !== 4) return null;
  return [pseudoHeader4(ctx.src, ctx.dst, IPPROTO_VRRP, msg.length), msg];
}

function checkByte(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`VRRP ${name} must be an integer in 0..${max}, not ${v}`);
  }
}

/**
 * Encodes an advertisement (the VRRP message, no IP header) with its checksum. v3 has no auth
 * fields: `authType` and `authData` are ignored. v2 `authData` null means 8 zero bytes. Throws
 * RangeError for values that do not fit the wire format.
 */
export function encodeAdvert(a: Omit<Advert, "checksum">, ctx: ChecksumContext): Uint8Array {
  if (a.version !== 2 && a.version !== 3) {
    throw new RangeError(`VRRP version must be 2 or 3, not ${a.version}`);
  }
  if (a.version === 2 && ctx.family !== "ipv4") {
    throw new RangeError("VRRPv2 is defined for IPv4 only");
  }
  checkByte("type", a.type, 15);
  checkByte("vrid", a.vrid, 255);
  checkByte("priority", a.priority, 255);
  checkByte("address count", a.addresses.length, 255);
  const alen = addrLen(ctx.family);
  for (const addr of a.addresses) {
    if (addr.length !== alen) {
      throw new RangeError(`A ${ctx.family} VRRP address has ${alen} bytes, not ${addr.length}`);
    }
  }
  const len = VRRP_HEADER_LEN + a.addresses.length * alen + (a.version === 2 ? VRRP_AUTH_LEN : 0);
  const out = new Uint8Array(len);
  out[OFF.versionType] = (a.version << 4) | a.type;
  out[OFF.vrid] = a.vrid;
  out[OFF.priority] = a.priority;
  out[OFF.count] = a.addresses.length;
  if (a.version === 2) {
    checkByte("auth type", a.authType, 255);
    if (a.maxAdverIntCs % 100 !== 0) {
      throw new RangeError(`A VRRPv2 interval is whole seconds, not ${a.maxAdverIntCs} cs`);
    }
    checkByte("v2 advert interval (s)", a.maxAdverIntCs / 100, 255);
    out[OFF.v2AuthType] = a.authType;
    out[OFF.interval + 1] = a.maxAdverIntCs / 100;
    if (a.authData !== null) {
      if (a.authData.length !== VRRP_AUTH_LEN) {
        throw new RangeError(`VRRPv2 auth data has 8 bytes, not ${a.authData.length}`);
      }
      out.set(a.authData, len - VRRP_AUTH_LEN);
    }
  } else {
    checkByte("v3 max advert interval (cs)", a.maxAdverIntCs, 0x0fff);
    out[OFF.interval] = a.maxAdverIntCs >> 8;
    out[OFF.interval + 1] = a.maxAdverIntCs & 0xff;
  }
  a.addresses.forEach((addr, i) => out.set(addr, VRRP_HEADER_LEN + i * alen));
  const parts = checksumParts(out, ctx);
  if (parts === null) {
    throw new RangeError(`Checksum addresses must be ${ctx.family} (${alen} bytes)`);
  }
  const sum = internetChecksum(...parts);
  out[OFF.checksum] = sum >> 8;
  out[OFF.checksum + 1] = sum & 0xff;
  return out;
}

/**
 * Decodes a VRRP message (the IP payload, exactly) received over `family`. Checks length,
 * version (2 or 3; v2 only over IPv4), type and that the length matches the address count;
 * never throws. The checksum is returned as read, not verified (see verifyChecksum).
 */
export function decodeAdvert(bytes: Uint8Array, family: Family): DecodeResult {
  if (bytes.length < VRRP_HEADER_LEN) return { ok: false, reason: "length" };
  const version = bytes[OFF.versionType]! >> 4;
  if (version !== 2 && version !== 3) return { ok: false, reason: "version" };
  if ((bytes[OFF.versionType]! & 0x0f) !== VRRP_TYPE_ADVERT) return { ok: false, reason: "type" };
  if (version === 2 && family !== "ipv4") return { ok: false, reason: "family" };
  const authLen = version === 2 ? VRRP_AUTH_LEN : 0;
  if (bytes.length < VRRP_HEADER_LEN + authLen) return { ok: false, reason: "length" };
  const count = bytes[OFF.count]!;
  const alen = addrLen(family);
  if (bytes.length !== VRRP_HEADER_LEN + count * alen + authLen) {
    return { ok: false, reason: "address-count" };
  }
  // One copy of the message (receive buffers are reused); the fields are views into it.
  const own = bytes.slice();
  const addresses: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = VRRP_HEADER_LEN + i * alen;
    addresses.push(own.subarray(at, at + alen));
  }
  const b4 = bytes[4]!, b5 = bytes[5]!;
  return {
    ok: true,
    value: {
      version,
      type: VRRP_TYPE_ADVERT,
      vrid: bytes[OFF.vrid]!,
      priority: bytes[OFF.priority]!,
      maxAdverIntCs: version === 2 ? b5 * 100 : ((b4 & 0x0f) << 8) | b5,
      authType: version === 2 ? b4 : 0,
      authData: version === 2 ? own.subarray(own.length - VRRP_AUTH_LEN) : null,
      addresses,
      checksum: (bytes[OFF.checksum]! << 8) | bytes[OFF.checksum + 1]!,
    },
  };
}

/**
 * Whether the message's checksum is right for `ctx` (the version is read from the message).
 * False, never an exception, for messages shorter than 8 bytes or addresses of the wrong size.
 */
export function verifyChecksum(bytes: Uint8Array, ctx: ChecksumContext): boolean {
  if (bytes.length < VRRP_HEADER_LEN) return false;
  const parts = checksumParts(bytes, ctx);
  return parts !== null && internetChecksum(...parts) === 0;
}

/**
 * The 8 VRRPv2 PASS bytes for a password: UTF-8, NUL-padded, and truncated to 8 bytes as
 * keepalived does with longer passwords.
 */
export function passwordBytes(pw: string): Uint8Array {
  const out = new Uint8Array(VRRP_AUTH_LEN);
  const enc = new TextEncoder().encode(pw);
  out.set(enc.subarray(0, VRRP_AUTH_LEN));
  return out;
}
