/**
 * The VMAC writer against the kernel in a namespace: private-mode macvlans with the VRRP MACs,
 * keepalived's sysctls on them and on the base (put back when the last one goes), rp_filter
 * cleared and restored, IGMP redirected through nf_tables, a wrong leftover replaced, clear
 * errors for a name taken by another kind of link and for a missing base.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, Lab, netnsUnavailable } from "../helpers/netns.ts";

const fixture = new URL("./fixtures/vmac.ts", import.meta.url).pathname;

interface IpLink {
  ifname: string;
  address: string;
  link_index?: number;
  link?: string;
  ifindex: number;
  flags: string[];
  linkinfo?: { info_kind: string; info_data?: { mode?: string } };
  addr_gen_mode?: string;
  inet6_addr_gen_mode?: string;
}

Deno.test({
  name: "vmac: macvlans, sysctls and IGMP redirection against the kernel",
  ignore: netnsUnavailable() !== null || !haveCommand("nft"),
  async fn() {
    await using lab = await Lab.create("vm");
    await lab.addNs("r");
    await lab.exec("r", ["ip", "link", "add", "b0", "type", "veth", "peer", "name", "b1"]);
    await lab.exec("r", ["ip", "link", "add", "x0", "type", "veth", "peer", "name", "x1"]);
    await lab.exec("r", ["ip", "addr", "add", "10.9.2.1/24", "dev", "b0"]);
    for (const l of ["b0", "b1"]) await lab.exec("r", ["ip", "link", "set", l, "up"]);
    // A host with strict reverse-path filtering everywhere but on default and b0.
    await lab.exec("r", ["sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1"]);
    await lab.exec("r", ["sysctl", "-qw", "net.ipv4.conf.default.rp_filter=0"]);
    await lab.exec("r", ["sysctl", "-qw", "net.ipv4.conf.b0.rp_filter=0"]);
    const proc = lab.spawn("r", ["deno", "run", "-A", fixture], {
      stdout: "piped",
      stderr: "piped",
    });
    const out = await proc.output();
    assertEquals(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assertEquals(r.error, undefined, r.error);

    const links = r.upLinks as IpLink[];
    const b0 = links.find((l) => l.ifname === "b0")!;
    const byName = (n: string) => links.find((l) => l.ifname === n)!;
    for (
      const [name, mac] of [["vrrp.51", "00:00:5e:00:01:33"], ["vrrp.52", "00:00:5e:00:01:34"], [
        "vrrp.54",
        "00:00:5e:00:02:36",
      ]]
    ) {
      const l = byName(name!);
      assertEquals(l.address, mac);
      assertEquals(l.link ?? l.link_index, l.link === undefined ? b0.ifindex : "b0");
      assertEquals(l.linkinfo?.info_kind, "macvlan");
      assertEquals(l.linkinfo?.info_data?.mode, "private");
      assert(l.flags.includes("UP"), `${name} is up`);
      assertEquals(l.inet6_addr_gen_mode ?? l.addr_gen_mode, "none");
    }
    assertEquals(r.a.mac, [0, 0, 0x5e, 0, 1, 51]);

    assertEquals(r.before["net/ipv4/conf/all/rp_filter"], 1);
    const up = r.upSysctls;
    assertEquals(up["net/ipv4/conf/all/rp_filter"], 0);
    assertEquals(up["net/ipv4/conf/default/rp_filter"], 1);
    assertEquals(up["net/ipv4/conf/b0/rp_filter"], 1);
    assertEquals(up["net/ipv4/conf/b0/arp_ignore"], 1);
    assertEquals(up["net/ipv4/conf/b0/arp_filter"], 1);
    assertEquals(up["net/ipv4/conf/vrrp.51/arp_ignore"], 1);
    assertEquals(up["net/ipv4/conf/vrrp.51/accept_local"], 1);
    assertEquals(up["net/ipv4/conf/vrrp.51/rp_filter"], 0);
    assertEquals(up["net/ipv4/conf/vrrp.51/promote_secondaries"], 1);
    assertEquals(up["net/ipv6/conf/vrrp.51/disable_ipv6"], 1);
    assertEquals(up["net/ipv6/conf/vrrp.54/disable_ipv6"], 0);
    assertMatch(r.upRuleset, /elements = \{ "vrrp\.51" : "b0", "vrrp\.52" : "b0" \}/);
    assertMatch(
      r.upRuleset,
      /ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop/,
    );
    assertMatch(r.upRuleset, /table ip6 haagent[\s\S]*icmpv6 type mld2-listener-report/);

    assertMatch(r.notMacvlan, /^\(VI_3\) VMAC x0: interface "x0" exists and is not a macvlan$/);
    assertMatch(r.noBase, /^\(VI_4\) VMAC vrrp\.55: interface "ghost0" does not exist$/);

    // One VMAC left on b0: its settings stay; none left: they are put back.
    assertEquals(r.oneDownSysctls["net/ipv4/conf/b0/arp_ignore"], 1);
    assertEquals(r.bothDownSysctls["net/ipv4/conf/b0/arp_ignore"], 0);
    assertEquals(r.bothDownSysctls["net/ipv4/conf/b0/arp_filter"], 0);

    assertEquals(r.replacedMac, "00:00:5e:00:01:38");
    assertMatch(r.log.join("\n"), /VMAC vrrp\.56: replacing the macvlan of that name/);

    const closed = r.closedLinks as IpLink[];
    assert(!closed.some((l) => l.ifname.startsWith("vrrp.")), closed.map((l) => l.ifname).join());
    assertEquals(r.closedSysctls["net/ipv4/conf/all/rp_filter"], 1);
    assertEquals(r.closedSysctls["net/ipv4/conf/default/rp_filter"], 0);
    assertEquals(r.closedSysctls["net/ipv4/conf/b0/rp_filter"], 0);
    assertEquals(r.closedRuleset.trim(), "");
    console.log(`first VMAC up (create, sysctls, nft table, up): ${r.upMs.toFixed(1)} ms`);
  },
});
