/**
 * Receive validation of VRRP advertisements (RFC 5798 section 7.1, RFC 3768 section 7.1), done
 * keepalived's way; pure. Decisions made here:
 * - A priority-0 advert is valid (the master is leaving).
 * - An address count of 0 is dropped ("zero-count") in both versions: RFC 5798 requires >= 1,
 *   and keepalived ignores such adverts. A Max Adver Int / advert interval of 0 is dropped
 *   ("zero-interval").
 * - v2 auth: the type must equal ours ("auth"); PASS data is compared in constant time; AH (2) is
 *   not supported and always dropped as "auth". v3 has no authentication: `authType` is ignored.
 * - v2 interval mismatch: drop ("interval"). v3: accept and flag `intervalMismatch` (the backup
 *   adopts the master's interval).
 * - Address list differing in count or content: accept and flag `addressMismatch`, as keepalived
 *   (order does not matter: each configured address must appear in the advert).
 * - Unicast skips the TTL / hop limit check, as keepalived (which applies per-peer min/max TTL).
 *
 * @module
 */
import {
  type Advert,
  AUTH,
  decodeAdvert,
  type DropReason,
  type Family,
  verifyChecksum,
} from "./packet.ts";

export type { DropReason } from "./packet.ts";

/** What the receiving instance expects, and what the IP layer said about the packet. */
export interface ReceiveContext {
  expect: {
    version: 2 | 3;
    family: Family;
    vrid: number;
    authType: number;
    /** v2 PASS: the 8 password bytes (see passwordBytes); otherwise null. */
    authData: Uint8Array | null;
    advertIntervalCs: number;
    addresses: Uint8Array[];
  };
  /** The IPv4 TTL or IPv6 hop limit the packet arrived with. */
  hopLimit: number;
  /** Whether the instance runs unicast (TTL check skipped). */
  unicast: boolean;
  v3Checksum: "keepalived" | "rfc9568";
  /** The packet's IP source. */
  src: Uint8Array;
  /** The packet's IP destination (the group, or our address for unicast). */
  dst: Uint8Array;
}

/** The outcome of validation: an advert to act on (with flags), or a reason to drop it. */
export type Verdict =
  | { ok: true; advert: Advert; addressMismatch: boolean; intervalMismatch: boolean }
  | { ok: false; reason: DropReason };

/** The IP TTL / hop limit every VRRP packet is sent with and must arrive with. */
export const VRRP_TTL = 255;

/**
 * Byte-wise equality that reads every byte of both inputs whatever they hold (no early exit),
 * so its timing does not reveal where a password differs. Unequal lengths are false at once
 * (lengths are not secret).
 */
export function constantTimeEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** keepalived's check: the same number of addresses, each expected one present (any order). */
function sameAddresses(got: Uint8Array[], want: Uint8Array[]): boolean {
  if (got.length !== want.length) return false;
  return want.every((w) => got.some((g) => g.length === w.length && g.every((x, i) => x === w[i])));
}

/**
 * Validates a received VRRP message (the IP payload) for one instance. Order: decode (length,
 * version, type, address count vs length) -> version and family match -> TTL 255 (not unicast)
 * -> checksum -> VRID -> zero count / zero interval -> auth (v2) -> interval -> address list.
 * Never throws.
 */
export function validateAdvert(bytes: Uint8Array, ctx: ReceiveContext): Verdict {
  const { expect } = ctx;
  const alen = expect.family === "ipv4" ? 4 : 16;
  if (ctx.src.length !== alen || ctx.dst.length !== alen) return { ok: false, reason: "family" };
  const d = decodeAdvert(bytes, expect.family);
  if (!d.ok) return d;
  const a = d.value;
  if (a.version !== expect.version) return { ok: false, reason: "version" };
  if (!ctx.unicast && ctx.hopLimit !== VRRP_TTL) return { ok: false, reason: "ttl" };
  const sumCtx = { family: expect.family, src: ctx.src, dst: ctx.dst, v3Checksum: ctx.v3Checksum };
  if (!verifyChecksum(bytes, sumCtx)) return { ok: false, reason: "checksum" };
  if (a.vrid !== expect.vrid) return { ok: false, reason: "vrid" };
  if (a.addresses.length === 0) return { ok: false, reason: "zero-count" };
  if (a.maxAdverIntCs === 0) return { ok: false, reason: "zero-interval" };
  if (a.version === 2) {
    if (a.authType !== expect.authType || a.authType === AUTH.ah) {
      return { ok: false, reason: "auth" };
    }
    if (a.authType === AUTH.pass) {
      // RFC 3768 5.3.7 / keepalived: compare the 8 bytes; a null expectation matches nothing.
      if (expect.authData === null || !constantTimeEqual(a.authData!, expect.authData)) {
        return { ok: false, reason: "auth" };
      }
    }
  }
  const intervalMismatch = a.maxAdverIntCs !== expect.advertIntervalCs;
  if (a.version === 2 && intervalMismatch) return { ok: false, reason: "interval" };
  return {
    ok: true,
    advert: a,
    addressMismatch: !sameAddresses(a.addresses, expect.addresses),
    intervalMismatch,
  };
}
