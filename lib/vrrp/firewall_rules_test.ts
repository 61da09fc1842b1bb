import { assertEquals } from "../../tests/helpers/assert.ts";
import { netlinkSeqs, parseLabelledHex } from "../../tests/helpers/hexdump.ts";
import { parseIp } from "../net/ip.ts";
import { encodeBatch, encodeRequest, type NftMessage } from "../netlink/nftables.ts";
import { FirewallRules, type GuardedAddress, isLinkLocal } from "./firewall_rules.ts";

function vectors(name: string): Map<string, Uint8Array> {
  const text = Deno.readTextFileSync(
    new URL(`../../tests/vectors/keepalived-2.2.7/${name}`, import.meta.url),
  );
  const out = new Map<string, Uint8Array>();
  for (const b of parseLabelledHex(text)) {
    let label = b.label;
    for (let i = 2; out.has(label); i++) label = `${b.label} #${i}`;
    out.set(label, b.bytes);
  }
  return out;
}

/** Frames `msgs` with the sequence numbers keepalived used in `golden`. */
function frameLike(golden: Uint8Array, msgs: NftMessage[]): Uint8Array {
  const seqs = netlinkSeqs(golden);
  let i = 0;
  return encodeBatch(msgs, () => seqs[i++]!).bytes;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

function addr(text: string, ifindex: number): GuardedAddress {
  const a = parseIp(text)!;
  return { family: a.family, address: a.bytes, ifindex };
}

const v4 = vectors("nft-no-accept-ipv4.hex");
const v6 = vectors("nft-no-accept-ipv6.hex");
const vmac = vectors("vmac-ipv4.hex");

Deno.test("firewall rules: IPv4 no_accept batch is keepalived 2.2.7's, byte for byte", () => {
  const rules = new FirewallRules("keepalived");
  const vips = [addr("10.9.0.100", 3), addr("10.9.0.101", 3)];
  const add = v4.get("message 3")!;
  assertEquals(hex(frameLike(add, rules.guard("new", vips))), hex(add));
  const del = v4.get("message 4")!;
  assertEquals(hex(frameLike(del, rules.guard("del", vips))), hex(del));
  const drop = v4.get("message 5")!;
  assertEquals(hex(frameLike(drop, [rules.deleteTable("ipv4")])), hex(drop));
});

Deno.test("firewall rules: a second master period adds only the elements", () => {
  const rules = new FirewallRules("keepalived");
  const vips = [addr("10.9.0.100", 3)];
  assertEquals(rules.guard("new", vips).length, 7);
  rules.guard("del", vips);
  const again = rules.guard("new", vips);
  assertEquals(again.length, 1);
  rules.reset();
  assertEquals(rules.guard("new", vips).length, 7);
});

Deno.test("firewall rules: GETTABLE is keepalived's (but for its uninitialised padding)", () => {
  const rules = new FirewallRules("keepalived");
  for (const [label, family] of [["message 1", "ipv4"], ["message 2", "ipv6"]] as const) {
    const golden = v4.get(label)!;
    const ours = encodeRequest(rules.getTable(family), netlinkSeqs(golden)[0]!);
    // keepalived's buffer was not zeroed: the pad byte after "keepalived\0" is garbage.
    assertEquals(hex(ours.subarray(0, 35)), hex(golden.subarray(0, 35)));
    assertEquals(ours.length, golden.length);
    assertEquals(ours[35], 0);
  }
});

Deno.test("firewall rules: IPv6 no_accept batch (link-local by ifindex) is keepalived's", () => {
  const rules = new FirewallRules("keepalived");
  const vips = [addr("fe80::52", 3), addr("2001:db8::52", 3)];
  const add = v6.get("message 3")!;
  assertEquals(hex(frameLike(add, rules.guard("new", vips))), hex(add));
  const del = v6.get("message 4")!;
  assertEquals(hex(frameLike(del, rules.guard("del", vips))), hex(del));
  const drop = v6.get("message 5")!;
  assertEquals(hex(frameLike(drop, [rules.deleteTable("ipv6")])), hex(drop));
});

Deno.test("firewall rules: VMAC IGMP redirection is keepalived's", () => {
  const rules = new FirewallRules("keepalived");
  const add = vmac.get("nft-batch")!;
  assertEquals(hex(frameLike(add, rules.vmac("new", "ipv4", 4, 3))), hex(add));
  const del = vmac.get("nft-batch #2")!;
  assertEquals(hex(frameLike(del, rules.vmac("del", "ipv4", 4, 3))), hex(del));
  const drop = vmac.get("nft-batch #3")!;
  assertEquals(hex(frameLike(drop, [rules.deleteTable("ipv4")])), hex(drop));
});

Deno.test("firewall rules: VMAC and no_accept share one table and one chain out", () => {
  const rules = new FirewallRules();
  const first = rules.vmac("new", "ipv4", 4, 3);
  const names = (ms: NftMessage[]) => ms.map((m) => m.type);
  // table, chain out, map, rule, element
  assertEquals(names(first), [0, 3, 9, 6, 12]);
  // chain in, set vips, two rules, elements: no second table or chain out.
  assertEquals(names(rules.guard("new", [addr("10.0.0.1", 4)])), [3, 9, 6, 6, 12]);
  assertEquals(rules.has("ipv4"), true);
  assertEquals(rules.has("ipv6"), false);
});

Deno.test("firewall rules: IPv6 VMAC has the MLD and router-solicit rules", () => {
  const rules = new FirewallRules();
  const ms = rules.vmac("new", "ipv6", 7, 2);
  // table, chain out, map, set, two rules, two elements
  assertEquals(ms.map((m) => m.type), [0, 3, 9, 9, 6, 6, 12, 12]);
  assertEquals(rules.vmac("del", "ipv6", 7, 2).map((m) => m.type), [14, 14]);
});

Deno.test("firewall rules: isLinkLocal", () => {
  assertEquals(isLinkLocal(parseIp("fe80::1")!.bytes), true);
  assertEquals(isLinkLocal(parseIp("febf::1")!.bytes), true);
  assertEquals(isLinkLocal(parseIp("fec0::1")!.bytes), false);
  assertEquals(isLinkLocal(parseIp("10.0.0.1")!.bytes), false);
});
