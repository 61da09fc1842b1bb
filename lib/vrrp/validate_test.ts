import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { type Advert, encodeAdvert, type Family, passwordBytes } from "./packet.ts";
import {
  constantTimeEqual,
  type ReceiveContext,
  validateAdvert,
  type Verdict,
} from "./validate.ts";

const SRC4 = new Uint8Array([10, 0, 0, 1]);
const GROUP4 = new Uint8Array([224, 0, 0, 18]);
const SRC6 = new Uint8Array([0xfe, 0x80, ...new Array<number>(13).fill(0), 1]);
const GROUP6 = new Uint8Array([0xff, 2, ...new Array<number>(13).fill(0), 0x12]);
const VIP4 = [new Uint8Array([10, 0, 0, 50]), new Uint8Array([10, 0, 0, 51])];
const VIP6 = [new Uint8Array([0xfe, 0x80, ...new Array<number>(13).fill(0), 0x50])];

type Fields = Omit<Advert, "checksum">;

const V2: Fields = {
  version: 2,
  type: 1,
  vrid: 7,
  priority: 200,
  maxAdverIntCs: 300,
  authType: 1,
  authData: passwordBytes("secret12"),
  addresses: VIP4,
};
const V3: Fields = { ...V2, version: 3, maxAdverIntCs: 100, authType: 0, authData: null };
const V36: Fields = { ...V3, addresses: VIP6 };

/** The receiving side for an advert as sent by `sent` (so an unmodified advert passes). */
function ctxFor(sent: Fields, family: Family = "ipv4"): ReceiveContext {
  return {
    expect: {
      version: sent.version,
      family,
      vrid: sent.vrid,
      authType: sent.authType,
      authData: sent.authData,
      advertIntervalCs: sent.maxAdverIntCs,
      addresses: sent.addresses,
    },
    hopLimit: 255,
    unicast: false,
    v3Checksum: "keepalived",
    src: family === "ipv4" ? SRC4 : SRC6,
    dst: family === "ipv4" ? GROUP4 : GROUP6,
  };
}

function wire(a: Fields, family: Family = "ipv4"): Uint8Array {
  const c = ctxFor(a, family);
  return encodeAdvert(a, { family, src: c.src, dst: c.dst, v3Checksum: "keepalived" });
}

function reason(v: Verdict): string {
  return v.ok ? "accepted" : v.reason;
}

Deno.test("validate: good v2, v3/IPv4 and v3/IPv6 adverts pass without flags", () => {
  for (const [a, f] of [[V2, "ipv4"], [V3, "ipv4"], [V36, "ipv6"]] as const) {
    const v = validateAdvert(wire(a, f), ctxFor(a, f));
    assert(v.ok, reason(v));
    assertEquals([v.addressMismatch, v.intervalMismatch], [false, false]);
    assertEquals(v.advert.vrid, a.vrid);
  }
});

Deno.test("validate: a priority-0 advert is valid", () => {
  const v = validateAdvert(wire({ ...V2, priority: 0 }), ctxFor(V2));
  assert(v.ok, reason(v));
  assertEquals(v.advert.priority, 0);
});

Deno.test("validate: ttl - hop limit other than 255 is dropped, unless unicast", () => {
  assertEquals(reason(validateAdvert(wire(V3), { ...ctxFor(V3), hopLimit: 254 })), "ttl");
  assertEquals(
    reason(validateAdvert(wire(V36, "ipv6"), { ...ctxFor(V36, "ipv6"), hopLimit: 1 })),
    "ttl",
  );
  const peer = new Uint8Array([10, 0, 0, 2]);
  const uni = encodeAdvert(V3, { family: "ipv4", src: SRC4, dst: peer, v3Checksum: "keepalived" });
  const v = validateAdvert(uni, { ...ctxFor(V3), unicast: true, hopLimit: 64, dst: peer });
  assert(v.ok, reason(v));
  // The same TTL when not unicast is dropped.
  assertEquals(reason(validateAdvert(uni, { ...ctxFor(V3), hopLimit: 64, dst: peer })), "ttl");
});

