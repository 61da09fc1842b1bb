import { assertEquals } from "../../tests/helpers/assert.ts";
import {
  formatIp,
  isIpv4,
  parseIp,
  parseIpv4,
  parseIpv4Into,
  parseIpv6,
  parsePrefix,
} from "./ip.ts";

Deno.test("parseIpv4 accepts dotted quads and rejects the rest", () => {
  assertEquals(parseIpv4("10.78.0.1"), new Uint8Array([10, 78, 0, 1]));
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1.2.3.-1"]) {
    assertEquals(parseIpv4(bad), null, bad);
  }
});

Deno.test("parseIpv4Into and isIpv4 accept exactly the dotted quads of a regex reference", () => {
  // Reference: four parts 0..255 without leading zeros, nothing else.
  const ref = (t: string) => {
    const parts = t.split(".");
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p))) return null;
    const n = parts.map(Number);
    return n.every((x) => x <= 255) ? n : null;
  };
  const texts = ["0.0.0.0", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1..3.4", "1.2.3.4 ", ""];
  let seed = 5;
  const chars = "0123456789..:a";
  for (let i = 0; i < 5000; i++) {
    let t = "";
    seed = (seed * 1664525 + 1013904223) >>> 0;
    for (let k = 0, n = 1 + (seed % 16); k < n; k++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      t += chars[seed % chars.length];
    }
    texts.push(t);
  }
  const out = new Uint8Array(6);
  for (const t of texts) {
    const want = ref(t);
    assertEquals(parseIpv4Into(t, out, 2), want !== null, t);
    assertEquals(isIpv4(t), want !== null, t);
    if (want !== null) assertEquals([...out.subarray(2)], want, t);
  }
});

Deno.test("IPv6 text round-trips in RFC 5952 form", () => {
  for (
    const [input, canon] of [
      ["fe80::78:1", "fe80::78:1"],
      ["FD78:0:0:0:0:0:0:50", "fd78::50"],
      ["::", "::"],
      ["::1", "::1"],
      ["ff02::12", "ff02::12"],
      ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["::ffff:10.0.0.1", "::ffff:a00:1"],
    ]
  ) {
    const b = parseIpv6(input!);
    assertEquals(b === null ? null : formatIp(b), canon, input);
  }
  for (const bad of ["1::2::3", "12345::", ":::", "1:2:3:4:5:6:7:8:9", "g::1", ""]) {
    assertEquals(parseIpv6(bad), null, bad);
  }
});

Deno.test("parsePrefix reads prefixes and defaults to host length", () => {
  assertEquals(parsePrefix("10.0.0.1/24")?.prefix, 24);
  assertEquals(parsePrefix("10.0.0.1")?.prefix, 32);
  assertEquals(parsePrefix("fd00::1")?.prefix, 128);
  assertEquals(parsePrefix("10.0.0.1/33"), null);
  assertEquals(parsePrefix("fd00::1/129"), null);
  assertEquals(parseIp("nonsense"), null);
});
