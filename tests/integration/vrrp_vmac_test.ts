/**
 * use_vmac against Debian's keepalived 2.2.7 in both roles, in namespaces: the VIP lives on a
 * private macvlan with MAC 00:00:5e:00:01:51, adverts and gratuitous ARPs carry that MAC, so the
 * client's neighbour entry for the VIP is the virtual MAC before and after a failover and only the
 * bridge's forwarding entry moves. haagent sets arp_ignore / arp_filter on the base as keepalived
 * does and puts them back at stop; the macvlan and the nftables table go with it. A haagent killed
 * while master leaves its macvlan and table; the next start reuses the one and deletes the other.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type Agent, type RouterName, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") ? null : "keepalived is not installed") ??
  (haveCommand("tcpdump") ? null : "tcpdump is not installed") ??
  (haveCommand("nft") ? null : "nft is not installed");
if (why !== null) console.log(`vrrp vmac tests skipped: ${why}`);
const ignore = why !== null;

const VIP = "10.77.0.51";
const VMAC = "00:00:5e:00:01:33";

function haagentYaml(router: RouterName, prio: number): string {
  return `global:
  router_id: ${router}
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: ${prio}
    advert_interval: 1s
    use_vmac: true
    virtual_ipaddresses: [${VIP}/24]
`;
}

function keepalivedConf(router: RouterName, prio: number): string {
  return `global_defs {
  router_id ${router}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 51
  priority ${prio}
  advert_int 1
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

function start(lab: VrrpLab, router: RouterName, kind: "haagent" | "keepalived", prio: number) {
  return kind === "haagent"
    ? lab.startHaagent(router, haagentYaml(router, prio))
    : lab.startKeepalived(router, keepalivedConf(router, prio));
}

async function sysctl(lab: VrrpLab, router: RouterName, name: string): Promise<string> {
  return (await lab.lab.exec(router, ["sysctl", "-n", name])).trim();
}

/** The bridge port the switch forwards the VMAC to ("r1", "r2"), or null. */
async function fdbPort(lab: VrrpLab): Promise<string | null> {
  const out = await lab.lab.exec("sw", ["bridge", "fdb", "show", "br", "br0"]);
  const line = out.split("\n").find((l) => l.startsWith(VMAC));
  const dev = /dev (\S+)/.exec(line ?? "")?.[1];
  return dev === undefined ? null : dev.slice(lab.lab.prefix.length);
}