Deno.test("validate: version - other than expected, or not 2/3", () => {
  assertEquals(reason(validateAdvert(wire(V3), ctxFor(V2))), "version");
  assertEquals(reason(validateAdvert(wire(V2), ctxFor(V3))), "version");
  const b = wire(V3);
  b[0] = 0x41;
  assertEquals(reason(validateAdvert(b, ctxFor(V3))), "version");
});

Deno.test("validate: type - anything but ADVERTISEMENT (1)", () => {
  const b = wire(V3);
  b[0] = 0x32;
  assertEquals(reason(validateAdvert(b, ctxFor(V3))), "type");
});

Deno.test("validate: length - shorter than the fixed header", () => {
  assertEquals(reason(validateAdvert(wire(V3).subarray(0, 6), ctxFor(V3))), "length");
  assertEquals(reason(validateAdvert(wire(V2).subarray(0, 15), ctxFor(V2))), "length");
});

Deno.test("validate: address-count - message length disagrees with the count", () => {
  assertEquals(reason(validateAdvert(wire(V3).subarray(0, 12), ctxFor(V3))), "address-count");
  const b = wire(V2);
  b[3] = 1;
  assertEquals(reason(validateAdvert(b, ctxFor(V2))), "address-count");
});

Deno.test("validate: checksum - any flipped bit, the wrong pseudo-header, the wrong mode", () => {
  const good = wire(V3);
  for (let bit = 0; bit < good.length * 8; bit++) {
    const b = good.slice();
    b[bit >> 3]! ^= 1 << (bit & 7);
    const r = reason(validateAdvert(b, ctxFor(V3)));
    // Flips in the version/type/count bytes are caught earlier; everything else by the checksum.
    assert(r !== "accepted", `bit ${bit} flipped was accepted`);
    if (bit >= 8 && (bit < 24 || bit >= 32)) assertEquals(r, "checksum", `bit ${bit}`);
  }
  const otherSrc = { ...ctxFor(V3), src: new Uint8Array([10, 0, 0, 9]) };
  assertEquals(reason(validateAdvert(good, otherSrc)), "checksum");
  assertEquals(reason(validateAdvert(good, { ...ctxFor(V3), v3Checksum: "rfc9568" })), "checksum");
  const rfc = encodeAdvert(V3, { family: "ipv4", src: SRC4, dst: GROUP4, v3Checksum: "rfc9568" });
  assert(validateAdvert(rfc, { ...ctxFor(V3), v3Checksum: "rfc9568" }).ok);
  const otherDst6 = { ...ctxFor(V36, "ipv6"), dst: SRC6 };
  assertEquals(reason(validateAdvert(wire(V36, "ipv6"), otherDst6)), "checksum");
});

Deno.test("validate: vrid - not ours", () => {
  assertEquals(reason(validateAdvert(wire({ ...V3, vrid: 8 }), ctxFor(V3))), "vrid");
});

Deno.test("validate: zero-count and zero-interval are dropped (keepalived ignores them)", () => {
  assertEquals(reason(validateAdvert(wire({ ...V3, addresses: [] }), ctxFor(V3))), "zero-count");
  assertEquals(reason(validateAdvert(wire({ ...V2, addresses: [] }), ctxFor(V2))), "zero-count");
  assertEquals(
    reason(validateAdvert(wire({ ...V3, maxAdverIntCs: 0 }), ctxFor(V3))),
    "zero-interval",
  );
  assertEquals(
    reason(validateAdvert(wire({ ...V2, maxAdverIntCs: 0 }), ctxFor(V2))),
    "zero-interval",
  );
});

