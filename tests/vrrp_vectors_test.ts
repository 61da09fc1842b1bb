/**
 * Golden vectors both ways: every VRRP advert, gratuitous ARP and unsolicited NA captured from
 * keepalived 2.2.7 and FRR 8.4 decodes to the values the capture notes give, and encoding those
 * values reproduces the captured bytes exactly, checksums included.
 */
import { decodeArp, gratuitousArp } from "../lib/net/arp.ts";
import { internetChecksum } from "../lib/net/checksum.ts";
import { parseMac } from "../lib/net/ethernet.ts";
import { formatIp, parseIp } from "../lib/net/ip.ts";
import { decodeNa, unsolicitedNa } from "../lib/net/nd.ts";
import {
  type ChecksumContext,
  decodeAdvert,
  encodeAdvert,
  type Family,
  passwordBytes,
  verifyChecksum,
} from "../lib/vrrp/packet.ts";
import { validateAdvert } from "../lib/vrrp/validate.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { ipLayer, readVector, splitEthernet, splitIpv4, toHex } from "./helpers/hexdump.ts";

function ip(text: string): Uint8Array {
  const a = parseIp(text);
  if (a === null) throw new Error(`bad address ${text}`);
  return a.bytes;
}

function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(`bad MAC ${text}`);
  return m;
}

interface AdvertVector {
  file: string;
  family: Family;
  src: string;
  dst: string;
  version: 2 | 3;
  vrid: number;
  priority: number;
  intervalCs: number;
  password: string | null;
  addresses: string[];
  checksum: number;
  /** The checksum RFC 9568 (no IPv4 pseudo-header) gives, from the capture notes. */
  rfc9568Checksum?: number;
}

/** Expected values, from tests/vectors/keepalived-2.2.7/README*.md and the files' comments. */
const ADVERTS: AdvertVector[] = [
  {
    file: "keepalived-2.2.7/vrrp2.hex",
    family: "ipv4",
    src: "10.77.0.1",
    dst: "224.0.0.18",
    version: 2,
    vrid: 51,
    priority: 150,
    intervalCs: 100,
    password: "kabpass1",
    addresses: ["10.77.0.50"],
    checksum: 0x9ad4,
  },
  {
    file: "keepalived-2.2.7/vrrp3.hex",
    family: "ipv4",
    src: "10.77.0.1",
    dst: "224.0.0.18",
    version: 3,
    vrid: 51,
    priority: 150,
    intervalCs: 10,
    password: null,
    addresses: ["10.77.0.50"],
    checksum: 0x4365,
  },
  {
    file: "keepalived-2.2.7/v2-three-vips.hex",
    family: "ipv4",
    src: "10.78.0.1",
    dst: "224.0.0.18",
    version: 2,
    vrid: 7,
    priority: 200,
    intervalCs: 300,
    password: "secret12",
    addresses: ["10.78.0.50", "10.78.0.51", "10.78.0.52"],
    checksum: 0x88f0,
  },
  {
    file: "keepalived-2.2.7/v2-prio0-shutdown.hex",
    family: "ipv4",
    src: "10.78.0.1",
    dst: "224.0.0.18",
    version: 2,
    vrid: 7,
    priority: 0,
    intervalCs: 300,
    password: "secret12",
    addresses: ["10.78.0.50", "10.78.0.51", "10.78.0.52"],
    checksum: 0x50f1,
  },
  {
    file: "keepalived-2.2.7/v3-ipv4-multicast.hex",
    family: "ipv4",
    src: "10.78.0.1",
    dst: "224.0.0.18",
    version: 3,
    vrid: 51,
    priority: 150,
    intervalCs: 100,
    password: null,
    addresses: ["10.78.0.51"],
    checksum: 0x4308,
    rfc9568Checksum: 0x2de6,
  },
  {
    file: "keepalived-2.2.7/v3-ipv6.hex",
    family: "ipv6",
    src: "fe80::78:1",
    dst: "ff02::12",
    version: 3,
    vrid: 52,
    priority: 120,
    intervalCs: 50,
    password: null,
    addresses: ["fe80::78:50", "fd78::50"],
    checksum: 0x5ade,
  },
  {
    file: "keepalived-2.2.7/v3-unicast.hex",
    family: "ipv4",
    src: "10.78.0.1",
    dst: "10.78.0.100",
    version: 3,
    vrid: 60,
    priority: 110,
    intervalCs: 100,
    password: null,
    addresses: ["10.78.0.60"],
    checksum: 0x4057,
    rfc9568Checksum: 0x55d4,
  },
  {
    file: "frr-8.4/frr-v3.hex",
    family: "ipv4",
    src: "10.81.0.1",
    dst: "224.0.0.18",
    version: 3,
    vrid: 5,
    priority: 200,
    intervalCs: 100,
    password: null,
    addresses: ["10.81.0.50"],
    checksum: 0x1131,
  },
];