/** Pings the VIP from the client; true when it answered. */
async function ping(lab: VrrpLab): Promise<boolean> {
  return (await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", VIP])).code === 0;
}

/** The macvlan vrrp.51 on `router`: MAC, mode, parent, whether the VIP is on it. */
async function vmacOf(lab: VrrpLab, router: RouterName) {
  const out = await lab.lab.tryExec(router, ["ip", "-d", "-j", "addr", "show", "dev", "vrrp.51"]);
  if (out.code !== 0) return null;
  const l = JSON.parse(out.stdout)[0];
  return {
    mac: l.address as string,
    mode: l.linkinfo?.info_data?.mode as string,
    parent: (l.link ?? null) as string | null,
    vip: (l.addr_info as { local: string }[]).some((a) => a.local === VIP),
  };
}

async function failover(masterKind: "haagent" | "keepalived") {
  await using lab = await VrrpLab.create("vx");
  const backupKind = masterKind === "haagent" ? "keepalived" : "haagent";
  const gratuitous = lab.lab.spawn("c", [
    "tcpdump",
    "-l",
    "-n",
    "-e",
    "-i",
    "eth0",
    "arp or ip proto 112",
  ], { stdout: "piped", stderr: "null" });
  const frames: string[] = [];
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of gratuitous.child.stdout) frames.push(...dec.decode(c).split("\n"));
  })();
  let master: Agent = start(lab, "r1", masterKind, 150);
  const backup = start(lab, "r2", backupKind, 100);
  await lab.waitVip("r1", VIP, 10_000);
  await waitFor(async () => (await vmacOf(lab, "r2")) !== null, 5000);
  // Both routers have the macvlan; only the master holds the VIP on it.
  const m1 = await vmacOf(lab, "r1");
  const m2 = await vmacOf(lab, "r2");
  for (const m of [m1, m2]) {
    assertEquals([m?.mac, m?.mode, m?.parent], [VMAC, "private", "eth0"]);
  }
  assertEquals([m1?.vip, m2?.vip], [true, false]);
  // keepalived's sysctls on whichever side haagent is.
  const ha = masterKind === "haagent" ? "r1" : "r2";
  assertEquals(await sysctl(lab, ha, "net.ipv4.conf.eth0.arp_ignore"), "1");
  assertEquals(await sysctl(lab, ha, "net.ipv4.conf.eth0.arp_filter"), "1");
  assertEquals(await sysctl(lab, ha, "net.ipv4.conf.vrrp/51.arp_ignore"), "1");
  assertEquals(await sysctl(lab, ha, "net.ipv6.conf.vrrp/51.disable_ipv6"), "1");
  assert(await ping(lab), "the client reaches the VIP on r1");
  // Its ARP reply came from the macvlan. (The master's echo reply then leaves through eth0,
  // the first route to the client, and its ARP request for the client names the VIP with
  // eth0's MAC: the kernel's doing, keepalived's too; the next gratuitous ARP fixes it.)
  await waitFor(
    () => frames.some((l) => l.includes(`${VMAC} > `) && l.includes(`Reply ${VIP} is-at ${VMAC}`)),
    2000,
  ).catch(() => assert(false, `no ARP reply from the VMAC:\n${frames.join("\n")}`));
  assertEquals(await fdbPort(lab), "r1");

  // The master dies; the backup takes over on its own macvlan, and its gratuitous ARPs set
  // the client's entry to the VMAC before the client sends anything.
  await lab.crash(master);
  await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "down"]);
  const failoverMs = await lab.waitVip("r2", VIP, 10_000);
  await waitFor(async () => (await lab.neighMac(VIP)) === VMAC, 3000, 20);
  assertEquals(await fdbPort(lab), "r2", "the switch forwards the VMAC to r2");
  assert(await ping(lab), "the client reaches the VIP on r2");

  // r1 comes back (a rebooted router: no macvlan, no table, sysctls as they were) and preempts.
  await lab.lab.tryExec("r1", ["ip", "link", "del", "vrrp.51"]);
  await lab.lab.tryExec("r1", ["nft", "flush", "ruleset"]);
  for (const k of ["arp_ignore", "arp_filter"]) {
    await lab.lab.exec("r1", ["sysctl", "-qw", `net.ipv4.conf.eth0.${k}=0`]);
  }
  await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "up"]);
  master = start(lab, "r1", masterKind, 150);
  await lab.waitVip("r1", VIP, 10_000);
  await lab.waitVip("r2", VIP, 3000, false);
  await waitFor(async () => (await lab.neighMac(VIP)) === VMAC, 3000, 20);
  await waitFor(async () => (await fdbPort(lab)) === "r1" && await ping(lab), 5000, 100);

  // Gratuitous ARPs and adverts leave with the VMAC as source, from both sides.
  await new Promise((r) => setTimeout(r, 300));
  gratuitous.kill("SIGINT");
  await gratuitous.child.status;
  const garps = frames.filter((l) =>
    l.includes(`Request who-has ${VIP}`) && l.includes(`tell ${VIP}`)
  );
  assert(garps.length >= 10, `${garps.length} gratuitous ARPs`);
  assert(garps.every((l) => l.includes(`${VMAC} > ff:ff:ff:ff:ff:ff`)), garps.join("\n"));
  const adverts = frames.filter((l) => l.includes("VRRPv2"));
  const fromR1 = adverts.filter((l) => l.includes(`${ROUTERS.r1.addr4} > 224.0.0.18`));
  const fromR2 = adverts.filter((l) => l.includes(`${ROUTERS.r2.addr4} > 224.0.0.18`));
  assert(fromR1.length > 0 && fromR2.length > 0, `${fromR1.length} / ${fromR2.length} adverts`);
  const fromVmac = (l: string) => l.includes(`${VMAC} > 01:00:5e:00:00:12`);
  assert(fromR1.every(fromVmac) && fromR2.every(fromVmac), [...fromR1, ...fromR2].join("\n"));

  // haagent stops: its macvlan goes, the base's sysctls come back, nothing left in nftables.
  const haAgent = masterKind === "haagent" ? master : backup;
  assertEquals(await lab.stop(haAgent), 0);
  assertEquals(await vmacOf(lab, ha), null, "the macvlan is removed at stop");
  assertEquals(await sysctl(lab, ha, "net.ipv4.conf.eth0.arp_ignore"), "0");
  assertEquals(await sysctl(lab, ha, "net.ipv4.conf.eth0.arp_filter"), "0");
  assertEquals((await lab.lab.exec(ha, ["nft", "list", "ruleset"])).trim(), "");
  return failoverMs;
}

