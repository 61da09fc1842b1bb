import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { AttributeDecoder, AttributeEncoder, NLA_F_NESTED } from "./attrs.ts";

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("attrs: golden bytes for every kind, padded to 4", () => {
  const b = new AttributeEncoder()
    .u8(1, 0xab)
    .u16(2, 0x1234)
    .u32(3, 0xdeadbeef)
    .u16be(4, 0x1234)
    .string(5, "eth0")
    .u64(6, 0x0102030405060708n)
    .finish();
  assertEquals(
    hex(b),
    [
      "05 00 01 00 ab 00 00 00",
      "06 00 02 00 34 12 00 00",
      "08 00 03 00 ef be ad de",
      "06 00 04 00 12 34 00 00",
      "09 00 05 00 65 74 68 30 00 00 00 00",
      "0c 00 06 00 08 07 06 05 04 03 02 01",
    ].join(" "),
  );
});

Deno.test("attrs: nested sets NLA_F_NESTED and round-trips", () => {
  const b = new AttributeEncoder()
    .nested(7, (e) => e.u32(1, 5).string(2, "x"))
    .u16(8, 9)
    .finish();
  assertEquals(new DataView(b.buffer).getUint16(2, true), 7 | NLA_F_NESTED);
  const d = new AttributeDecoder(b);
  const seen: string[] = [];
  while (d.next()) {
    if (d.type === 7) {
      assert(d.isNested);
      d.nested((n) => {
        while (n.next()) seen.push(n.type === 1 ? `u32=${n.u32()}` : `str=${n.string()}`);
      });
    } else seen.push(`u16=${d.u16()}`);
  }
  assertEquals(d.err(), null);
  assertEquals(seen, ["u32=5", "str=x", "u16=9"]);
});

Deno.test("attrs: round trip of random values", () => {
  for (let i = 0; i < 200; i++) {
    const v8 = Math.floor(Math.random() * 256);
    const v16 = Math.floor(Math.random() * 65536);
    const v32 = Math.floor(Math.random() * 2 ** 32);
    const v64 = BigInt(v32) * 65537n;
    const s = Math.random().toString(36).slice(2);
    const raw = crypto.getRandomValues(new Uint8Array(i % 37));
    const b = new AttributeEncoder().u8(1, v8).u16(2, v16).u32(3, v32).u64(4, v64)
      .string(5, s).bytes(6, raw).u32be(7, v32).finish();
    const d = new AttributeDecoder(b);
    const got: unknown[] = [];
    while (d.next()) {
      switch (d.type) {
        case 1:
          got.push(d.u8());
          break;
        case 2:
          got.push(d.u16());
          break;
        case 3:
          got.push(d.u32());
          break;
        case 4:
          got.push(d.u64());
          break;
        case 5:
          got.push(d.string());
          break;
        case 6:
          got.push(d.bytes());
          break;
        case 7:
          got.push(d.u32be());
          break;
      }
    }
    assertEquals(d.err(), null);
    assertEquals(got, [v8, v16, v32, v64, s, raw, v32]);
  }
});

Deno.test("attrs: sticky error on wrong size; later reads give zero values", () => {
  const b = new AttributeEncoder().u16(1, 7).u32(2, 8).string(3, "abc").finish();
  const d = new AttributeDecoder(b);
  assert(d.next());
  assertEquals(d.u32(), 0); // a u16 read as u32
  const e = d.err();
  assert(e !== null);
  assert(e.message.includes("expected 4 bytes, got 2"), e.message);
  assertEquals(d.next(), false);
  assertEquals(d.u16(), 0);
  assertEquals(d.string(), "");
  assertEquals(d.bytes().length, 0);
  assertEquals(d.u64(), 0n);
  assert(d.err() === e, "first error wins");
});

Deno.test("attrs: truncated and garbage input never throws", () => {
  const good = new AttributeEncoder().u32(1, 1).string(2, "hello").nested(3, (e) => e.u8(1, 1))
    .finish();
  for (let cut = 1; cut < good.length; cut++) {
    const d = new AttributeDecoder(good.subarray(0, cut));
    while (d.next()) {
      d.u32();
      d.string();
      d.nested((n) => {
        while (n.next()) n.u8();
      });
    }
    d.err();
  }
  const d = new AttributeDecoder(good.subarray(0, 6));
  assertEquals(d.next(), false);
  assert(d.err()?.message.includes("bad attribute length 8"));
  const tail = new AttributeDecoder(Uint8Array.of(8, 0, 1, 0, 1, 0, 0, 0, 9, 9));
  assert(tail.next());
  assertEquals(tail.next(), false);
  assert(tail.err()?.message.includes("truncated attribute header"));
  for (let i = 0; i < 2000; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(i % 64));
    const g = new AttributeDecoder(junk);
    while (g.next()) {
      g.u8();
      g.u16();
      g.string();
      g.nested((n) => {
        while (n.next()) n.u32();
      });
    }
  }
});

Deno.test("attrs: a bad nested attribute becomes the parent's error", () => {
  const inner = Uint8Array.of(9, 0, 1, 0, 1); // claims 9 bytes, has 5
  const b = new AttributeEncoder().bytes(1 | NLA_F_NESTED, inner).u32(2, 5).finish();
  const d = new AttributeDecoder(b);
  assert(d.next());
  d.nested((n) => {
    while (n.next()) n.u8();
  });
  assert(d.err() !== null);
  assertEquals(d.next(), false);
});

Deno.test("attrs: encoder rejects out-of-range arguments", () => {
  assertThrows(() => new AttributeEncoder().u8(1, 256), RangeError);
  assertThrows(() => new AttributeEncoder().u16(1, -1), RangeError);
  assertThrows(() => new AttributeEncoder().u32(1, 1.5), RangeError);
  assertThrows(() => new AttributeEncoder().u64(1, -1n), RangeError);
  assertThrows(() => new AttributeEncoder().bytes(1, new Uint8Array(70000)), RangeError);
});

Deno.test("attrs: an encoder starting with 1 byte grows under every kind of attribute", () => {
  const build = (e: AttributeEncoder) =>
    e.u8(1, 1).u16(2, 2).u32(3, 3).u16be(4, 4).u32be(5, 5).u64(6, 6n).string(7, "seven")
      .bytes(8, Uint8Array.of(8), 16).nested(9, (n) => n.string(1, "x".repeat(300)).u8(2, 2))
      .finish();
  const small = build(new AttributeEncoder(1));
  const large = build(new AttributeEncoder(4096));
  assertEquals([...small], [...large]);
  const d = new AttributeDecoder(small);
  const seen: unknown[] = [];
  while (d.next()) {
    if (d.type === 6) seen.push(d.u64());
    else if (d.type === 7) seen.push(d.string());
    else if (d.type === 5) seen.push(d.u32be());
    else if (d.type === 9) d.nested((n) => n.next() && seen.push(n.string().length));
  }
  assertEquals(seen, [5, 6n, "seven", 300]);
  assertEquals(d.err(), null);
});
