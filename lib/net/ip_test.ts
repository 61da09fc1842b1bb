import { assertEquals } from "../../tests/helpers/assert.ts";
import { formatIp, parseIp, parseIpv4, parseIpv6, parsePrefix } from "./ip.ts";

Deno.test("parseIpv4 accepts dotted quads and rejects the rest", () => {
  assertEquals(parseIpv4("10.78.0.1"), new Uint8Array([10, 78, 0, 1]));
  for (const bad of ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1.2.3.-1"]) {
    assertEquals(parseIpv4(bad), null, bad);
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