Deno.test({
  name: "vmac: keepalived 150 master with use_vmac, haagent 100 backup with use_vmac",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ms = await failover("keepalived");
    console.log(`  failover to haagent: VIP on its macvlan ${ms.toFixed(0)} ms after the crash`);
  },
});

Deno.test({
  name: "vmac: haagent 150 master with use_vmac, keepalived 100 backup with use_vmac",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const ms = await failover("haagent");
    console.log(`  failover to keepalived: VIP on its macvlan ${ms.toFixed(0)} ms after the crash`);
  },
});

Deno.test({
  name:
    "vmac: a haagent killed as master leaves its macvlan and table; the next start takes them back",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("vy");
    const first = lab.startHaagent("r1", haagentYaml("r1", 150));
    await lab.waitVip("r1", VIP, 10_000);
    await lab.crash(first);
    assert((await vmacOf(lab, "r1"))?.vip === true, "left behind: macvlan with the VIP");
    assertMatch(await lab.lab.exec("r1", ["nft", "list", "ruleset"]), /table ip haagent/);
    const again = lab.startHaagent("r1", haagentYaml("r1", 150));
    await lab.waitState(again, "BACKUP", 5000);
    await lab.waitVip("r1", VIP, 10_000);
    await waitFor(() => ping(lab), 5000, 100);
    const log = again.log.join("\n");
    assertMatch(log, /removed table ip haagent left by an earlier run/);
    assertMatch(log, /reusing the macvlan left by an earlier run/);
    assertMatch(log, /removing leftover VIP 10\.77\.0\.51\/24 from vrrp\.51/);
    assertEquals(await lab.stop(again), 0);
    assertEquals(await vmacOf(lab, "r1"), null);
    assertEquals((await lab.lab.exec("r1", ["nft", "list", "ruleset"])).trim(), "");
  },
});

