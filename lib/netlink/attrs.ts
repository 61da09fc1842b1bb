/**
 * Netlink attributes (`struct nlattr` TLVs), pure: the one attribute codec of haagent (rtnetlink,
 * generic netlink, nf_tables and IPVS use it). An encoder that writes a whole request into one
 * growing buffer, and a sticky-error decoder that reads the message's own bytes without copying,
 * after mdlayher/netlink's AttributeEncoder / AttributeDecoder.
 *
 * @module
 */

/** Attribute type flag: the payload is nested attributes. */
export const NLA_F_NESTED = 0x8000;
/** Attribute type flag: the payload is in network byte order. */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** Mask giving the attribute type without flags. */
export const NLA_TYPE_MASK = 0x3fff;
/** Size of `struct nlattr`. */
export const NLA_HDRLEN = 4;

const MAX_ATTR_LEN = 0xffff;

function checkInt(what: string | number, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Attribute ${what} value ${v} is out of range 0..${max}`);
  }
}

/**
 * Builds a sequence of attributes in one buffer; every method appends one attribute and returns
 * `this`. Values are range-checked (RangeError). `reset()` reuses the buffer for the next
 * request, `finish()` returns a copy.
 */
export class AttributeEncoder {
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

  /** Appends a raw attribute with `type` (flags allowed), zero-padded to `sizeBytes` if larger. */
  bytes(type: number, data: Uint8Array, sizeBytes = data.length): this {
    const at = this.#head(type, Math.max(sizeBytes, data.length));
    this.#buf.set(data, at);
    return this;
  }

  /** Appends an 8-bit attribute. */
  u8(type: number, v: number): this {
    checkInt(type, v, 0xff);
    const at = this.#head(type, 1);
    this.#buf[at] = v;
    return this;
  }

  /** Appends a 16-bit host-order (little-endian) attribute. */
  u16(type: number, v: number): this {
    checkInt(type, v, 0xffff);
    const at = this.#head(type, 2);
    this.#view.setUint16(at, v, true);
    return this;
  }

  /** Appends a 32-bit host-order attribute. */
  u32(type: number, v: number): this {
    checkInt(type, v, 0xffffffff);
    const at = this.#head(type, 4);
    this.#view.setUint32(at, v, true);
    return this;
  }

  /** Appends a 16-bit network-order attribute (add NLA_F_NET_BYTEORDER to `type` if wanted). */
  u16be(type: number, v: number): this {
    checkInt(type, v, 0xffff);
    const at = this.#head(type, 2);
    this.#view.setUint16(at, v, false);
    return this;
  }

  /** Appends a 32-bit network-order attribute. */
  u32be(type: number, v: number): this {
    checkInt(type, v, 0xffffffff);
    const at = this.#head(type, 4);
    this.#view.setUint32(at, v, false);
    return this;
  }

  /** Appends a 64-bit host-order attribute. */
  u64(type: number, v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) {
      throw new RangeError(`Attribute ${type} value ${v} is out of range for u64`);
    }
    const at = this.#head(type, 8);
    this.#view.setBigUint64(at, v, true);
    return this;
  }

  /** Appends a NUL-terminated string attribute. */
  string(type: number, s: string): this {
    const enc = new TextEncoder().encode(s);
    const at = this.#head(type, enc.length + 1);
    this.#buf.set(enc, at);
    return this;
  }

  /** Appends a nested attribute (NLA_F_NESTED set) whose content `fn` writes. */
  nested(type: number, fn: (e: this) => void): this {
    const at = this.open(type);
    fn(this);
    this.close(at);
    return this;
  }

  /** Starts a nested attribute by hand; pass the result to `close`. */
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

  /** A copy of the attributes written since the last reset, each padded to 4 bytes. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#off);
  }

  /**
   * Writes a header for `dataLen` bytes of zeroed, padded data; returns the data offset. It may
   * replace #buf and #view: callers read them only after it returns.
   */
  #head(type: number, dataLen: number): number {
    checkInt("type", type, 0xffff);
    const len = NLA_HDRLEN + dataLen;
    if (len > MAX_ATTR_LEN) {
      throw new RangeError(`Attribute ${type} of ${dataLen} bytes exceeds ${MAX_ATTR_LEN - 4}`);
    }
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
 * Walks attributes: `while (d.next()) switch (d.type) { ... }`, then check `d.err()`. Never
 * throws on wire input: the first problem (truncation, wrong size for a typed read) is kept,
 * iteration stops, and later reads return 0, `""` or empty bytes. Reads the bytes in place (no
 * copy, no allocation per attribute).
 */
export class AttributeDecoder {
  readonly #buf: Uint8Array;
  #off: number;
  readonly #end: number;
  #at = 0;
  #len = 0;
  #type = 0;
  #rawType = 0;
  #err: string | null = null;
  #errObj: Error | null = null;

  /** Decodes the attributes in `buf[start, end)` (a view is kept; nothing is copied). */
  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#end = Math.min(end, buf.length);
    this.#off = Math.min(start, this.#end);
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
    this.#rawType = b[o + 2]! | (b[o + 3]! << 8);
    this.#type = this.#rawType & NLA_TYPE_MASK;
    this.#at = o + NLA_HDRLEN;
    this.#len = len - NLA_HDRLEN;
    this.#off = Math.min(this.#end, o + ((len + 3) & ~3));
    return true;
  }

  /** The current attribute's type with NLA_F_NESTED and NLA_F_NET_BYTEORDER removed. */
  get type(): number {
    return this.#type;
  }

  /** Whether the current attribute has NLA_F_NESTED set. */
  get isNested(): boolean {
    return (this.#rawType & NLA_F_NESTED) !== 0;
  }

  /** Length of the current attribute's payload. */
  get length(): number {
    return this.#len;
  }

  /** The current payload as an 8-bit number. */
  u8(): number {
    return this.#fixed(1) ? this.#buf[this.#at]! : 0;
  }

  /** The current payload as a 16-bit host-order number. */
  u16(): number {
    if (!this.#fixed(2)) return 0;
    return this.#buf[this.#at]! | (this.#buf[this.#at + 1]! << 8);
  }

  /** The current payload as a 32-bit host-order number. */
  u32(): number {
    return this.#fixed(4) ? this.#le32(this.#at) : 0;
  }

  /** The current payload as a 16-bit network-order number. */
  u16be(): number {
    if (!this.#fixed(2)) return 0;
    return (this.#buf[this.#at]! << 8) | this.#buf[this.#at + 1]!;
  }

  /** The current payload as a 32-bit network-order number. */
  u32be(): number {
    if (!this.#fixed(4)) return 0;
    const b = this.#buf, at = this.#at;
    return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  }

  /** The current payload as a 64-bit host-order number. */
  u64(): bigint {
    if (!this.#fixed(8)) return 0n;
    return BigInt(this.#le32(this.#at)) | (BigInt(this.#le32(this.#at + 4)) << 32n);
  }

  /** The current payload as a 64-bit host-order number in a JS number (exact below 2^53). */
  u64Number(): number {
    if (!this.#fixed(8)) return 0;
    return this.#le32(this.#at) + this.#le32(this.#at + 4) * 0x100000000;
  }

  /** The first 32-bit host-order word of the payload, or 0 when it is shorter. */
  firstU32(): number {
    return this.#err === null && this.#len >= 4 ? this.#le32(this.#at) : 0;
  }

  /** The current payload as text up to the first NUL (ASCII read directly, else UTF-8). */
  string(): string {
    if (this.#err !== null) return "";
    const stop = this.#at + this.#len;
    let end = this.#at;
    let ascii = true;
    while (end < stop && this.#buf[end] !== 0) {
      if (this.#buf[end]! >= 0x80) ascii = false;
      end++;
    }
    if (!ascii) return new TextDecoder().decode(this.#buf.subarray(this.#at, end));
    let s = "";
    for (let i = this.#at; i < end; i++) s += String.fromCharCode(this.#buf[i]!);
    return s;
  }

  /** A copy of the current payload. */
  bytes(): Uint8Array {
    return this.#err !== null ? new Uint8Array(0) : this.#buf.slice(this.#at, this.#at + this.#len);
  }

  /** A view of the current payload (not a copy: it shares the message's memory). */
  view(): Uint8Array {
    return this.#err !== null
      ? new Uint8Array(0)
      : this.#buf.subarray(this.#at, this.#at + this.#len);
  }

  /** Decodes the current payload as nested attributes; an error inside becomes this one's. */
  nested(fn: (d: AttributeDecoder) => void): void {
    if (this.#err !== null) return;
    const inner = new AttributeDecoder(this.#buf, this.#at, this.#at + this.#len);
    fn(inner);
    if (inner.#err !== null) this.#err ??= inner.#err;
  }

  /** The first error met (an Error saying `netlink attributes: ...`, the same each time), or null. */
  err(): Error | null {
    if (this.#err === null) return null;
    return this.#errObj ??= new Error(`netlink attributes: ${this.#err}`);
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
