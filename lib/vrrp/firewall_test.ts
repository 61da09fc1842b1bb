import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { NetlinkError } from "../netlink/client.ts";
import type { NftExec } from "../netlink/nft_conn.ts";
import { NFT_MSG, type NftMessage } from "../netlink/nftables.ts";
import { parseIp } from "../net/ip.ts";
import { Logger } from "../runtime/log.ts";
import { Firewall } from "./firewall.ts";
import type { GuardedAddress } from "./firewall_rules.ts";

/** An in-memory nf_tables: records batches, knows which tables exist, fails on demand. */
class FakeNft implements NftExec {
  readonly batches: NftMessage[][] = [];
  readonly tables = new Set<number>();
  failNext: number | null = null;
  disposed = false;

  batch(msgs: readonly NftMessage[]): void {
    if (this.failNext !== null) {
      const errno = this.failNext;
      this.failNext = null;
      throw new NetlinkError("nf_tables NEWSETELEM", errno, "refused", null);
    }
    this.batches.push([...msgs]);
    for (const m of msgs) {
      if (m.type === NFT_MSG.NEWTABLE) this.tables.add(m.family);
      if (m.type === NFT_MSG.DELTABLE) this.tables.delete(m.family);
    }
  }

  exists(get: NftMessage): boolean {
    return this.tables.has(get.family);
  }

  [Symbol.dispose](): void {
    this.disposed = true;
  }
}

function setup(open?: () => NftExec) {
  const lines: string[] = [];
  const log = new Logger("fw", { level: "debug", sink: (l) => lines.push(l), json: false });
  const nft = new FakeNft();
  const fw = new Firewall(open ?? (() => nft), log);
  return { fw, nft, lines };
}

function addr(text: string, ifindex = 3): GuardedAddress {
  const a = parseIp(text)!;
  return { family: a.family, address: a.bytes, ifindex };
}

const types = (ms: NftMessage[]) => ms.map((m) => m.type);

Deno.test("firewall: drop rules are counted per address; one batch per change", () => {
  const { fw, nft } = setup();
  assert(fw.guard([addr("10.0.0.1"), addr("10.0.0.2")], "VI_1"));
  assertEquals(nft.batches.length, 1);
  assertEquals(types(nft.batches[0]!).at(-1), NFT_MSG.NEWSETELEM);
  // Another instance guarding the same address adds nothing.
  assert(fw.guard([addr("10.0.0.1")], "VI_2"));
  assertEquals(nft.batches.length, 1);
  assert(fw.unguard([addr("10.0.0.1")], "VI_2"));
  assertEquals(nft.batches.length, 1);
  assert(fw.unguard([addr("10.0.0.1"), addr("10.0.0.2")], "VI_1"));
  assertEquals(types(nft.batches[1]!), [NFT_MSG.DELSETELEM]);
  assertEquals(fw.guardedCount, 0);
  // Unguarding what is not guarded sends nothing.
  assert(fw.unguard([addr("10.0.0.9")], "VI_1"));
  assertEquals(nft.batches.length, 2);
});

Deno.test("firewall: leftover tables of an earlier run are deleted at start", () => {
  const { fw, nft, lines } = setup();
  nft.tables.add(2);
  fw.removeLeftovers();
  assertEquals(nft.batches.map(types), [[NFT_MSG.DELTABLE]]);
  assertEquals(nft.tables.size, 0);
  assertMatch(lines.join("\n"), /removed table ip haagent left by an earlier run/);
  fw.removeLeftovers();
  assertEquals(nft.batches.length, 1);
});

Deno.test("firewall: close deletes the tables it made, and only those", () => {
  const { fw, nft } = setup();
  fw.guard([addr("2001:db8::1")], "VI_6");
  fw.close();
  assertEquals(types(nft.batches.at(-1)!), [NFT_MSG.DELTABLE]);
  assertEquals(nft.batches.at(-1)![0]!.family, 10);
  assertEquals(nft.tables.size, 0);
  assert(nft.disposed);
});

Deno.test("firewall: a refused batch rebuilds the table from the counters", () => {
  const { fw, nft, lines } = setup();
  fw.guard([addr("10.0.0.1")], "VI_1");
  nft.failNext = 2; // ENOENT: someone ran `nft flush ruleset`
  assert(fw.guard([addr("10.0.0.2")], "VI_2"));
  const rebuilt = nft.batches.at(-1)!;
  // DELTABLE first (the table still existed in the fake), then the whole table again with both.
  assertEquals(rebuilt[0]!.type, NFT_MSG.DELTABLE);
  assertEquals(rebuilt.filter((m) => m.type === NFT_MSG.NEWTABLE).length, 1);
  assertMatch(lines.join("\n"), /refused.*rebuilding table haagent/);
});

Deno.test("firewall: without nf_tables, guarding fails loudly and start is quiet", () => {
  const { fw, lines } = setup(() => {
    throw new Error("Cannot open netlink socket (protocol 12): EPROTONOSUPPORT");
  });
  fw.removeLeftovers();
  assertEquals(lines.length, 0);
  assertEquals(fw.guard([addr("10.0.0.1")], "VI_1"), false);
  assertMatch(lines.join("\n"), /nf_tables is not available: Cannot open netlink socket/);
});

Deno.test("firewall: VMAC redirections are counted per VMAC", () => {
  const { fw, nft } = setup();
  assert(fw.mapVmac("ipv4", 7, 3, "VI_1"));
  assert(fw.mapVmac("ipv4", 7, 3, "VI_1"));
  assertEquals(nft.batches.length, 1);
  assert(fw.unmapVmac("ipv4", 7, 3, "VI_1"));
  assertEquals(nft.batches.length, 1);
  assert(fw.unmapVmac("ipv4", 7, 3, "VI_1"));
  assertEquals(types(nft.batches[1]!), [NFT_MSG.DELSETELEM]);
});