Deno.test({
  name: "vmac: IPv6 (VRRPv3) with keepalived: 00:00:5e:00:02:VRID, adverts from the link-local",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("vz");
    const vip6 = "fd77::52";
    const vmac6 = "00:00:5e:00:02:34";
    const ha = lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_6:
    interface: eth0
    vrid: 52
    priority: 150
    advert_interval: 1s
    use_vmac: true
    virtual_ipaddresses: [fe80::77:52/64, ${vip6}/64]
`,
    );
    const ka = lab.startKeepalived(
      "r2",
      `vrrp_instance VI_6 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    fe80::77:52/64
    ${vip6}/64
  }
}
`,
    );
    await lab.waitVip("r1", vip6, 10_000);
    const link = JSON.parse(
      await lab.lab.exec("r1", ["ip", "-d", "-j", "addr", "show", "dev", "vrrp.52"]),
    )[0];
    assertEquals(link.address, vmac6);
    // The VMAC got the base's link-local address, and no EUI-64 one of its own.
    const lls = (link.addr_info as { local: string; scope: string }[])
      .filter((a) => a.scope === "link").map((a) => a.local);
    assert(lls.includes(ROUTERS.r1.ll), `link-local addresses ${lls}`);
    await new Promise((r) => setTimeout(r, 3000));
    assert(!(await lab.hasVip("r2", vip6)), "keepalived stays backup under haagent's adverts");
    await waitFor(
      async () => (await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", vip6])).code === 0,
      5000,
      200,
    );
    await lab.crash(ha);
    await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "down"]);
    await lab.waitVip("r2", vip6, 10_000);
    await waitFor(
      async () => {
        const out = await lab.lab.tryExec("c", ["ip", "-6", "neigh", "show", vip6]);
        return out.stdout.includes(`lladdr ${vmac6}`);
      },
      3000,
      50,
    );
    assertEquals(
      (await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", vip6])).code,
      0,
      "the client reaches the VIP on keepalived's VMAC",
    );
    // haagent back as a lower-priority backup: it hears keepalived's adverts on its own VMAC
    // (the kernel hands frames from our own MAC to the macvlan alone) and stays backup.
    await lab.lab.tryExec("r1", ["ip", "link", "del", "vrrp.52"]);
    await lab.lab.tryExec("r1", ["nft", "flush", "ruleset"]);
    await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "up"]);
    const low = lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_6:
    interface: eth0
    vrid: 52
    priority: 50
    advert_interval: 1s
    use_vmac: true
    virtual_ipaddresses: [fe80::77:52/64, ${vip6}/64]
`,
    );
    await lab.waitState(low, "BACKUP", 10_000);
    await new Promise((r) => setTimeout(r, 4500));
    const st = (await lab.status(low))?.instances[0];
    assertEquals(st?.state, "BACKUP");
    assert((st?.stats["advertsReceived"] ?? 0) >= 3, `received ${st?.stats["advertsReceived"]}`);
    await lab.stop(ka);
  },
});

Deno.test({
  name: "vmac: vmac_xmit_base - adverts from the base's MAC, VIP and GARPs on the VMAC",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("vw");
    const cap = lab.lab.spawn("c", [
      "tcpdump",
      "-l",
      "-n",
      "-e",
      "-i",
      "eth0",
      "arp or ip proto 112",
    ], {
      stdout: "piped",
      stderr: "null",
    });
    const frames: string[] = [];
    void (async () => {
      const dec = new TextDecoder();
      for await (const c of cap.child.stdout) frames.push(...dec.decode(c).split("\n"));
    })();
    await new Promise((r) => setTimeout(r, 1000));
    const ha = lab.startHaagent(
      "r1",
      haagentYaml("r1", 150).replace("use_vmac: true", "use_vmac: true\n    vmac_xmit_base: true"),
    );
    const ka = lab.startKeepalived(
      "r2",
      keepalivedConf("r2", 100).replace("use_vmac", "use_vmac\n  vmac_xmit_base"),
    );
    await lab.waitVip("r1", VIP, 10_000);
    assertEquals((await vmacOf(lab, "r1"))?.vip, true, "the VIP is on the VMAC");
    await new Promise((r) => setTimeout(r, 3000));
    assert(!(await lab.hasVip("r2", VIP)), "keepalived hears haagent on its base and stays backup");
    assert(await ping(lab));
    cap.kill("SIGINT");
    await cap.child.status;
    const adverts = frames.filter((l) => l.includes(`${ROUTERS.r1.addr4} > 224.0.0.18`));
    assert(adverts.length >= 3, `${adverts.length} adverts`);
    assert(adverts.every((l) => l.includes(`${ROUTERS.r1.mac} > 01:00:5e:00:00:12`)), adverts[0]);
    const garps = frames.filter((l) =>
      l.includes(`Request who-has ${VIP}`) && l.includes(`tell ${VIP}`)
    );
    assert(garps.length >= 5 && garps.every((l) => l.includes(`${VMAC} > ff:ff:ff:ff:ff:ff`)));
    assertEquals(await lab.stop(ha), 0);
    await lab.stop(ka);
  },
});
