import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import {
  type Advert,
  type ChecksumContext,
  decodeAdvert,
  DROP_REASONS,
  encodeAdvert,
  type Family,
  passwordBytes,
  verifyChecksum,
} from "./packet.ts";
import { validateAdvert } from "./validate.ts";
import { rng as prng } from "../../tests/helpers/rng.ts";

function int(rnd: () => number, max: number): number {
  return Math.floor(rnd() * (max + 1));
}

function bytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(rnd, 255);
  return b;
}

function randomCase(rnd: () => number): { advert: Omit<Advert, "checksum">; ctx: ChecksumContext } {
  const version = rnd() < 0.5 ? 2 : 3;
  const family: Family = version === 2 || rnd() < 0.5 ? "ipv4" : "ipv6";
  const alen = family === "ipv4" ? 4 : 16;
  const count = rnd() < 0.02 ? 255 : int(rnd, 12);
  const addresses = Array.from({ length: count }, () => bytes(rnd, alen));
  const advert: Omit<Advert, "checksum"> = {
    version,
    type: 1,
    vrid: int(rnd, 255),
    priority: int(rnd, 255),
    maxAdverIntCs: version === 2 ? int(rnd, 255) * 100 : int(rnd, 4095),
    authType: version === 2 ? int(rnd, 255) : 0,
    authData: version === 2 ? bytes(rnd, 8) : null,
    addresses,
  };
  const ctx: ChecksumContext = {
    family,
    src: bytes(rnd, alen),
    dst: bytes(rnd, alen),
    v3Checksum: rnd() < 0.5 ? "keepalived" : "rfc9568",
  };
  return { advert, ctx };
}

Deno.test("packet: decode(encode(x)) == x for 10,000 random adverts of both versions/families", () => {
  const rnd = prng(0x5eed);
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    const { advert, ctx } = randomCase(rnd);
    seen.add(`${advert.version}/${ctx.family}/${ctx.v3Checksum}`);
    const wire = encodeAdvert(advert, ctx);
    const d = decodeAdvert(wire, ctx.family);
    assert(d.ok, `case ${i}: ${!d.ok && d.reason}`);
    const { checksum, ...rest } = d.value;
    assertEquals(rest, advert, `case ${i}`);
    assertEquals(checksum, (wire[6]! << 8) | wire[7]!);
    assert(verifyChecksum(wire, ctx), `case ${i}: checksum does not verify`);
  }
  // Every combination was generated: v2/ipv4 x 2 modes, v3 x 2 families x 2 modes.
  assertEquals(seen.size, 6);
});

Deno.test("packet: v3 IPv4 checksum modes differ, v3 IPv6 and v2 do not depend on the mode", () => {
  const src4 = new Uint8Array([10, 0, 0, 1]), dst4 = new Uint8Array([224, 0, 0, 18]);
  const base = {
    type: 1,
    vrid: 9,
    priority: 100,
    authType: 0,
    authData: null,
  };
  const v3 = { ...base, version: 3 as const, maxAdverIntCs: 100, addresses: [new Uint8Array(4)] };
  const k = encodeAdvert(v3, { family: "ipv4", src: src4, dst: dst4, v3Checksum: "keepalived" });
  const r = encodeAdvert(v3, { family: "ipv4", src: src4, dst: dst4, v3Checksum: "rfc9568" });
  assert(k[6] !== r[6] || k[7] !== r[7]);
  const v2 = { ...base, version: 2 as const, maxAdverIntCs: 100, addresses: [new Uint8Array(4)] };
  const a = encodeAdvert(v2, { family: "ipv4", src: src4, dst: dst4, v3Checksum: "keepalived" });
  const b = encodeAdvert(v2, { family: "ipv4", src: src4, dst: dst4, v3Checksum: "rfc9568" });
  assertEquals(a, b);
  const src6 = new Uint8Array(16).fill(0xfe), dst6 = new Uint8Array(16).fill(0xff);
  const v36 = { ...v3, addresses: [new Uint8Array(16)] };
  const c = encodeAdvert(v36, { family: "ipv6", src: src6, dst: dst6, v3Checksum: "keepalived" });
  const e = encodeAdvert(v36, { family: "ipv6", src: src6, dst: dst6, v3Checksum: "rfc9568" });
  assertEquals(c, e);
});

