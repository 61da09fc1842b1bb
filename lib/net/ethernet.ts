/**
 * Ethernet II framing, pure: the 14-byte header, EtherTypes, and the multicast MAC addresses
 * VRRP and IPv6 neighbour discovery send to.
 *
 * @module
 */

/** EtherType of IPv4. */
export const ETHERTYPE_IPV4 = 0x0800;
/** EtherType of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;
/** EtherType of an IEEE 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** Length of an untagged Ethernet II header. */
export const ETHERNET_HEADER_LEN = 14;
/** The broadcast MAC address ff:ff:ff:ff:ff:ff. */
export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** A decoded Ethernet header; `payload` is a view into the frame (after any VLAN tag). */
export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
  /** The 802.1Q VLAN id, or null for an untagged frame. */
  vlan: number | null;
  payload: Uint8Array;
}

/** Writes a 14-byte Ethernet II header at `offset` of `out`. */
export function writeEthernetHeader(
  out: Uint8Array,
  offset: number,
  dst: Uint8Array,
  src: Uint8Array,
  etherType: number,
): void {
  if (dst.length !== 6 || src.length !== 6) {
    throw new RangeError(`A MAC address has 6 bytes, not ${dst.length}/${src.length}`);
  }
  out.set(dst, offset);
  out.set(src, offset + 6);
  out[offset + 12] = (etherType >> 8) & 0xff;
  out[offset + 13] = etherType & 0xff;
}

/** Decodes an Ethernet II header (one optional 802.1Q tag); never throws. */
export function decodeEthernet(
  frame: Uint8Array,
): { ok: true; value: EthernetFrame } | { ok: false; reason: string } {
  if (frame.length < ETHERNET_HEADER_LEN) {
    return {
      ok: false,
      reason: `frame of ${frame.length} bytes is shorter than an Ethernet header`,
    };
  }
  let etherType = (frame[12]! << 8) | frame[13]!;
  let off = ETHERNET_HEADER_LEN;
  let vlan: number | null = null;
  if (etherType === ETHERTYPE_VLAN) {
    if (frame.length < ETHERNET_HEADER_LEN + 4) {
      return { ok: false, reason: "802.1Q frame truncated in the VLAN tag" };
    }
    vlan = ((frame[14]! << 8) | frame[15]!) & 0x0fff;
    etherType = (frame[16]! << 8) | frame[17]!;
    off += 4;
  }
  if (etherType < 0x0600) {
    return { ok: false, reason: `not an Ethernet II frame (length field ${etherType})` };
  }
  return {
    ok: true,
    value: {
      dst: frame.slice(0, 6),
      src: frame.slice(6, 12),
      etherType,
      vlan,
      payload: frame.subarray(off),
    },
  };
}

/** The IPv4 multicast MAC for a group (01:00:5e + low 23 bits; RFC 1112 section 6.4). */
export function ipv4MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x01, 0x00, 0x5e, group[1]! & 0x7f, group[2]!, group[3]!]);
}

/** The IPv6 multicast MAC for a group (33:33 + low 32 bits; RFC 2464 section 7). */
export function ipv6MulticastMac(group: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, group[12]!, group[13]!, group[14]!, group[15]!]);
}

/**
 * The VRRP virtual router MAC (RFC 5798 section 7.3): 00:00:5e:00:01:VRID for IPv4,
 * 00:00:5e:00:02:VRID for IPv6.
 */
export function virtualRouterMac(vrid: number, family: "ipv4" | "ipv6"): Uint8Array {
  return new Uint8Array([0x00, 0x00, 0x5e, 0x00, family === "ipv4" ? 0x01 : 0x02, vrid & 0xff]);
}

/** Formats a MAC address as lowercase `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Parses `aa:bb:cc:dd:ee:ff` (or with `-`), or returns null. */
export function parseMac(text: string): Uint8Array | null {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return null;
    out[i] = parseInt(p, 16);
  }
  return out;
}
