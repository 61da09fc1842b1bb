import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import {
  decodeEthernet,
  formatMac,
  ipv4MulticastMac,
  ipv6MulticastMac,
  parseMac,
  virtualRouterMac,
  writeEthernetHeader,
} from "./ethernet.ts";

Deno.test("ethernet: header round trip, VLAN tag, short and 802.3 frames", () => {
  const f = new Uint8Array(20);
  writeEthernetHeader(f, 0, parseMac("01:00:5e:00:00:12")!, parseMac("02:00:00:00:00:01")!, 0x0800);
  const d = decodeEthernet(f);
  assert(d.ok);
  assertEquals(formatMac(d.value.dst), "01:00:5e:00:00:12");
  assertEquals(formatMac(d.value.src), "02:00:00:00:00:01");
  assertEquals([d.value.etherType, d.value.vlan, d.value.payload.length], [0x0800, null, 6]);
  const tagged = new Uint8Array([...f.subarray(0, 12), 0x81, 0x00, 0x20, 0x0a, 0x86, 0xdd, 1, 2]);
  const t = decodeEthernet(tagged);
  assert(t.ok);
  assertEquals([t.value.etherType, t.value.vlan, t.value.payload.length], [0x86dd, 10, 2]);
  assert(!decodeEthernet(f.subarray(0, 13)).ok);
  assert(!decodeEthernet(tagged.subarray(0, 16)).ok);
  const llc = f.slice();
  llc[12] = 0x00;
  llc[13] = 0x40;
  assert(!decodeEthernet(llc).ok);
});

Deno.test("ethernet: multicast and virtual router MACs", () => {
  assertEquals(formatMac(ipv4MulticastMac(new Uint8Array([224, 0, 0, 18]))), "01:00:5e:00:00:12");
  assertEquals(formatMac(ipv4MulticastMac(new Uint8Array([239, 128, 1, 2]))), "01:00:5e:00:01:02");
  const ff02_12 = new Uint8Array(16);
  ff02_12[0] = 0xff;
  ff02_12[1] = 2;
  ff02_12[15] = 0x12;
  assertEquals(formatMac(ipv6MulticastMac(ff02_12)), "33:33:00:00:00:12");
  assertEquals(formatMac(virtualRouterMac(5, "ipv4")), "00:00:5e:00:01:05");
  assertEquals(formatMac(virtualRouterMac(255, "ipv6")), "00:00:5e:00:02:ff");
});

Deno.test("ethernet: parseMac accepts : and -, rejects junk", () => {
  assertEquals(formatMac(parseMac("AA-bb-0c-0d-0e-0f")!), "aa:bb:0c:0d:0e:0f");
  assertEquals(parseMac("aa:bb:cc:dd:ee"), null);
  assertEquals(parseMac("aa:bb:cc:dd:ee:fg"), null);
  assertEquals(parseMac("aa:bb:cc:dd:ee:100"), null);
});