Deno.test("packet: encode rejects values that do not fit the wire", () => {
  const ctx: ChecksumContext = {
    family: "ipv4",
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    v3Checksum: "keepalived",
  };
  const ok: Omit<Advert, "checksum"> = {
    version: 2,
    type: 1,
    vrid: 1,
    priority: 100,
    maxAdverIntCs: 100,
    authType: 0,
    authData: null,
    addresses: [new Uint8Array(4)],
  };
  encodeAdvert(ok, ctx);
  assertThrows(() => encodeAdvert({ ...ok, vrid: 256 }, ctx), RangeError, "vrid");
  assertThrows(() => encodeAdvert({ ...ok, priority: -1 }, ctx), RangeError, "priority");
  assertThrows(() => encodeAdvert({ ...ok, maxAdverIntCs: 150 }, ctx), RangeError, "whole seconds");
  assertThrows(() => encodeAdvert({ ...ok, maxAdverIntCs: 25600 }, ctx), RangeError);
  assertThrows(() => encodeAdvert({ ...ok, authData: new Uint8Array(7) }, ctx), RangeError);
  assertThrows(() => encodeAdvert({ ...ok, addresses: [new Uint8Array(16)] }, ctx), RangeError);
  assertThrows(
    () => encodeAdvert({ ...ok, version: 3, maxAdverIntCs: 4096 }, ctx),
    RangeError,
    "4095",
  );
  assertThrows(() => encodeAdvert(ok, { ...ctx, family: "ipv6" }), RangeError, "IPv4 only");
  assertThrows(
    () => encodeAdvert({ ...ok, version: 3 }, { ...ctx, src: new Uint8Array(16) }),
    RangeError,
  );
});

Deno.test("packet: decode reasons for structurally bad messages", () => {
  const ctx: ChecksumContext = {
    family: "ipv4",
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    v3Checksum: "keepalived",
  };
  const v3 = encodeAdvert({
    version: 3,
    type: 1,
    vrid: 1,
    priority: 100,
    maxAdverIntCs: 100,
    authType: 0,
    authData: null,
    addresses: [new Uint8Array([10, 0, 0, 1])],
  }, ctx);
  const bad = (mut: (b: Uint8Array) => Uint8Array, family: Family = "ipv4") => {
    const d = decodeAdvert(mut(v3.slice()), family);
    return d.ok ? "ok" : d.reason;
  };
  assertEquals(bad((b) => b), "ok");
  assertEquals(bad((b) => b.subarray(0, 7)), "length");
  assertEquals(bad((b) => ((b[0] = 0x41), b)), "version");
  assertEquals(bad((b) => ((b[0] = 0x11), b)), "version");
  assertEquals(bad((b) => ((b[0] = 0x32), b)), "type");
  assertEquals(bad((b) => b.subarray(0, 11)), "address-count");
  assertEquals(bad((b) => ((b[3] = 2), b)), "address-count");
  assertEquals(bad((b) => new Uint8Array([...b, 0])), "address-count");
  assertEquals(bad((b) => b, "ipv6"), "address-count");
  assertEquals(bad((b) => ((b[0] = 0x21), b), "ipv6"), "family");
  // v2: the 8 auth bytes are part of the fixed length.
  assertEquals(bad((b) => ((b[0] = 0x21), b.subarray(0, 12))), "length");
  // v3 reserved bits are ignored on receive (RFC 5798 5.2.5).
  const r = decodeAdvert(((v3[4] = 0xf0), v3), "ipv4");
  assert(r.ok);
  assertEquals(r.value.maxAdverIntCs, 100);
});

