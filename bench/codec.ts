/**
 * Throughput of the pure wire codecs (VRRP encode/decode/validate, GARP, unsolicited NA,
 * checksum), and the timing of the PASS comparison with the mismatch at the first vs the last
 * byte. Prints figures; asserts nothing.
 *
 *   deno run bench/codec.ts [--n=200000]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { decodeArp, gratuitousArp } from "../lib/net/arp.ts";
import { internetChecksum } from "../lib/net/checksum.ts";
import { decodeNa, unsolicitedNa } from "../lib/net/nd.ts";
import { type Advert, decodeAdvert, encodeAdvert, passwordBytes } from "../lib/vrrp/packet.ts";
import { constantTimeEqual, type ReceiveContext, validateAdvert } from "../lib/vrrp/validate.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { n: { type: "string", default: "200000" } },
});
const n = Number(values.n);

let sink = 0;
function measure(name: string, fn: () => unknown): void {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) if (fn()) sink++;
  const ms = performance.now() - t0;
  const nsPerOp = (ms * 1e6) / n;
  console.log(
    `${name.padEnd(44)} ${nsPerOp.toFixed(0).padStart(7)} ns/op ${
      (n / ms * 1000).toFixed(0).padStart(10)
    } op/s`,
  );
}

const src = new Uint8Array([10, 0, 0, 1]);
const dst = new Uint8Array([224, 0, 0, 18]);
const v2: Omit<Advert, "checksum"> = {
  version: 2,
  type: 1,
  vrid: 7,
  priority: 200,
  maxAdverIntCs: 100,
  authType: 1,
  authData: passwordBytes("secret12"),
  addresses: [new Uint8Array([10, 0, 0, 50]), new Uint8Array([10, 0, 0, 51])],
};
const v3: Omit<Advert, "checksum"> = { ...v2, version: 3, authType: 0, authData: null };
const cctx = { family: "ipv4", src, dst, v3Checksum: "keepalived" } as const;
const v2wire = encodeAdvert(v2, cctx);
const v3wire = encodeAdvert(v3, cctx);
const rctx = (a: Omit<Advert, "checksum">): ReceiveContext => ({
  expect: {
    version: a.version,
    family: "ipv4",
    vrid: a.vrid,
    authType: a.authType,
    authData: a.authData,
    advertIntervalCs: a.maxAdverIntCs,
    addresses: a.addresses,
  },
  hopLimit: 255,
  unicast: false,
  v3Checksum: "keepalived",
  src,
  dst,
});
const r2 = rctx(v2), r3 = rctx(v3);
const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
const vip6 = new Uint8Array([0xfd, 0x78, ...new Array<number>(13).fill(0), 0x50]);
const garp = gratuitousArp(mac, src);
const na = unsolicitedNa(mac, vip6);
const kb = new Uint8Array(1500).fill(0xa5);

console.log(`haagent codec bench, ${n} iterations each, Deno ${Deno.version.deno}`);
measure("encodeAdvert v3/IPv4 (pseudo-header)", () => encodeAdvert(v3, cctx));
measure("encodeAdvert v2 PASS, 2 VIPs", () => encodeAdvert(v2, cctx));
measure("decodeAdvert v3/IPv4", () => decodeAdvert(v3wire, "ipv4").ok);
measure("validateAdvert v3/IPv4 (accept)", () => validateAdvert(v3wire, r3).ok);
measure("validateAdvert v2 PASS (accept)", () => validateAdvert(v2wire, r2).ok);
measure("gratuitousArp", () => gratuitousArp(mac, src));
measure("decodeArp", () => decodeArp(garp).ok);
measure("unsolicitedNa", () => unsolicitedNa(mac, vip6));
measure("decodeNa (with checksum)", () => decodeNa(na).ok);
measure("internetChecksum 1500 bytes", () => internetChecksum(kb));

// PASS comparison: mismatch at byte 0 vs byte 7 vs equal; the times should not differ by position.
const pw = passwordBytes("secret12");
const at0 = pw.slice(), at7 = pw.slice(), same = pw.slice();
at0[0]! ^= 1;
at7[7]! ^= 1;
const rounds = 5;
const times: Record<string, number[]> = { "mismatch@0": [], "mismatch@7": [], equal: [] };
for (let r = 0; r < rounds; r++) {
  for (const [k, other] of [["mismatch@0", at0], ["mismatch@7", at7], ["equal", same]] as const) {
    const t0 = performance.now();
    for (let i = 0; i < n * 5; i++) if (constantTimeEqual(pw, other)) sink++;
    times[k]!.push(((performance.now() - t0) * 1e6) / (n * 5));
  }
}
for (const [k, ts] of Object.entries(times)) {
  ts.sort((a, b) => a - b);
  console.log(`constantTimeEqual ${k.padEnd(26)} median ${ts[rounds >> 1]!.toFixed(2)} ns/op`);
}
console.log(`(sink ${sink})`);
