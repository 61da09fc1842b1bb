import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { internetChecksum, pseudoHeader4, pseudoHeader6 } from "./checksum.ts";

/** The textbook definition, for comparison: sum 16-bit words, fold, complement. */
function reference(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("internetChecksum: RFC 1071 section 3 example", () => {
  // The sum of 0001 f203 f4f5 f6f7 is ddf2 (after folding); the checksum is its complement.
  const b = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assertEquals(internetChecksum(b), ~0xddf2 & 0xffff);
});

Deno.test("internetChecksum: empty, odd length, and a buffer carrying its checksum sums to 0", () => {
  assertEquals(internetChecksum(), 0xffff);
  assertEquals(internetChecksum(new Uint8Array([0x12])), ~0x1200 & 0xffff);
  const b = new Uint8Array([0x45, 0x00, 0x00, 0x1c, 0xab, 0xcd, 0x00, 0x00, 0x12, 0x34]);
  const sum = internetChecksum(b);
  b[6] = sum >> 8;
  b[7] = sum & 0xff;
  assertEquals(internetChecksum(b), 0);
});

Deno.test("internetChecksum: parts of any (odd) length sum as their concatenation", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
  for (let trial = 0; trial < 2000; trial++) {
    const parts: Uint8Array[] = [];
    const n = rnd() % 5;
    for (let i = 0; i < n; i++) {
      const p = new Uint8Array(rnd() % 9);
      for (let j = 0; j < p.length; j++) p[j] = rnd() & 0xff;
      parts.push(p);
    }
    assertEquals(internetChecksum(...parts), reference(concat(parts)), `trial ${trial}`);
  }
});

Deno.test("internetChecksum: large buffers fold correctly", () => {
  const big = new Uint8Array(1 << 20).fill(0xff);
  assertEquals(internetChecksum(big), reference(big));
  assertEquals(internetChecksum(big), 0);
});

Deno.test("pseudoHeader4: src, dst, zero, protocol, 16-bit length", () => {
  const h = pseudoHeader4(
    new Uint8Array([10, 78, 0, 1]),
    new Uint8Array([224, 0, 0, 18]),
    112,
    12,
  );
  assertEquals(Array.from(h), [10, 78, 0, 1, 224, 0, 0, 18, 0, 112, 0, 12]);
  assertThrows(() => pseudoHeader4(new Uint8Array(16), new Uint8Array(4), 112, 12), RangeError);
});

Deno.test("pseudoHeader6: src, dst, 32-bit length, three zeros, next header", () => {
  const src = new Uint8Array(16).fill(1);
  const dst = new Uint8Array(16).fill(2);
  const h = pseudoHeader6(src, dst, 58, 0x010203);
  assertEquals(h.length, 40);
  assertEquals(Array.from(h.subarray(0, 16)), Array.from(src));
  assertEquals(Array.from(h.subarray(16, 32)), Array.from(dst));
  assertEquals(Array.from(h.subarray(32)), [0, 1, 2, 3, 0, 0, 0, 58]);
  assertThrows(() => pseudoHeader6(new Uint8Array(4), dst, 58, 0), RangeError);
});