const OTHER_VECTORS = [
  "keepalived-2.2.7/garp.hex",
  "keepalived-2.2.7/una-ipv6.hex",
  "frr-8.4/frr-garp.hex",
  // Netlink datagrams (strace), compared byte for byte by lib/vrrp/firewall_rules_test.ts and
  // lib/netlink/rtnl_link_test.ts.
  "keepalived-2.2.7/nft-no-accept-ipv4.hex",
  "keepalived-2.2.7/nft-no-accept-ipv6.hex",
  "keepalived-2.2.7/vmac-ipv4.hex",
];

Deno.test("vectors: every .hex file in tests/vectors is covered by this test", () => {
  const found: string[] = [];
  for (const dir of ["keepalived-2.2.7", "frr-8.4"]) {
    for (const e of Deno.readDirSync(new URL(`./vectors/${dir}`, import.meta.url))) {
      if (e.name.endsWith(".hex")) found.push(`${dir}/${e.name}`);
    }
  }
  const covered = [...ADVERTS.map((v) => v.file), ...OTHER_VECTORS];
  assertEquals(found.sort(), covered.sort());
});

for (const v of ADVERTS) {
  Deno.test(`vectors: ${v.file} decodes, validates and re-encodes byte for byte`, () => {
    const packets = readVector(v.file);
    assertEquals(packets.length, 1);
    const frame = packets[0]!.bytes;
    const l3 = ipLayer(frame);
    assertEquals(l3.family, v.family);
    assertEquals(formatIp(l3.src), v.src);
    assertEquals(formatIp(l3.dst), v.dst);
    assertEquals(l3.hopLimit, 255);
    assertEquals(l3.protocol, 112);

    const d = decodeAdvert(l3.payload, v.family);
    assert(d.ok, `decode failed: ${!d.ok && d.reason}`);
    const a = d.value;
    assertEquals(a.version, v.version);
    assertEquals(a.type, 1);
    assertEquals(a.vrid, v.vrid);
    assertEquals(a.priority, v.priority);
    assertEquals(a.maxAdverIntCs, v.intervalCs);
    assertEquals(a.addresses.map(formatIp), v.addresses);
    assertEquals(a.checksum, v.checksum);
    if (v.version === 2) {
      assertEquals(a.authType, v.password === null ? 0 : 1);
      assertEquals(a.authData, v.password === null ? new Uint8Array(8) : passwordBytes(v.password));
    } else {
      assertEquals(a.authType, 0);
      assertEquals(a.authData, null);
    }

    const ctx: ChecksumContext = {
      family: v.family,
      src: ip(v.src),
      dst: ip(v.dst),
      v3Checksum: "keepalived",
    };
    assert(verifyChecksum(l3.payload, ctx), "checksum does not verify");
    const { checksum: _, ...fields } = a;
    const again = encodeAdvert(fields, ctx);
    assertEquals(toHex(again), toHex(l3.payload));
    // Encoding from the notes' values alone (not from the decoded advert) gives the same bytes.
    const fromNotes = encodeAdvert({
      version: v.version,
      type: 1,
      vrid: v.vrid,
      priority: v.priority,
      maxAdverIntCs: v.intervalCs,
      authType: v.password === null ? 0 : 1,
      authData: v.password === null ? null : passwordBytes(v.password),
      addresses: v.addresses.map(ip),
    }, ctx);
    assertEquals(toHex(fromNotes), toHex(l3.payload));

    if (v.rfc9568Checksum !== undefined) {
      const rfc = encodeAdvert(fields, { ...ctx, v3Checksum: "rfc9568" });
      assertEquals((rfc[6]! << 8) | rfc[7]!, v.rfc9568Checksum);
      assert(!verifyChecksum(l3.payload, { ...ctx, v3Checksum: "rfc9568" }));
      assert(verifyChecksum(rfc, { ...ctx, v3Checksum: "rfc9568" }));
    }

    const verdict = validateAdvert(l3.payload, {
      expect: {
        version: v.version,
        family: v.family,
        vrid: v.vrid,
        authType: v.password === null ? 0 : 1,
        authData: v.password === null ? null : passwordBytes(v.password),
        advertIntervalCs: v.intervalCs,
        addresses: v.addresses.map(ip),
      },
      hopLimit: l3.hopLimit,
      unicast: v.dst === "10.78.0.100",
      v3Checksum: "keepalived",
      src: l3.src,
      dst: l3.dst,
    });
    assert(verdict.ok, `validate failed: ${!verdict.ok && verdict.reason}`);
    assertEquals(verdict.addressMismatch, false);
    assertEquals(verdict.intervalMismatch, false);

    if (v.family === "ipv4") {
      // keepalived's IPv4 header: TOS 0xc0, TTL 255, protocol 112, no options, valid checksum.
      const h = splitIpv4(splitEthernet(frame).payload);
      assertEquals(h.tos, 0xc0);
      assertEquals(h.ihl, 20);
      assertEquals(internetChecksum(h.header), 0);
    }
  });
}

