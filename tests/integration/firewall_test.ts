/**
 * The firewall writer against the kernel's nf_tables in a namespace: a leftover `haagent`
 * table is removed at start, guarded VIPs (IPv4, IPv6 global and link-local) stop answering a
 * client's ping while neighbour discovery keeps working, unguarded ones answer again, a
 * `nft flush ruleset` behind the writer's back is repaired, and nothing is left after close.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, Lab, netnsUnavailable } from "../helpers/netns.ts";

const fixture = new URL("./fixtures/firewall.ts", import.meta.url).pathname;

Deno.test({
  name: "firewall: no_accept drop rules in nf_tables, against a client's ping",
  ignore: netnsUnavailable() !== null || !haveCommand("nft"),
  async fn() {
    await using lab = await Lab.create("fw");
    await lab.addNs("r");
    await lab.addNs("c");
    await lab.exec(null, [
      "ip",
      "link",
      "add",
      `${lab.prefix}r`,
      "netns",
      lab.ns("r"),
      "type",
      "veth",
      "peer",
      "name",
      `${lab.prefix}c`,
      "netns",
      lab.ns("c"),
    ]);
    await lab.exec("r", ["ip", "link", "set", `${lab.prefix}r`, "name", "r0"]);
    await lab.exec("c", ["ip", "link", "set", `${lab.prefix}c`, "name", "c0"]);
    for (
      const [ns, dev, a4, a6] of [["r", "r0", "10.9.1.1/24", "2001:db8:1::1/64"], [
        "c",
        "c0",
        "10.9.1.2/24",
        "2001:db8:1::2/64",
      ]]
    ) {
      await lab.exec(ns!, ["sysctl", "-qw", `net.ipv6.conf.${dev}.accept_dad=0`]);
      await lab.exec(ns!, ["ip", "addr", "add", a4!, "dev", dev!]);
      await lab.exec(ns!, ["ip", "addr", "add", a6!, "dev", dev!, "nodad"]);
      await lab.exec(ns!, ["ip", "link", "set", dev!, "up"]);
    }
    await lab.exec("r", ["ip", "addr", "add", "10.9.1.100/24", "dev", "r0"]);
    await lab.exec("r", ["ip", "addr", "add", "2001:db8:1::100/64", "dev", "r0", "nodad"]);
    await lab.exec("r", ["ip", "addr", "add", "fe80::100/64", "dev", "r0", "nodad"]);
    const ifindex = JSON.parse(await lab.exec("r", ["ip", "-j", "link", "show", "r0"]))[0].ifindex;
    const proc = lab.spawn("r", ["deno", "run", "-A", fixture, lab.ns("c"), String(ifindex)], {
      stdout: "piped",
      stderr: "piped",
    });
    const out = await proc.output();
    assertEquals(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assertEquals(r.error, undefined, r.error);

    assertMatch(r.leftoverBefore, /table ip haagent/);
    assert(!/haagent/.test(r.leftoverAfter), r.leftoverAfter);
    assertMatch(r.log.join("\n"), /removed table ip haagent left by an earlier run/);

    const all = { "10.9.1.100": true, "2001:db8:1::100": true, "fe80::100%c0": true };
    assertEquals(r.pingOpen, all);
    assertEquals(r.guarded, true);
    assertMatch(
      r.ruleset,
      /table ip haagent \{[\s\S]*elements = \{ 10\.9\.1\.100 \}[\s\S]*ip daddr @vips drop/,
    );
    assertMatch(r.ruleset, /table ip6 haagent \{[\s\S]*icmpv6 type @neighbor-discovery accept/);
    assertMatch(r.ruleset, /elements = \{ fe80::100 \. "r0" \}/);
    assertEquals(r.pingGuarded, {
      "10.9.1.100": false,
      "2001:db8:1::100": false,
      "fe80::100%c0": false,
    });
    // Neighbour discovery still answered: the client resolved the guarded IPv6 addresses.
    assertMatch(r.neigh, /2001:db8:1::100 dev c0 lladdr/);
    assertEquals(r.unguarded, true);
    assert(!/10\.9\.1\.100/.test(r.rulesetUnguarded), r.rulesetUnguarded);
    assertEquals(r.pingAgain, all);
    assertEquals(r.afterFlush, true);
    assertMatch(r.rulesetRebuilt, /elements = \{ 10\.9\.1\.100, 10\.9\.1\.101 \}/);
    assertEquals(r.rulesetClosed.trim(), "");
    console.log(`guard batch (3 addresses, tables created): ${r.guardMs.toFixed(2)} ms`);
  },
});
