import { assertEquals, assertThrows } from "./assert.ts";
import { ipLayer, parseHexdump, splitIpv6 } from "./hexdump.ts";

const TEXT = `# a comment line with 0x0000: hex-looking text
1.500000 aa > bb, ethertype IPv4 (0x0800), length 34: first
\t0x0000:  0100 5e00 0012 0200 0077 0001 0800 45c0
\t0x0010:  0014 0001 0000 ff70 0000 0a4d 0001 e000
\t0x0020:  0012

2.25 second packet
\t0x0000:  0102 03
`;

Deno.test("hexdump: parses packets, skips comments and blank lines, keeps odd byte counts", () => {
  const p = parseHexdump(TEXT);
  assertEquals(p.length, 2);
  assertEquals(p[0]!.timestamp, 1.5);
  assertEquals(p[0]!.summary.endsWith("first"), true);
  assertEquals(p[0]!.bytes.length, 34);
  assertEquals(Array.from(p[1]!.bytes), [1, 2, 3]);
  const l3 = ipLayer(p[0]!.bytes);
  assertEquals([l3.family, l3.hopLimit, l3.protocol, l3.payload.length], ["ipv4", 255, 112, 0]);
});

Deno.test("hexdump: rejects hex before a packet, offset gaps and junk lines", () => {
  assertThrows(() => parseHexdump("\t0x0000:  0102\n"), Error, "before any packet");
  assertThrows(() => parseHexdump("1.0 x\n\t0x0010:  0102\n"), Error, "offset");
  assertThrows(() => parseHexdump("1.0 x\nnot hex\n"), Error, "neither");
});

Deno.test("hexdump: splitIpv6 reads traffic class and flow label", () => {
  const h = new Uint8Array(40);
  h.set([0x6c, 0x0b, 0xdf, 0x7d, 0, 0, 112, 255]);
  const s = splitIpv6(h);
  assertEquals([s.trafficClass, s.flowLabel, s.nextHeader, s.hopLimit], [0xc0, 0xbdf7d, 112, 255]);
});