Deno.test("vectors: the unicast checksum uses the real destination, not 224.0.0.18", () => {
  const l3 = ipLayer(readVector("keepalived-2.2.7/v3-unicast.hex")[0]!.bytes);
  const ctx: ChecksumContext = {
    family: "ipv4",
    src: ip("10.78.0.1"),
    dst: ip("224.0.0.18"),
    v3Checksum: "keepalived",
  };
  assert(!verifyChecksum(l3.payload, ctx));
  const d = decodeAdvert(l3.payload, "ipv4");
  assert(d.ok);
  const { checksum: _, ...fields } = d.value;
  const old = encodeAdvert(fields, ctx);
  // README-set2.md: keepalived's pre-1.3.6 "old_unicast_checksum" value.
  assertEquals((old[6]! << 8) | old[7]!, 0x6af6);
});

Deno.test("vectors: v3-ipv6 addresses stay in config order and the checksum ignores order", () => {
  const l3 = ipLayer(readVector("keepalived-2.2.7/v3-ipv6.hex")[0]!.bytes);
  const d = decodeAdvert(l3.payload, "ipv6");
  assert(d.ok);
  const { checksum: _, ...fields } = d.value;
  const ctx: ChecksumContext = {
    family: "ipv6",
    src: l3.src,
    dst: l3.dst,
    v3Checksum: "keepalived",
  };
  const swapped = encodeAdvert({ ...fields, addresses: [...fields.addresses].reverse() }, ctx);
  assertEquals((swapped[6]! << 8) | swapped[7]!, 0x5ade);
  assertEquals(formatIp(swapped.subarray(8, 24)), "fd78::50");
});

Deno.test("vectors: garp.hex and frr-garp.hex equal gratuitousArp(mac, vip)", () => {
  const cases = [
    { file: "keepalived-2.2.7/garp.hex", mac: "02:00:00:77:00:01", vip: "10.77.0.50" },
    { file: "frr-8.4/frr-garp.hex", mac: "00:00:5e:00:01:05", vip: "10.81.0.50" },
  ];
  for (const c of cases) {
    const packets = readVector(c.file);
    assertEquals(packets.length, 1);
    const frame = packets[0]!.bytes;
    assertEquals(frame.length, 42);
    assertEquals(toHex(gratuitousArp(mac(c.mac), ip(c.vip))), toHex(frame));
    const d = decodeArp(frame);
    assert(d.ok);
    assertEquals(d.value.op, 1);
    assertEquals(d.value.senderMac, mac(c.mac));
    assertEquals(d.value.ethSrc, mac(c.mac));
    assertEquals(d.value.ethDst, mac("ff:ff:ff:ff:ff:ff"));
    assertEquals(d.value.targetMac, mac("ff:ff:ff:ff:ff:ff"));
    assertEquals(formatIp(d.value.senderIp), c.vip);
    assertEquals(formatIp(d.value.targetIp), c.vip);
  }
});

Deno.test("vectors: every NA in una-ipv6.hex equals unsolicitedNa(mac, target)", () => {
  const packets = readVector("keepalived-2.2.7/una-ipv6.hex");
  assertEquals(packets.length, 10);
  const r1 = mac("02:00:00:78:00:01");
  const targets = ["fe80::78:50", "fd78::50"];
  packets.forEach((p, i) => {
    const target = targets[i % 2]!;
    assertEquals(p.bytes.length, 86);
    assertEquals(toHex(unsolicitedNa(r1, ip(target))), toHex(p.bytes));
    const d = decodeNa(p.bytes);
    assert(d.ok, `NA ${i}: ${!d.ok && d.reason}`);
    assertEquals(formatIp(d.value.target), target);
    assertEquals(formatIp(d.value.src), target);
    assertEquals(formatIp(d.value.dst), "ff02::1");
    assertEquals(d.value.hopLimit, 255);
    assertEquals([d.value.router, d.value.solicited, d.value.override], [false, false, true]);
    assertEquals(d.value.targetMac, r1);
    assertEquals(d.value.ethDst, mac("33:33:00:00:00:01"));
  });
  // The ICMPv6 checksums the capture notes give.
  assertEquals((packets[0]!.bytes[56]! << 8) | packets[0]!.bytes[57]!, 0x5595);
  assertEquals((packets[1]!.bytes[56]! << 8) | packets[1]!.bytes[57]!, 0x5895);
});
