import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { AttributeEncoder } from "../netlink/attrs.ts";
import {
  decodeDest,
  decodeInfo,
  decodeService,
  encodeDeleteDest,
  encodeDest,
  encodeGetDests,
  encodeService,
  IpvsCmd,
} from "./codec.ts";
import type { Destination, Service, ServiceKey } from "./types.ts";

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

const web: ServiceKey = { family: "ipv4", protocol: "tcp", address: "10.0.0.50", port: 80 };

Deno.test("codec: NEW_SERVICE bytes follow include/uapi/linux/ip_vs.h", () => {
  const s: Service = {
    key: web,
    scheduler: "rr",
    flags: {},
    timeoutS: 0,
    netmask: "255.255.255.255",
  };
  const r = encodeService(s);
  assertEquals(r.cmd, IpvsCmd.NEW_SERVICE);
  assertEquals(r.dump, false);
  const want = [
    "54000180", // IPVS_CMD_ATTR_SERVICE, nested, 84 bytes
    "0600010002000000", // AF = AF_INET
    "0600020006000000", // PROTOCOL = TCP
    "140003000a000032000000000000000000000000", // ADDR, 16 bytes
    "0600040000500000", // PORT 80, big-endian
    "0700060072720000", // SCHED_NAME "rr\0"
    "0c00070000000000fdffffff", // FLAGS { flags 0, mask ~HASHED }
    "0800080000000000", // TIMEOUT 0
    "08000900ffffffff", // NETMASK 255.255.255.255
  ].join("");
  assertEquals(hex(r.attrs), want);
});

Deno.test("codec: DEL_DEST carries the service key and only the destination's address", () => {
  const d: Destination = {
    address: "10.0.0.11",
    port: 8080,
    forwarding: "dr",
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
  };
  const r = encodeDeleteDest({ family: "ipv4", fwmark: 7 }, d);
  assertEquals(r.cmd, IpvsCmd.DEL_DEST);
  const want = [
    "14000180", // service, nested
    "0600010002000000",
    "0800050007000000", // FWMARK 7
    "28000280", // dest, nested, 40 bytes
    "140001000a00000b000000000000000000000000",
    "060002001f900000", // PORT 8080
    "06000b0002000000", // ADDR_FAMILY AF_INET
  ].join("");
  assertEquals(hex(r.attrs), want);
  assertEquals(encodeGetDests(web).dump, true);
});

/** Turns a request into the reply the kernel would dump (same nesting) and decodes it. */
function roundTripService(s: Service): Service {
  const r = decodeService(encodeService(s).attrs);
  assert(r.ok, r.ok ? "" : r.reason);
  return r.value;
}