Deno.test("packet: passwordBytes NUL-pads and truncates to 8 bytes as keepalived", () => {
  assertEquals(Array.from(passwordBytes("abc")), [97, 98, 99, 0, 0, 0, 0, 0]);
  assertEquals(new TextDecoder().decode(passwordBytes("secret12")), "secret12");
  assertEquals(new TextDecoder().decode(passwordBytes("secret12345")), "secret12");
  assertEquals(passwordBytes(""), new Uint8Array(8));
});

Deno.test("packet: verifyChecksum is false for short messages and wrong-size addresses", () => {
  const ctx: ChecksumContext = {
    family: "ipv4",
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    v3Checksum: "keepalived",
  };
  assertEquals(verifyChecksum(new Uint8Array(7), ctx), false);
  const v3 = new Uint8Array([0x31, 1, 100, 0, 0, 100, 0, 0]);
  assertEquals(verifyChecksum(v3, { ...ctx, src: new Uint8Array(16) }), false);
  assertEquals(verifyChecksum(v3, { ...ctx, family: "ipv6" }), false);
});

/** One random mutation of a message: bit flips, truncation, extension, random bytes, etc. */
function mutate(rnd: () => number, msg: Uint8Array): Uint8Array {
  const b = msg.slice();
  switch (int(rnd, 5)) {
    case 0: {
      for (let n = 1 + int(rnd, 3); n > 0; n--) {
        if (b.length > 0) b[int(rnd, b.length - 1)]! ^= 1 << int(rnd, 7);
      }
      return b;
    }
    case 1:
      return b.subarray(0, int(rnd, b.length));
    case 2: {
      const out = new Uint8Array(b.length + 1 + int(rnd, 40));
      out.set(b);
      out.set(bytes(rnd, out.length - b.length), b.length);
      return out;
    }
    case 3:
      return bytes(rnd, int(rnd, 120));
    case 4: {
      if (b.length > 0) b[int(rnd, Math.min(7, b.length - 1))] = int(rnd, 255);
      return b;
    }
    default: {
      // The header of one message with the body of another length.
      const other = bytes(rnd, int(rnd, 60));
      other.set(b.subarray(0, Math.min(8, other.length)));
      return other;
    }
  }
}

Deno.test("packet: 100,000 mutations never throw from decodeAdvert/validateAdvert; rejections carry a DropReason", () => {
  const rnd = prng(0xbad5eed);
  const reasons = new Set<string>(DROP_REASONS);
  const seenReasons = new Map<string, number>();
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    const { advert, ctx } = randomCase(rnd);
    const wire = mutate(rnd, encodeAdvert(advert, ctx));
    for (const family of ["ipv4", "ipv6"] as const) {
      const d = decodeAdvert(wire, family);
      if (!d.ok) {
        assert(reasons.has(d.reason), `case ${i}: unknown reason ${d.reason}`);
      } else {
        for (const a of d.value.addresses) assertEquals(a.length, family === "ipv4" ? 4 : 16);
      }
    }
    const v = validateAdvert(wire, {
      expect: {
        version: advert.version,
        family: ctx.family,
        vrid: advert.vrid,
        authType: advert.authType,
        authData: advert.authData,
        advertIntervalCs: advert.maxAdverIntCs,
        addresses: advert.addresses,
      },
      hopLimit: rnd() < 0.9 ? 255 : int(rnd, 255),
      unicast: rnd() < 0.2,
      v3Checksum: ctx.v3Checksum,
      src: rnd() < 0.98 ? ctx.src : bytes(rnd, int(rnd, 20)),
      dst: ctx.dst,
    });
    if (v.ok) accepted++;
    else {
      assert(reasons.has(v.reason), `case ${i}: unknown reason ${v.reason}`);
      seenReasons.set(v.reason, (seenReasons.get(v.reason) ?? 0) + 1);
    }
  }
  // The mutations reach deep into the checks, and some survive (e.g. truncation to full length).
  for (const r of ["ttl", "version", "type", "length", "checksum", "address-count", "family"]) {
    assert((seenReasons.get(r) ?? 0) > 0, `no mutation was dropped for ${r}`);
  }
  assert(accepted > 0);
});