Deno.test("validate: auth - wrong type, wrong password, AH, password expected but none set", () => {
  assertEquals(reason(validateAdvert(wire({ ...V2, authType: 0 }), ctxFor(V2))), "auth");
  const noAuth = { ...V2, authType: 0, authData: null };
  assertEquals(reason(validateAdvert(wire(V2), ctxFor(noAuth))), "auth");
  assert(validateAdvert(wire(noAuth), ctxFor(noAuth)).ok);
  const wrong = wire({ ...V2, authData: passwordBytes("secret13") });
  assertEquals(reason(validateAdvert(wrong, ctxFor(V2))), "auth");
  const prefix = wire({ ...V2, authData: passwordBytes("secret") });
  assertEquals(reason(validateAdvert(prefix, ctxFor(V2))), "auth");
  const ah = { ...V2, authType: 2 };
  assertEquals(reason(validateAdvert(wire(ah), ctxFor(ah))), "auth");
  const nullPw = ctxFor(V2);
  nullPw.expect.authData = null;
  assertEquals(reason(validateAdvert(wire(V2), nullPw)), "auth");
  // v3 has no authentication: a configured auth type is ignored.
  const v3ctx = ctxFor(V3);
  v3ctx.expect.authType = 1;
  assert(validateAdvert(wire(V3), v3ctx).ok);
});

Deno.test("validate: interval - v2 mismatch is dropped, v3 mismatch is accepted and flagged", () => {
  assertEquals(reason(validateAdvert(wire({ ...V2, maxAdverIntCs: 100 }), ctxFor(V2))), "interval");
  const v = validateAdvert(wire({ ...V3, maxAdverIntCs: 50 }), ctxFor(V3));
  assert(v.ok, reason(v));
  assertEquals([v.intervalMismatch, v.addressMismatch], [true, false]);
  assertEquals(v.advert.maxAdverIntCs, 50);
});

Deno.test("validate: v2 address list differences are dropped unless from the owner (RFC 3768 7.1)", () => {
  // A count that differs, and an address that differs: dropped.
  const fewer = { ...V2, addresses: [VIP4[0]!] };
  assertEquals(reason(validateAdvert(wire(fewer), ctxFor(V2))), "addresses");
  const other = { ...V2, addresses: [VIP4[0]!, new Uint8Array([10, 0, 0, 99])] };
  assertEquals(reason(validateAdvert(wire(other), ctxFor(V2))), "addresses");
  // Priority 0 is not the owner: dropped too.
  assertEquals(reason(validateAdvert(wire({ ...other, priority: 0 }), ctxFor(V2))), "addresses");
  // The address owner (priority 255): processed, flagged.
  const owner = validateAdvert(wire({ ...other, priority: 255 }), ctxFor(V2));
  assert(owner.ok, reason(owner));
  assertEquals(owner.addressMismatch, true);
  // Order does not matter.
  const swapped = validateAdvert(wire({ ...V2, addresses: [VIP4[1]!, VIP4[0]!] }), ctxFor(V2));
  assert(swapped.ok);
  assertEquals(swapped.addressMismatch, false);
});

Deno.test("validate: v3 address list differences are dropped whatever the priority (keepalived 2.2.7)", () => {
  const fewer = { ...V3, addresses: [VIP4[0]!] };
  assertEquals(reason(validateAdvert(wire(fewer), ctxFor(V3))), "addresses");
  assertEquals(reason(validateAdvert(wire({ ...fewer, priority: 255 }), ctxFor(V3))), "addresses");
  const swapped = validateAdvert(wire({ ...V3, addresses: [VIP4[1]!, VIP4[0]!] }), ctxFor(V3));
  assert(swapped.ok);
});

Deno.test("validate: checkAddresses false (skip_check_adv_addr) lets a different list through", () => {
  const ctx = { ...ctxFor(V3), checkAddresses: false };
  const v = validateAdvert(wire({ ...V3, addresses: [VIP4[0]!] }), ctx);
  assert(v.ok, reason(v));
  assertEquals(v.addressMismatch, false);
});

