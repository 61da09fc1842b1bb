/**
 * IP addresses as ffi takes and returns them: 4 or 16 bytes. The text form here is for error
 * messages only (the codecs in lib/net parse and format addresses for everything else).
 *
 * @module
 */

/** The family of a 4- or 16-byte address, or null for any other length. */
export function familyOf(address: Uint8Array): "ipv4" | "ipv6" | null {
  return address.length === 4 ? "ipv4" : address.length === 16 ? "ipv6" : null;
}

/** Whether an address is multicast (224.0.0.0/4, ff00::/8). */
export function isMulticastBytes(address: Uint8Array): boolean {
  return address.length === 4 ? (address[0]! & 0xf0) === 0xe0 : address[0] === 0xff;
}

/** Whether an IPv6 address is link-local (fe80::/10). */
export function isLinkLocal6Bytes(address: Uint8Array): boolean {
  return address.length === 16 && address[0] === 0xfe && (address[1]! & 0xc0) === 0x80;
}

/** Text of an address for a message: dotted quad, or IPv6 compressed as URLs write it. */
export function addressText(address: Uint8Array): string {
  if (address.length === 4) return address.join(".");
  if (address.length !== 16) return `<${address.length}-byte address>`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address[i]! << 8) | address[i + 1]!).toString(16));
  // The WHATWG URL serializer compresses the longest run of zero groups (RFC 5952 4.2).
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}
