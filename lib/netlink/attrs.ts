/**
 * Netlink attributes (`struct nlattr` TLVs), pure: a builder for requests and a sticky-error
 * decoder for replies, after mdlayher/netlink's AttributeEncoder/AttributeDecoder.
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

const MAX_ATTR_DATA = 0xffff - NLA_HDRLEN;

function checkInt(what: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`Attribute ${what} value ${v} is out of range 0..${max}`);
  }
}

/** Builds a sequence of attributes; every method appends one attribute and returns `this`. */
export class AttributeEncoder {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  /** Appends a raw attribute with `type` (flags allowed) and `data`. */
  bytes(type: number, data: Uint8Array): this {
    checkInt("type", type, 0xffff);
    if (data.length > MAX_ATTR_DATA) {
      throw new RangeError(`Attribute ${type} of ${data.length} bytes exceeds ${MAX_ATTR_DATA}`);
    }
    const len = NLA_HDRLEN + data.length;
    const chunk = new Uint8Array((len + 3) & ~3);
    const v = new DataView(chunk.buffer);
    v.setUint16(0, len, true);
    v.setUint16(2, type, true);
    chunk.set(data, NLA_HDRLEN);
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    return this;
  }

  /** Appends an 8-bit attribute. */
  u8(type: number, v: number): this {
    checkInt(`${type}`, v, 0xff);
    return this.bytes(type, Uint8Array.of(v));
  }

  /** Appends a 16-bit host-order (little-endian) attribute. */
  u16(type: number, v: number): this {
    return this.#num(type, v, 2, true);
  }

  /** Appends a 32-bit host-order attribute. */
  u32(type: number, v: number): this {
    return this.#num(type, v, 4, true);
  }

  /** Appends a 16-bit network-order attribute (add NLA_F_NET_BYTEORDER to `type` if wanted). */
  u16be(type: number, v: number): this {
    return this.#num(type, v, 2, false);
  }

  /** Appends a 32-bit network-order attribute. */
  u32be(type: number, v: number): this {
    return this.#num(type, v, 4, false);
  }

  /** Appends a 64-bit host-order attribute. */
  u64(type: number, v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) {
      throw new RangeError(`Attribute ${type} value ${v} is out of range for u64`);
    }
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return this.bytes(type, b);
  }

  /** Appends a NUL-terminated string attribute. */
  string(type: number, s: string): this {
    const enc = new TextEncoder().encode(s);
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    return this.bytes(type, b);
  }

  /** Appends a nested attribute (NLA_F_NESTED set) whose content `fn` builds. */
  nested(type: number, fn: (e: AttributeEncoder) => void): this {
    const inner = new AttributeEncoder();
    fn(inner);
    return this.bytes(type | NLA_F_NESTED, inner.finish());
  }

  /** The encoded attributes, each padded to 4 bytes. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let off = 0;
    for (const c of this.#chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  #num(type: number, v: number, size: 2 | 4, little: boolean): this {
    checkInt(`${type}`, v, size === 2 ? 0xffff : 0xffffffff);
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    if (size === 2) dv.setUint16(0, v, little);
    else dv.setUint32(0, v, little);
    return this.bytes(type, b);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Walks attributes: `while (d.next()) switch (d.type) { ... }`, then check `d.err()`. Never
 * throws on wire input: the first problem (truncation, wrong size for a typed read) is kept,
 * iteration stops, and later reads return 0, `""` or empty bytes.
 */
export class AttributeDecoder {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #off = 0;
  #data: Uint8Array = EMPTY;
  #type = 0;
  #rawType = 0;
  #err: Error | null = null;

  /** Decodes the attributes in `bytes` (a view is kept; nothing is copied). */
  constructor(bytes: Uint8Array) {
    this.#buf = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Advances to the next attribute; false at the end or after an error. */
  next(): boolean {
    if (this.#err !== null) return false;
    const left = this.#buf.length - this.#off;
    if (left === 0) return false;
    if (left < NLA_HDRLEN) {
      this.#fail(`truncated attribute header: ${left} bytes at offset ${this.#off}`);
      return false;
    }
    const len = this.#view.getUint16(this.#off, true);
    const raw = this.#view.getUint16(this.#off + 2, true);
    if (len < NLA_HDRLEN || len > left) {
      this.#fail(`bad attribute length ${len} at offset ${this.#off} (${left} bytes left)`);
      return false;
    }
    this.#data = this.#buf.subarray(this.#off + NLA_HDRLEN, this.#off + len);
    this.#rawType = raw;
    this.#type = raw & NLA_TYPE_MASK;
    this.#off = Math.min(this.#buf.length, this.#off + ((len + 3) & ~3));
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
    return this.#data.length;
  }

  /** The current payload as an 8-bit number. */
  u8(): number {
    return this.#fixed(1) ? this.#data[0]! : 0;
  }

  /** The current payload as a 16-bit host-order number. */
  u16(): number {
    return this.#fixed(2) ? this.#dv().getUint16(0, true) : 0;
  }

  /** The current payload as a 32-bit host-order number. */
  u32(): number {
    return this.#fixed(4) ? this.#dv().getUint32(0, true) : 0;
  }

  /** The current payload as a 16-bit network-order number. */
  u16be(): number {
    return this.#fixed(2) ? this.#dv().getUint16(0, false) : 0;
  }

  /** The current payload as a 32-bit network-order number. */
  u32be(): number {
    return this.#fixed(4) ? this.#dv().getUint32(0, false) : 0;
  }

  /** The current payload as a 64-bit host-order number. */
  u64(): bigint {
    return this.#fixed(8) ? this.#dv().getBigUint64(0, true) : 0n;
  }

  /** The current payload as a string, up to the first NUL. */
  string(): string {
    if (this.#err !== null) return "";
    const nul = this.#data.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? this.#data : this.#data.subarray(0, nul));
  }

  /** A copy of the current payload. */
  bytes(): Uint8Array {
    return this.#err !== null ? new Uint8Array(0) : this.#data.slice();
  }

  /** Decodes the current payload as nested attributes; an error inside becomes this one's. */
  nested(fn: (d: AttributeDecoder) => void): void {
    if (this.#err !== null) return;
    const inner = new AttributeDecoder(this.#data);
    fn(inner);
    const e = inner.err();
    if (e !== null && this.#err === null) this.#err = e;
  }

  /** The first error met, or null. */
  err(): Error | null {
    return this.#err;
  }

  #fixed(size: number): boolean {
    if (this.#err !== null) return false;
    if (this.#data.length !== size) {
      this.#fail(`attribute ${this.#type}: expected ${size} bytes, got ${this.#data.length}`);
      return false;
    }
    return true;
  }

  #dv(): DataView {
    return new DataView(this.#data.buffer, this.#data.byteOffset, this.#data.byteLength);
  }

  #fail(reason: string): void {
    this.#err ??= new Error(`netlink attributes: ${reason}`);
  }
}
