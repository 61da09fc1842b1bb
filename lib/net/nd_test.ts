import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { internetChecksum, pseudoHeader6 } from "./checksum.ts";
import { decodeNa, unsolicitedNa } from "./nd.ts";
import { rng as prng } from "../../tests/helpers/rng.ts";

const MAC = new Uint8Array([2, 0, 0, 0x78, 0, 1]);
const TARGET = new Uint8Array([0xfd, 0x78, ...new Array<number>(13).fill(0), 0x50]);
const LL = new Uint8Array([0xfe, 0x80, ...new Array<number>(12).fill(0), 0x78, 1]);

/** Rewrites the ICMPv6 checksum of an NA frame after a deliberate edit. */
function fixChecksum(f: Uint8Array): Uint8Array {
  const icmp = f.subarray(54);
  icmp[2] = icmp[3] = 0;
  const s = internetChecksum(
    pseudoHeader6(f.subarray(22, 38), f.subarray(38, 54), 58, icmp.length),
    icmp,
  );
  icmp[2] = s >> 8;
  icmp[3] = s & 0xff;
  return f;
}

function why(f: Uint8Array): string {
  const d = decodeNa(f);
  return d.ok ? "ok" : d.reason;
}

Deno.test("nd: Router flag and a chosen source address", () => {
  const f = unsolicitedNa(MAC, TARGET, { router: true, src: LL });
  const d = decodeNa(f);
  assert(d.ok, why(f));
  assertEquals([d.value.router, d.value.solicited, d.value.override], [true, false, true]);
  assertEquals(d.value.src, LL);
  assertEquals(d.value.target, TARGET);
  assertEquals(d.value.targetMac, MAC);
  assertEquals(f[54 + 4], 0xa0);
  assertThrows(() => unsolicitedNa(MAC, new Uint8Array(4)), RangeError);
  assertThrows(() => unsolicitedNa(new Uint8Array(8), TARGET), RangeError);
});

Deno.test("nd: RFC 4861 7.1.2 checks reject bad NAs", () => {
  const good = () => unsolicitedNa(MAC, TARGET);
  assertEquals(why(good()), "ok");
  const hop = good();
  hop[21] = 64;
  assert(why(fixChecksum(hop)).includes("hop limit"));
  const sum = good();
  sum[57]! ^= 1;
  assert(why(sum).includes("checksum"));
  const code = good();
  code[55] = 1;
  assert(why(fixChecksum(code)).includes("code"));
  const mcastTarget = good();
  mcastTarget[62] = 0xff;
  assert(why(fixChecksum(mcastTarget)).includes("multicast"));
  const solicited = good();
  solicited[58] = 0x60;
  assert(why(fixChecksum(solicited)).includes("solicited"));
  const zeroOpt = good();
  zeroOpt[54 + 25] = 0;
  assert(why(fixChecksum(zeroOpt)).includes("length 0"));
  const overrun = good();
  overrun[54 + 25] = 2;
  assert(why(fixChecksum(overrun)).includes("overruns"));
  const ns = good();
  ns[54] = 135;
  assert(why(fixChecksum(ns)).includes("type"));
  assert(why(good().subarray(0, 80)).includes("exceeds"));
  const notIcmp = good();
  notIcmp[20] = 17;
  assert(why(notIcmp).includes("next header"));
  const v4 = good();
  v4[12] = 0x08;
  v4[13] = 0x00;
  assert(why(v4).includes("not IPv6"));
});

Deno.test("nd: an NA without options decodes with targetMac null", () => {
  const f = unsolicitedNa(MAC, TARGET).slice(0, 78);
  f[19] = 24;
  const d = decodeNa(fixChecksum(f));
  assert(d.ok, why(f));
  assertEquals(d.value.targetMac, null);
});

Deno.test("nd: 100,000 mutations of an NA never throw; rejections carry a reason", () => {
  const rnd = prng(7);
  const base = unsolicitedNa(MAC, TARGET);
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    let b: Uint8Array = base.slice();
    const kind = Math.floor(rnd() * 5);
    if (kind === 0) {
      for (let n = 0; n < 1 + Math.floor(rnd() * 3); n++) {
        b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8);
      }
    } else if (kind === 1) b = b.subarray(0, Math.floor(rnd() * b.length));
    else if (kind === 2) {
      b = new Uint8Array([...b, ...Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => 0)]);
    } else if (kind === 3) {
      b = Uint8Array.from({ length: Math.floor(rnd() * 120) }, () => Math.floor(rnd() * 256));
    } else {
      // Edit the ICMPv6 part and fix the checksum so the deeper checks are reached.
      b[54 + Math.floor(rnd() * 32)] = Math.floor(rnd() * 256);
      if (rnd() < 0.5) b[19] = Math.floor(rnd() * 64);
      if (b.length >= 86 && b[19]! <= 32 && b[19]! >= 4) {
        b = fixChecksum(b.slice(0, 54 + b[19]!));
      }
    }
    const d = decodeNa(b);
    if (d.ok) accepted++;
    else assert(typeof d.reason === "string" && d.reason.length > 0);
  }
  assert(accepted > 0 && accepted < 100_000);
});