Deno.test("validate: unicast TTL - 255 not required; the peer's min..max range is", () => {
  const uni = (hopLimit: number, ttlRange: { min: number; max: number } | null = null) => ({
    ...ctxFor(V3),
    unicast: true,
    hopLimit,
    ttlRange,
  });
  assert(validateAdvert(wire(V3), uni(64)).ok);
  assert(validateAdvert(wire(V3), uni(250, { min: 250, max: 255 })).ok);
  assertEquals(reason(validateAdvert(wire(V3), uni(249, { min: 250, max: 255 }))), "ttl");
  assertEquals(reason(validateAdvert(wire(V3), uni(255, { min: 0, max: 254 }))), "ttl");
  // Multicast ignores a range: 255 is required.
  const multi = { ...ctxFor(V3), hopLimit: 250, ttlRange: { min: 0, max: 255 } };
  assertEquals(reason(validateAdvert(wire(V3), multi)), "ttl");
});

Deno.test("validate: family - addresses of the wrong size, or v2 over IPv6", () => {
  assertEquals(reason(validateAdvert(wire(V3), { ...ctxFor(V3), src: SRC6 })), "family");
  const v2over6 = ctxFor(V36, "ipv6");
  v2over6.expect.version = 2;
  const b = wire(V36, "ipv6");
  b[0] = 0x21;
  assertEquals(reason(validateAdvert(b, v2over6)), "family");
});

Deno.test("validate: checks run in the documented order", () => {
  // bad TTL + bad checksum -> ttl; bad checksum + wrong VRID -> checksum;
  // wrong VRID + zero count -> vrid; zero count + bad auth -> zero-count; bad auth + interval -> auth.
  const badSum = wire(V2);
  badSum[7]! ^= 1;
  assertEquals(reason(validateAdvert(badSum, { ...ctxFor(V2), hopLimit: 1 })), "ttl");
  const c = ctxFor(V2);
  c.expect.vrid = 99;
  assertEquals(reason(validateAdvert(badSum, c)), "checksum");
  assertEquals(reason(validateAdvert(wire({ ...V2, addresses: [] }), c)), "vrid");
  const zeroBadAuth = wire({ ...V2, addresses: [], authData: passwordBytes("x") });
  assertEquals(reason(validateAdvert(zeroBadAuth, ctxFor(V2))), "zero-count");
  const authAndInterval = wire({ ...V2, maxAdverIntCs: 100, authData: passwordBytes("x") });
  assertEquals(reason(validateAdvert(authAndInterval, ctxFor(V2))), "auth");
});

Deno.test("constantTimeEqual: right answers, and every byte of both inputs read whatever differs", () => {
  const pw = passwordBytes("secret12");
  assert(constantTimeEqual(pw, passwordBytes("secret12")));
  assert(!constantTimeEqual(pw, passwordBytes("Secret12")));
  assert(!constantTimeEqual(pw, passwordBytes("secret13")));
  assert(!constantTimeEqual(pw, new Uint8Array(7)));
  assert(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)));
  // Count element reads through a Proxy: a mismatch at byte 0 must read as much as a match.
  const counted = (bytes: Uint8Array) => {
    const seen = { reads: 0 };
    const proxy = new Proxy(bytes, {
      get(target, key) {
        if (typeof key === "string" && /^\d+$/.test(key)) seen.reads++;
        return Reflect.get(target, key);
      },
    });
    return { proxy: proxy as ArrayLike<number>, seen };
  };
  const reads: number[] = [];
  for (let at = -1; at < 8; at++) {
    const other = pw.slice();
    if (at >= 0) other[at]! ^= 0xff;
    const a = counted(pw), b = counted(other);
    assertEquals(constantTimeEqual(a.proxy, b.proxy), at < 0);
    assertEquals([a.seen.reads, b.seen.reads], [8, 8], `mismatch at ${at}`);
    reads.push(a.seen.reads + b.seen.reads);
  }
  assertEquals(new Set(reads).size, 1);
});