function roundTripDest(key: ServiceKey, d: Destination): Destination {
  const r = decodeDest(encodeDest(key, d).attrs, key.family);
  assert(r.ok, r.ok ? "" : r.reason);
  return r.value;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"];

function randomService(r: () => number): Service {
  const v6 = r() < 0.5;
  const family = v6 ? "ipv6" as const : "ipv4" as const;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const key: ServiceKey = r() < 0.3 ? { family, fwmark: 1 + Math.floor(r() * 0xfffffffe) } : {
    family,
    protocol: pick(["tcp", "udp", "sctp"] as const),
    address: v6 ? `2001:db8::${Math.floor(r() * 0xffff).toString(16)}` : `10.0.${pick([0, 1])}.7`,
    port: Math.floor(r() * 65536),
  };
  const scheduler = pick(schedulers);
  const persistent = r() < 0.5;
  const flags: Service["flags"] = {};
  if (persistent) flags.persistent = true;
  if (r() < 0.3) flags.onePacket = true;
  if (scheduler === "sh" && r() < 0.5) flags.shPort = true;
  if (scheduler === "sh" && r() < 0.5) flags.shFallback = true;
  if (scheduler === "mh" && r() < 0.5) flags.mhPort = true;
  if (scheduler === "mh" && r() < 0.5) flags.mhFallback = true;
  return {
    key,
    scheduler,
    flags,
    timeoutS: persistent ? Math.floor(r() * 86400) : 0,
    netmask: v6 ? String(Math.floor(r() * 129)) : pick(["255.255.255.255", "255.255.255.0"]),
  };
}

function randomDest(r: () => number, family: "ipv4" | "ipv6"): Destination {
  const fwd = (["nat", "dr", "tun", "local"] as const)[Math.floor(r() * 4)]!;
  const d: Destination = {
    address: family === "ipv4" ? `192.168.${Math.floor(r() * 256)}.1` : "2001:db8:1::a",
    port: Math.floor(r() * 65536),
    forwarding: fwd,
    weight: Math.floor(r() * 65536),
    upperThreshold: Math.floor(r() * 1000),
    lowerThreshold: Math.floor(r() * 1000),
  };
  if (fwd === "tun") {
    d.tunnelType = (["ipip", "gue", "gre"] as const)[Math.floor(r() * 3)]!;
    if (d.tunnelType === "gue") d.tunnelPort = 1 + Math.floor(r() * 65535);
  }
  return d;
}

Deno.test("codec: property: decode(encode(service)) and decode(encode(dest)) give them back", () => {
  const r = rng(7);
  for (let i = 0; i < 1000; i++) {
    const s = randomService(r);
    assertEquals(roundTripService(s), s, `service round ${i}`);
    const d = randomDest(r, s.key.family);
    const back = roundTripDest(s.key, d);
    assertEquals({ ...back, activeConns: 0, inactiveConns: 0 }, {
      ...d,
      activeConns: 0,
      inactiveConns: 0,
    }, `dest round ${i}`);
  }
});

Deno.test("codec: property: truncated or corrupted replies never throw", () => {
  const r = rng(99);
  for (let i = 0; i < 2000; i++) {
    const s = randomService(r);
    const bytes = i % 2 === 0
      ? encodeService(s).attrs
      : encodeDest(s.key, randomDest(r, s.key.family)).attrs;
    const m = bytes.slice(0, Math.floor(r() * (bytes.length + 1)));
    for (let k = 0; k < 3 && m.length > 0; k++) m[Math.floor(r() * m.length)] = r() * 256;
    decodeService(m);
    decodeDest(m, s.key.family);
    decodeInfo(m);
  }
  const bad = decodeService(Uint8Array.of(8, 0, 1, 0x80, 6, 0));
  assert(!bad.ok);
});

Deno.test("codec: GET_INFO reply and the kernel's stats and hashed flag decode", () => {
  const info = new AttributeEncoder().u32(1, 0x010201).u32(2, 4096).finish();
  assertEquals(decodeInfo(info), { ok: true, value: { version: "1.2.1", connTableSize: 4096 } });
  const reply = new AttributeEncoder().nested(1, (n) => {
    n.u16(1, 2).u16(2, 17).bytes(3, new Uint8Array(16)).u16be(4, 53).string(6, "wlc");
    n.bytes(7, Uint8Array.of(2, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)).u32(8, 0);
    n.bytes(9, Uint8Array.of(255, 255, 255, 255));
    n.nested(12, (st) => st.u64(1, 5n).u64(2, 10n).u64(3, 9n).u64(4, 600n).u64(5, 900n));
  }).finish();
  const s = decodeService(reply);
  assert(s.ok);
  assertEquals(s.value.key, { family: "ipv4", protocol: "udp", address: "0.0.0.0", port: 53 });
  assertEquals(s.value.flags, { hashed: true });
  assertEquals(s.value.stats, { conns: 5, inPkts: 10, outPkts: 9, inBytes: 600, outBytes: 900 });
});

Deno.test("codec: our own bad input is a programming error and throws", () => {
  const s: Service = { key: web, scheduler: "rr", flags: {}, timeoutS: 0, netmask: "64" };
  assertThrows(() => encodeService(s), TypeError);
  assertThrows(() => encodeService({ ...s, key: { ...web, address: "2001:db8::1" } }), TypeError);
  assertThrows(() => encodeService({ ...s, key: { ...web, port: 70000 } }), RangeError);
});
