import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import {
  ARP_REPLY,
  type ArpPacket,
  decodeArp,
  decodeArpMessage,
  encodeArp,
  gratuitousArp,
  isGratuitous,
} from "./arp.ts";
import { rng as prng } from "../../tests/helpers/rng.ts";

const MAC = new Uint8Array([2, 0, 0, 0x77, 0, 1]);
const VIP = new Uint8Array([10, 77, 0, 50]);

Deno.test("arp: gratuitous ARP fields, decode round trip, padding and VLAN tolerated", () => {
  const f = gratuitousArp(MAC, VIP);
  assertEquals(f.length, 42);
  const d = decodeArp(f);
  assert(d.ok);
  assert(isGratuitous(d.value));
  assertEquals(d.value.op, 1);
  assertEquals(d.value.senderIp, VIP);
  assertEquals(encodeArp(d.value), f);
  const padded = new Uint8Array(60);
  padded.set(f);
  assert(decodeArp(padded).ok);
  const tagged = new Uint8Array([...f.subarray(0, 12), 0x81, 0, 0, 5, ...f.subarray(12)]);
  const t = decodeArp(tagged);
  assert(t.ok);
  assertEquals(t.value.targetIp, VIP);
  assert(decodeArpMessage(f.subarray(14)).ok);
});

Deno.test("arp: rejects other EtherTypes, hardware/protocol types, operations, short frames", () => {
  const f = gratuitousArp(MAC, VIP);
  const bad = (off: number, v: number) => {
    const b = f.slice();
    b[off] = v;
    const d = decodeArp(b);
    return d.ok ? "ok" : d.reason;
  };
  assert(bad(13, 0x00).includes("not ARP"));
  assert(bad(15, 6).includes("htype"));
  assert(bad(16, 0x86).includes("ptype"));
  assert(bad(18, 16).includes("hlen"));
  assert(bad(21, 3).includes("operation"));
  assert(!decodeArp(f.subarray(0, 41)).ok);
  const m = decodeArpMessage(f.subarray(14));
  assert(m.ok);
  const reply: ArpPacket = { ...m.value, op: ARP_REPLY };
  assert(isGratuitous(reply));
  assert(!isGratuitous({ ...reply, targetIp: new Uint8Array([10, 77, 0, 1]) }));
  assertThrows(() => gratuitousArp(MAC, new Uint8Array(16)), RangeError);
  assertThrows(() => gratuitousArp(new Uint8Array(5), VIP), RangeError);
});

Deno.test("arp: 100,000 mutations of a gratuitous ARP never throw; rejections carry a reason", () => {
  const rnd = prng(42);
  const base = gratuitousArp(MAC, VIP);
  let accepted = 0;
  for (let i = 0; i < 100_000; i++) {
    let b: Uint8Array = base.slice();
    const kind = Math.floor(rnd() * 4);
    if (kind === 0) {
      for (let n = 0; n < 1 + Math.floor(rnd() * 3); n++) {
        b[Math.floor(rnd() * b.length)]! ^= 1 << Math.floor(rnd() * 8);
      }
    } else if (kind === 1) b = b.subarray(0, Math.floor(rnd() * b.length));
    else if (kind === 2) {
      b = new Uint8Array([...b, ...Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => 7)]);
    } else {
      b = Uint8Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256));
    }
    const d = decodeArp(b);
    if (d.ok) accepted++;
    else assert(typeof d.reason === "string" && d.reason.length > 0);
  }
  assert(accepted > 0 && accepted < 100_000);
});
