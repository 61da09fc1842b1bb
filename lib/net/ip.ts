/**
 * IP address text <-> bytes, pure. IPv4 is 4 bytes, IPv6 16 bytes; IPv6 text is formatted
 * the RFC 5952 way (lowercase, longest zero run compressed).
 *
 * @module
 */

/** An address family. */
export type Family = "ipv4" | "ipv6";

/** A parsed address. */
export interface IpAddress {
  readonly family: Family;
  readonly bytes: Uint8Array;
}

/** A parsed address with prefix length (`10.0.0.1/24`). */
export interface IpPrefix extends IpAddress {
  readonly prefix: number;
}

/**
 * Parses dotted-quad IPv4 text into `out` at `offset` without allocating; false when it is not
 * one (four parts 0..255, no leading zeros, nothing else).
 */
export function parseIpv4Into(text: string, out: Uint8Array, offset = 0): boolean {
  let part = 0, digits = 0, value = 0;
  const n = text.length;
  if (n < 7 || n > 15) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part === 3) return false;
      out[offset + part++] = value;
      digits = 0;
      value = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits > 0 && value === 0) return false;
    value = value * 10 + (c - 48);
    if (++digits > 3 || value > 255) return false;
  }
  if (part !== 3 || digits === 0) return false;
  out[offset + 3] = value;
  return true;
}

/** Dotted-quad text of the 4 bytes at `at` of `buf` (no copy). */
export function formatIpv4(buf: Uint8Array, at = 0): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

/** Parses dotted-quad IPv4 text, or returns null. */
export function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return parseIpv4Into(text, out) ? out : null;
}

const scratch4 = new Uint8Array(4);

/** Whether `text` is dotted-quad IPv4 text that `parseIpv4` accepts (then it is canonical). */
export function isIpv4(text: string): boolean {
  return parseIpv4Into(text, scratch4);
}

/** Parses IPv6 text (with `::` and an optional dotted-quad tail; no zone), or returns null. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length === 0 || text.length > 45) return null;
  let head = text;
  let tail4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.indexOf(".", lastColon) > 0) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === null) return null;
    head = text.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = head.indexOf("::");
  if (dbl !== head.lastIndexOf("::")) return null;
  const groups: number[] = [];
  const parseGroups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    for (const g of s.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (left === null || right === null || left.length + right.length > 7) return null;
    groups.push(...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right);
  } else {
    const all = parseGroups(head);
    if (all === null || all.length !== 8) return null;
    groups.push(...all);
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail4 !== null) out.set(tail4, 12);
  return out;
}

/** Parses IPv4 or IPv6 text, or returns null. */
export function parseIp(text: string): IpAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: "ipv4", bytes: v4 };
  const v6 = parseIpv6(text);
  if (v6 !== null) return { family: "ipv6", bytes: v6 };
  return null;
}

/** Parses `ADDR/PREFIX` (prefix defaults to the full length when absent), or returns null. */
export function parsePrefix(text: string): IpPrefix | null {
  const slash = text.indexOf("/");
  const addr = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  const max = addr.family === "ipv4" ? 32 : 128;
  if (slash < 0) return { ...addr, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) return null;
  return { ...addr, prefix: Number(p) };
}

/** Parses an address and throws `TypeError` naming the text when it is malformed. */
export function mustParseIp(text: string, what = "address"): IpAddress {
  const a = parseIp(text);
  if (a === null) throw new TypeError(`Invalid ${what} "${text}": not an IPv4 or IPv6 address`);
  return a;
}

/** Formats 4 or 16 address bytes as text. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  if (bytes.length !== 16) {
    throw new RangeError(`An IP address has 4 or 16 bytes, not ${bytes.length}`);
  }
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952 4.2: compress the longest run of two or more zero groups, the first if tied.
  let bestAt = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(":");
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/** Whether two address byte arrays are equal. */
export function ipEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compares addresses as unsigned big-endian numbers (-1, 0, 1). */
export function ipCompare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Whether an IPv6 address is link-local (fe80::/10). */
export function isLinkLocal6(bytes: Uint8Array): boolean {
  return bytes.length === 16 && bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80;
}

/** Whether an address is multicast (224.0.0.0/4 or ff00::/8). */
export function isMulticast(bytes: Uint8Array): boolean {
  return bytes.length === 4 ? (bytes[0]! & 0xf0) === 0xe0 : bytes[0] === 0xff;
}
