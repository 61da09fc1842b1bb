/**
 * A minimal DNS message codec (RFC 1035 4.1) for DNS_CHECK: encode a query, decode a response
 * header, question and answer records with compressed names. Pure; decoding never throws.
 *
 * @module
 */

/** RR type numbers (RFC 1035 3.2.2, RFC 3596). */
export const DNS_TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 } as const;

/** Header field offsets (RFC 1035 4.1.1). */
const OFF = { id: 0, flags: 2, qdcount: 4, ancount: 6, nscount: 8, arcount: 10, end: 12 } as const;

/** One resource record. */
export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  rdata: Uint8Array;
}

/** A decoded message. */
export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  rcode: number;
  questions: Array<{ name: string; type: number; class: number }>;
  answers: DnsRecord[];
}

/** Encodes a standard query with RD set for `name` (trailing dot optional; "." is the root). */
export function encodeQuery(id: number, name: string, type: number): Uint8Array {
  const labels = name.split(".").filter((l) => l !== "");
  const enc = new TextEncoder();
  const parts = labels.map((l) => enc.encode(l));
  for (const p of parts) {
    if (p.length > 63) {
      throw new RangeError(`DNS label "${new TextDecoder().decode(p)}" is over 63 bytes`);
    }
  }
  const qnameLen = parts.reduce((n, p) => n + 1 + p.length, 0) + 1;
  if (qnameLen > 255) throw new RangeError(`DNS name "${name}" is over 255 bytes`);
  const out = new Uint8Array(OFF.end + qnameLen + 4);
  const v = new DataView(out.buffer);
  v.setUint16(OFF.id, id & 0xffff);
  v.setUint16(OFF.flags, 0x0100); // RD
  v.setUint16(OFF.qdcount, 1);
  let o = OFF.end;
  for (const p of parts) {
    out[o++] = p.length;
    out.set(p, o);
    o += p.length;
  }
  out[o++] = 0;
  v.setUint16(o, type);
  v.setUint16(o + 2, 1); // IN
  return out;
}

type R<T> = { ok: true; value: T } | { ok: false; reason: string };

function readName(b: Uint8Array, start: number): R<{ name: string; next: number }> {
  const labels: string[] = [];
  let o = start;
  let next = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (o >= b.length) return { ok: false, reason: "name runs past the end" };
    const len = b[o]!;
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= b.length) return { ok: false, reason: "truncated name pointer" };
      if (++jumps > 32) return { ok: false, reason: "name pointer loop" };
      if (next < 0) next = o + 2;
      o = ((len & 0x3f) << 8) | b[o + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) return { ok: false, reason: "bad label type" };
    if (len === 0) {
      if (next < 0) next = o + 1;
      return { ok: true, value: { name: labels.length === 0 ? "." : labels.join("."), next } };
    }
    if (o + 1 + len > b.length) return { ok: false, reason: "label runs past the end" };
    total += len + 1;
    if (total > 255) return { ok: false, reason: "name over 255 bytes" };
    labels.push(new TextDecoder().decode(b.subarray(o + 1, o + 1 + len)));
    o += 1 + len;
  }
}

/** Decodes a message; records beyond the answer section are not decoded. */
export function decodeMessage(b: Uint8Array): R<DnsMessage> {
  if (b.length < OFF.end) return { ok: false, reason: `message of ${b.length} bytes is too short` };
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = v.getUint16(OFF.flags);
  const msg: DnsMessage = {
    id: v.getUint16(OFF.id),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    questions: [],
    answers: [],
  };
  let o: number = OFF.end;
  const qd = v.getUint16(OFF.qdcount);
  const an = v.getUint16(OFF.ancount);
  for (let i = 0; i < qd; i++) {
    const n = readName(b, o);
    if (!n.ok) return n;
    o = n.value.next;
    if (o + 4 > b.length) return { ok: false, reason: "truncated question" };
    msg.questions.push({ name: n.value.name, type: v.getUint16(o), class: v.getUint16(o + 2) });
    o += 4;
  }
  for (let i = 0; i < an; i++) {
    const n = readName(b, o);
    if (!n.ok) return n;
    o = n.value.next;
    if (o + 10 > b.length) return { ok: false, reason: "truncated record" };
    const rdlen = v.getUint16(o + 8);
    if (o + 10 + rdlen > b.length) return { ok: false, reason: "truncated rdata" };
    msg.answers.push({
      name: n.value.name,
      type: v.getUint16(o),
      class: v.getUint16(o + 2),
      ttl: v.getUint32(o + 4),
      rdata: b.slice(o + 10, o + 10 + rdlen),
    });
    o += 10 + rdlen;
  }
  return { ok: true, value: msg };
}

/** Encodes a response (for tests and fixture servers): the query's question plus `answers`. */
export function encodeResponse(
  query: DnsMessage,
  rcode: number,
  answers: Array<{ type: number; ttl: number; rdata: Uint8Array }>,
): Uint8Array {
  const q = query.questions[0];
  const qbytes = q === undefined
    ? new Uint8Array(0)
    : encodeQuery(0, q.name, q.type).subarray(OFF.end);
  const size = OFF.end + qbytes.length + answers.reduce((n, a) => n + 12 + a.rdata.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint16(OFF.id, query.id);
  v.setUint16(OFF.flags, 0x8180 | (rcode & 0xf)); // QR RD RA
  v.setUint16(OFF.qdcount, q === undefined ? 0 : 1);
  v.setUint16(OFF.ancount, answers.length);
  out.set(qbytes, OFF.end);
  let o = OFF.end + qbytes.length;
  for (const a of answers) {
    v.setUint16(o, 0xc000 | OFF.end); // pointer to the question name
    v.setUint16(o + 2, a.type);
    v.setUint16(o + 4, 1);
    v.setUint32(o + 6, a.ttl);
    v.setUint16(o + 10, a.rdata.length);
    out.set(a.rdata, o + 12);
    o += 12 + a.rdata.length;
  }
  return out;
}
