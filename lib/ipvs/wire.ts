/**
 * Low-level helpers for the IPVS codec's hot paths, pure: an attribute writer that builds a
 * whole request in one reused buffer (the generic `AttributeEncoder` allocates per attribute),
 * and an allocation-free IPv4 parser with `parseIpv4`'s rules.
 *
 * @module
 */

/** Attribute type flag: the payload is nested attributes (NLA_F_NESTED). */
const NLA_F_NESTED = 0x8000;
const NLA_HDRLEN = 4;
const MAX_ATTR_LEN = 0xffff;

function checkInt(type: number, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Attribute ${type} value ${v} is out of range 0..${max}`);
  }
}

/**
 * Writes `struct nlattr` TLVs into one growing buffer: `open`/`close` for nested attributes,
 * `finish` for a copy of the result; `reset` reuses the buffer. Values are range-checked and
 * out-of-range ones throw `RangeError`, as `AttributeEncoder` does.
 */
export class AttrWriter {
  #buf: Uint8Array;
  #view: DataView;
  #off = 0;

  /** Starts with `sizeBytes` of room (it grows as needed). */
  constructor(sizeBytes = 256) {
    this.#buf = new Uint8Array(sizeBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Forgets what was written. */
  reset(): this {
    this.#off = 0;
    return this;
  }

  /** A copy of the attributes written since the last reset. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#off);
  }

  /** Starts a nested attribute; pass the result to `close`. */
  open(type: number): number {
    const at = this.#off;
    this.#head(type | NLA_F_NESTED, 0);
    return at;
  }

  /** Ends the nested attribute started at `at` (its length covers everything since). */
  close(at: number): void {
    const len = this.#off - at;
    if (len > MAX_ATTR_LEN) throw new RangeError(`Nested attribute of ${len} bytes`);
    this.#view.setUint16(at, len, true);
  }

  /** An 8-bit attribute. */
  u8(type: number, v: number): this {
    checkInt(type, v, 0xff);
    const at = this.#head(type, 1);
    this.#buf[at] = v;
    return this;
  }

  /** A 16-bit host-order (little-endian) attribute. */
  u16(type: number, v: number): this {
    checkInt(type, v, 0xffff);
    const at = this.#head(type, 2);
    this.#view.setUint16(at, v, true);
    return this;
  }

  /** A 16-bit network-order attribute. */
  u16be(type: number, v: number): this {
    checkInt(type, v, 0xffff);
    const at = this.#head(type, 2);
    this.#view.setUint16(at, v, false);
    return this;
  }

  /** A 32-bit host-order attribute. */
  u32(type: number, v: number): this {
    checkInt(type, v, 0xffffffff);
    const at = this.#head(type, 4);
    this.#view.setUint32(at, v, true);
    return this;
  }

  /** Two 32-bit host-order words in one attribute (`struct ip_vs_flags`). */
  u32pair(type: number, a: number, b: number): this {
    const at = this.#head(type, 8);
    this.#view.setUint32(at, a >>> 0, true);
    this.#view.setUint32(at + 4, b >>> 0, true);
    return this;
  }

  /** Raw bytes, zero-padded to `sizeBytes` when that is larger (`union nf_inet_addr`). */
  bytes(type: number, data: Uint8Array, sizeBytes = data.length): this {
    const at = this.#head(type, Math.max(sizeBytes, data.length));
    this.#buf.set(data, at);
    return this;
  }

  /** A NUL-terminated string. */
  string(type: number, s: string): this {
    const enc = new TextEncoder().encode(s);
    const at = this.#head(type, enc.length + 1);
    this.#buf.set(enc, at);
    return this;
  }

  /** Writes a header for `dataLen` bytes of zeroed, padded data; returns the data offset. */
  #head(type: number, dataLen: number): number {
    const len = NLA_HDRLEN + dataLen;
    if (len > MAX_ATTR_LEN) throw new RangeError(`Attribute ${type} of ${dataLen} bytes`);
    const padded = (len + 3) & ~3;
    const at = this.#off;
    if (at + padded > this.#buf.length) this.#grow(at + padded);
    this.#buf.fill(0, at, at + padded);
    this.#view.setUint16(at, len, true);
    this.#view.setUint16(at + 2, type, true);
    this.#off = at + padded;
    return at + NLA_HDRLEN;
  }

  #grow(need: number): void {
    const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
    next.set(this.#buf.subarray(0, this.#off));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}

/**
 * Parses dotted-quad IPv4 text into `out` at `offset` without allocating; false when it is not
 * one (the rules of `parseIpv4`: four parts 0..255, no leading zeros, nothing else).
 */
export function ipv4Into(text: string, out: Uint8Array, offset = 0): boolean {
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

const scratch = new Uint8Array(4);

/** Whether `text` is dotted-quad IPv4 text that `parseIpv4` accepts (then it is canonical). */
export function isIpv4Text(text: string): boolean {
  return ipv4Into(text, scratch);
}

const NLA_TYPE_MASK = 0x3fff;

/**
 * Walks attributes like `AttributeDecoder` (same checks, same sticky first error) without
 * allocating per read: byte reads on the message's own array, absolute offsets, and `nested()`
 * giving a reader over a sub-range. Wire input never throws.
 */
export class AttrReader {
  readonly #buf: Uint8Array;
  #off: number;
  readonly #end: number;
  #at = 0;
  #len = 0;
  #type = 0;
  #err: string | null = null;

  /** Reads `buf[start, end)`. */
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#off = start;
    this.#end = end;
  }

  /** Advances to the next attribute; false at the end or after an error. */
  next(): boolean {
    if (this.#err !== null) return false;
    const left = this.#end - this.#off;
    if (left === 0) return false;
    if (left < NLA_HDRLEN) {
      this.#err = `truncated attribute header: ${left} bytes at offset ${this.#off}`;
      return false;
    }
    const b = this.#buf;
    const o = this.#off;
    const len = b[o]! | (b[o + 1]! << 8);
    if (len < NLA_HDRLEN || len > left) {
      this.#err = `bad attribute length ${len} at offset ${o} (${left} bytes left)`;
      return false;
    }
    this.#type = (b[o + 2]! | (b[o + 3]! << 8)) & NLA_TYPE_MASK;
    this.#at = o + NLA_HDRLEN;
    this.#len = len - NLA_HDRLEN;
    this.#off = Math.min(this.#end, o + ((len + 3) & ~3));
    return true;
  }

  /** The current attribute's type without flags. */
  get type(): number {
    return this.#type;
  }

  /** Length of the current attribute's payload. */
  get length(): number {
    return this.#len;
  }

  /** The first error met, or null. */
  get error(): string | null {
    return this.#err;
  }

  /** The payload as an 8-bit number (0 and an error unless it is 1 byte). */
  u8(): number {
    return this.#fixed(1) ? this.#buf[this.#at]! : 0;
  }

  /** The payload as a 16-bit host-order number. */
  u16(): number {
    if (!this.#fixed(2)) return 0;
    return this.#buf[this.#at]! | (this.#buf[this.#at + 1]! << 8);
  }

  /** The payload as a 16-bit network-order number. */
  u16be(): number {
    if (!this.#fixed(2)) return 0;
    return (this.#buf[this.#at]! << 8) | this.#buf[this.#at + 1]!;
  }

  /** The payload as a 32-bit host-order number. */
  u32(): number {
    return this.#fixed(4) ? this.#le32(this.#at) : 0;
  }

  /** The payload as a 64-bit host-order number, as a JS number (exact below 2^53). */
  u64(): number {
    if (!this.#fixed(8)) return 0;
    return this.#le32(this.#at) + this.#le32(this.#at + 4) * 0x100000000;
  }

  /** The first 32-bit host-order word of the payload, or 0 when it is shorter. */
  firstU32(): number {
    return this.#err === null && this.#len >= 4 ? this.#le32(this.#at) : 0;
  }

  /** A view of the payload (not a copy: it shares the message's memory). */
  view(): Uint8Array {
    return this.#buf.subarray(this.#at, this.#at + this.#len);
  }

  /** The payload as text up to the first NUL (ASCII fast, else UTF-8). */
  string(): string {
    if (this.#err !== null) return "";
    let end = this.#at;
    let ascii = true;
    const stop = this.#at + this.#len;
    while (end < stop && this.#buf[end] !== 0) {
      if (this.#buf[end]! >= 0x80) ascii = false;
      end++;
    }
    if (!ascii) return new TextDecoder().decode(this.#buf.subarray(this.#at, end));
    let s = "";
    for (let i = this.#at; i < end; i++) s += String.fromCharCode(this.#buf[i]!);
    return s;
  }

  /** A reader over the current payload; pass it to `adopt` when done. */
  nested(): AttrReader {
    return new AttrReader(this.#buf, this.#at, this.#at + this.#len);
  }

  /** Takes the first error of a nested reader as this one's. */
  adopt(inner: AttrReader): void {
    if (this.#err === null && inner.#err !== null) this.#err = inner.#err;
  }

  #le32(at: number): number {
    const b = this.#buf;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  #fixed(size: number): boolean {
    if (this.#err !== null) return false;
    if (this.#len !== size) {
      this.#err = `attribute ${this.#type}: expected ${size} bytes, got ${this.#len}`;
      return false;
    }
    return true;
  }
}

/** Formats 4 address bytes at `at` of `buf` as dotted-quad text. */
export function ipv4Text(buf: Uint8Array, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}
