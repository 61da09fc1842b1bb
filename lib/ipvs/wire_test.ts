import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { AttributeDecoder, AttributeEncoder } from "../netlink/attrs.ts";
import { parseIpv4 } from "../net/ip.ts";
import { AttrReader, AttrWriter, ipv4Into, isIpv4Text } from "./wire.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

Deno.test("wire: ipv4Into accepts exactly what parseIpv4 accepts", () => {
  const fixed = [
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.1",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3",
    "1.2.3.4.5",
    "1..3.4",
    "1.2.3.4 ",
    "a.b.c.d",
    "1.2.3.00",
    "100.200.300.1",
    "",
    "::1",
  ];
  const r = rng(5);
  const chars = "0123456789..:a";
  for (let i = 0; i < 5000; i++) {
    let t = "";
    for (let k = 0, n = 1 + Math.floor(r() * 16); k < n; k++) {
      t += chars[Math.floor(r() * chars.length)];
    }
    fixed.push(t);
  }
  const out = new Uint8Array(4);
  for (const t of fixed) {
    const want = parseIpv4(t);
    assertEquals(ipv4Into(t, out), want !== null, t);
    assertEquals(isIpv4Text(t), want !== null, t);
    if (want !== null) assertEquals([...out], [...want], t);
  }
});

Deno.test("wire: AttrWriter writes the bytes AttributeEncoder writes", () => {
  const w = new AttrWriter(8);
  const at = w.open(1);
  w.u16(1, 2).u16be(4, 80).u32(8, 300).u8(13, 1).string(6, "wlc");
  w.bytes(3, Uint8Array.of(10, 0, 0, 1), 16).u32pair(7, 1, 0xfffffffd);
  w.close(at);
  const want = new AttributeEncoder().nested(1, (n) => {
    n.u16(1, 2).u16be(4, 80).u32(8, 300).u8(13, 1).string(6, "wlc");
    n.bytes(3, Uint8Array.of(10, 0, 0, 1, ...new Array(12).fill(0)));
    n.bytes(7, Uint8Array.of(1, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff));
  }).finish();
  assertEquals([...w.finish()], [...want]);
  assertEquals(w.reset().finish().length, 0);
  assertThrows(() => w.u16(1, 0x10000), RangeError);
  assertThrows(() => w.u32(1, -1), RangeError);
  assertThrows(() => w.u8(1, 1.5), RangeError);
});

Deno.test("wire: AttrReader reads and fails like AttributeDecoder, on any bytes", () => {
  const r = rng(11);
  for (let i = 0; i < 3000; i++) {
    const good = new AttributeEncoder().u16(1, Math.floor(r() * 65536)).u32(2, 7)
      .nested(3, (n) => n.u64(1, 5n).u32(2, 9)).string(4, "rr").u16be(5, 80).finish();
    const b = good.slice(0, Math.floor(r() * (good.length + 1)));
    for (let k = 0; k < 2 && b.length > 0; k++) b[Math.floor(r() * b.length)] = r() * 256;
    const seen: unknown[] = [];
    const mine: unknown[] = [];
    const d = new AttributeDecoder(b);
    while (d.next()) {
      const v = d.type === 3 ? "nested" : d.length === 2 ? d.u16() : d.length === 4 ? d.u32() : 0;
      seen.push([d.type, d.length, v]);
    }
    const a = new AttrReader(b);
    while (a.next()) {
      const v = a.type === 3 ? "nested" : a.length === 2 ? a.u16() : a.length === 4 ? a.u32() : 0;
      mine.push([a.type, a.length, v]);
    }
    assertEquals(mine, seen, `round ${i}`);
    assertEquals(a.error === null, d.err() === null, `round ${i}`);
  }
  const x = new AttrReader(new AttributeEncoder().u64(1, 0x123456789n).u16(2, 1).finish());
  assert(x.next());
  assertEquals(x.u64(), 0x123456789);
  assert(x.next());
  assertEquals(x.u32(), 0);
  assertEquals(x.error, "attribute 2: expected 4 bytes, got 2");
  assert(!x.next());
});
