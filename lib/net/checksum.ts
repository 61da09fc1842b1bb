/**
 * The Internet checksum (RFC 1071) and the IPv4 / IPv6 pseudo-headers that VRRPv3 and ICMPv6
 * put in front of their messages. Pure.
 *
 * @module
 */

/** IP protocol number of VRRP. */
export const IPPROTO_VRRP = 112;
/** IP protocol number of ICMPv6. */
export const IPPROTO_ICMPV6 = 58;

/**
 * RFC 1071 one's-complement checksum over the concatenation of `parts` (an odd total length is
 * padded with one zero byte at the end); returns the 16-bit value to store in the packet.
 * A buffer that carries a correct checksum sums to 0.
 */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  // A part may end on an odd byte: carry it into the next part so the concatenation is summed.
  let odd = -1;
  for (const p of parts) {
    let i = 0;
    if (odd >= 0 && p.length > 0) {
      sum += (odd << 8) | p[0]!;
      odd = -1;
      i = 1;
    }
    const end = p.length - ((p.length - i) & 1);
    for (; i < end; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
    if (end < p.length) odd = p[end]!;
    // Fold now and then so the sum stays a small integer (2^53 is far, but keep it tidy).
    if (sum > 0x7fffffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The 12-byte IPv4 pseudo-header (RFC 768): src, dst, zero, protocol, upper-layer length. */
export function pseudoHeader4(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  length: number,
): Uint8Array {
  if (src.length !== 4 || dst.length !== 4) {
    throw new RangeError(
      `An IPv4 pseudo-header needs 4-byte addresses, not ${src.length}/${dst.length}`,
    );
  }
  const out = new Uint8Array(12);
  out.set(src, 0);
  out.set(dst, 4);
  out[9] = protocol & 0xff;
  out[10] = (length >> 8) & 0xff;
  out[11] = length & 0xff;
  return out;
}

/**
 * The 40-byte IPv6 pseudo-header (RFC 8200 section 8.1): src, dst, 32-bit upper-layer length,
 * three zero bytes, next header.
 */
export function pseudoHeader6(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  length: number,
): Uint8Array {
  if (src.length !== 16 || dst.length !== 16) {
    throw new RangeError(
      `An IPv6 pseudo-header needs 16-byte addresses, not ${src.length}/${dst.length}`,
    );
  }
  const out = new Uint8Array(40);
  out.set(src, 0);
  out.set(dst, 16);
  new DataView(out.buffer).setUint32(32, length >>> 0);
  out[39] = nextHeader & 0xff;
  return out;
}
