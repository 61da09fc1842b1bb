/**
 * vrrp_strict and accept / no_accept against Debian's keepalived 2.2.7 (also strict), in
 * namespaces: while haagent is a non-owner master, its no_accept VIP does not answer the
 * client's ping and its `accept: true` VIP does (nftables table `haagent`); leaving MASTER
 * takes the drop rule out, SIGTERM leaves nothing in `nft list ruleset`; keepalived as master
 * behaves the same with its own table; a table left by a killed agent is removed at start.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type RouterName, VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") ? null : "keepalived is not installed") ??
  (haveCommand("nft") ? null : "nft is not installed");
if (why !== null) console.log(`vrrp strict tests skipped: ${why}`);
const ignore = why !== null;

const NO_ACCEPT = "10.77.0.50";
const ACCEPT = "10.77.0.60";

function haagentYaml(router: RouterName, prio: number): string {
  return `global:
  router_id: ${router}
  vrrp_strict: true
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: ${prio}
    advert_interval: 1s
    virtual_ipaddresses: [${NO_ACCEPT}/24]
  VI_2:
    interface: eth0
    vrid: 52
    version: 3
    priority: ${prio}
    advert_interval: 1s
    accept: true
    virtual_ipaddresses: [${ACCEPT}/24]
`;
}

function keepalivedConf(router: RouterName, prio: number): string {
  return `global_defs {
  router_id ${router}
  vrrp_strict
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${NO_ACCEPT}/24
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  version 3
  virtual_router_id 52
  priority ${prio}
  advert_int 1
  accept
  virtual_ipaddress {
    ${ACCEPT}/24
  }
}
`;
}

async function answers(lab: VrrpLab, ip: string): Promise<boolean> {
  return (await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", ip])).code === 0;
}

async function ruleset(lab: VrrpLab, router: RouterName): Promise<string> {
  return await lab.lab.exec(router, ["nft", "list", "ruleset"]);
}

Deno.test({
  name:
    "strict: a no_accept VIP drops the client's ping, an accept VIP answers; rules go with MASTER",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("st");
    const ha = lab.startHaagent("r1", haagentYaml("r1", 150));
    await lab.waitVip("r1", NO_ACCEPT, 10_000);
    await lab.waitVip("r1", ACCEPT, 10_000);
    const set = await ruleset(lab, "r1");
    assertMatch(
      set,
      /table ip haagent \{[\s\S]*elements = \{ 10\.77\.0\.50 \}[\s\S]*ip daddr @vips drop/,
    );
    assert(!set.includes(ACCEPT), `the accept VIP has no rule:\n${set}`);
    assertEquals(await answers(lab, NO_ACCEPT), false, "no_accept VIP answered a ping");
    assertEquals(await answers(lab, ACCEPT), true, "accept VIP did not answer");
    // The address still resolves: only IP traffic to it is dropped.
    assertEquals(await lab.neighMac(NO_ACCEPT), "02:00:00:77:00:01");

    // keepalived (strict too) with a higher priority preempts: haagent leaves MASTER and takes
    // its rule out; keepalived's master drops the ping in its own table.
    const ka = lab.startKeepalived("r2", keepalivedConf("r2", 200));
    await lab.waitVip("r2", NO_ACCEPT, 10_000);
    await lab.waitVip("r1", NO_ACCEPT, 5000, false);
    await lab.waitState(ha, "BACKUP", 5000);
    await waitFor(async () => !(await ruleset(lab, "r1")).includes(NO_ACCEPT), 3000);
    assertMatch(await ruleset(lab, "r2"), /table ip keepalived[\s\S]*10\.77\.0\.50/);
    await lab.waitVip("r2", ACCEPT, 10_000);
    assertEquals(await answers(lab, NO_ACCEPT), false, "keepalived's no_accept VIP answered");
    await waitFor(() => answers(lab, ACCEPT), 5000, 200);

    // keepalived goes: haagent is master again, rule back; SIGTERM then leaves nothing.
    assertEquals(await lab.stop(ka), 0);
    await lab.waitVip("r1", NO_ACCEPT, 10_000);
    await waitFor(async () => (await ruleset(lab, "r1")).includes(NO_ACCEPT), 3000);
    assertEquals(await answers(lab, NO_ACCEPT), false);
    assertEquals(await lab.stop(ha), 0);
    assertEquals((await ruleset(lab, "r1")).trim(), "", "rules left after stop");
    assert(!(await lab.hasVip("r1", NO_ACCEPT)));
  },
});

Deno.test({
  name: "strict: a table left by a killed master is removed at the next start",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("su");
    const first = lab.startHaagent("r1", haagentYaml("r1", 150));
    await lab.waitVip("r1", NO_ACCEPT, 10_000);
    await lab.crash(first);
    assertMatch(await ruleset(lab, "r1"), /table ip haagent/);
    // A restarted agent that starts as backup must not keep dropping traffic to the address.
    const again = lab.startHaagent("r1", haagentYaml("r1", 150));
    await lab.waitState(again, "BACKUP", 15_000);
    assertEquals((await ruleset(lab, "r1")).trim(), "", "the leftover table is gone at start");
    assertMatch(again.log.join("\n"), /removed table ip haagent left by an earlier run/);
    await lab.waitVip("r1", NO_ACCEPT, 10_000);
    assertMatch(await ruleset(lab, "r1"), /10\.77\.0\.50/);
    assertEquals(await lab.stop(again), 0);
    assertEquals((await ruleset(lab, "r1")).trim(), "");
  },
});
