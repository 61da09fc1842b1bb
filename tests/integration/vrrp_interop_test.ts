/**
 * Interop with Debian's keepalived 2.2.7 as a real VRRP peer, in namespaces: both roles, v2 and
 * v3, IPv4 and IPv6, unicast, and SIGTERM handover. Checks `ip addr` on both routers, the
 * client's neighbour entry, and captured adverts (never two masters for longer than one
 * advert interval).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable } from "../helpers/netns.ts";
import { longestDualMaster, type RouterName, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") ? null : "keepalived is not installed") ??
  (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`vrrp interop tests skipped: ${why}`);
const ignore = why !== null;

const VIP4 = "10.77.0.50";

interface Inst {
  version: 2 | 3;
  prio: number;
  interval: string; // haagent duration
  kaInterval: string; // keepalived advert_int
  vips: string[];
  unicast?: { src: string; peer: string };
}

function haagentYaml(router: RouterName, i: Inst): string {
  const lines = [
    "global:",
    `  router_id: ${router}`,
    `  vrrp_version: ${i.version}`,
    "vrrp_instances:",
    "  VI_1:",
    "    interface: eth0",
    "    vrid: 51",
    `    priority: ${i.prio}`,
    `    advert_interval: ${i.interval}`,
    `    virtual_ipaddresses: [${i.vips.join(", ")}]`,
  ];
  if (i.version === 2) lines.push("    authentication: { type: PASS, password: kabpass1 }");
  if (i.unicast) {
    lines.push(`    unicast_src_ip: ${i.unicast.src}`, `    unicast_peers: [${i.unicast.peer}]`);
  }
  return lines.join("\n") + "\n";
}

function keepalivedConf(router: RouterName, i: Inst): string {
  return `global_defs {
  router_id ${router}
  vrrp_version ${i.version}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${i.prio}
  advert_int ${i.kaInterval}
  ${i.version === 2 ? "authentication {\n    auth_type PASS\n    auth_pass kabpass1\n  }" : ""}
  ${
    i.unicast
      ? `unicast_src_ip ${i.unicast.src}\n  unicast_peer {\n    ${i.unicast.peer}\n  }`
      : ""
  }
  virtual_ipaddress {
    ${i.vips.join("\n    ")}
  }
}
`;
}

const V2: Omit<Inst, "prio"> = {
  version: 2,
  interval: "1s",
  kaInterval: "1",
  vips: [`${VIP4}/24`],
};
const V3FAST: Omit<Inst, "prio"> = {
  version: 3,
  interval: "100ms",
  kaInterval: "0.1",
  vips: [`${VIP4}/24`],
};

/** Starts both, checks who is master, crashes the master, checks the failover, brings it back. */
async function crashAndReturn(
  lab: VrrpLab,
  inst: Omit<Inst, "prio">,
  masterKind: "haagent" | "keepalived",
  vip: string,
  intervalS: number,
): Promise<{ failoverMs: number; dualMasterS: number }> {
  const start = (router: RouterName, kind: "haagent" | "keepalived", prio: number) => {
    const i = { ...inst, prio };
    if (inst.unicast) {
      const other = router === "r1" ? ROUTERS.r2 : ROUTERS.r1;
      i.unicast = { src: ROUTERS[router].addr4, peer: other.addr4 };
    }
    return kind === "haagent"
      ? lab.startHaagent(router, haagentYaml(router, i))
      : lab.startKeepalived(router, keepalivedConf(router, i));
  };
  const backupKind = masterKind === "haagent" ? "keepalived" : "haagent";
  const cap = await lab.capture(inst.unicast ? "r2" : undefined);
  let master = start("r1", masterKind, 150);
  const backup = start("r2", backupKind, 100);
  const downS = 3 * intervalS + 1;
  await lab.waitVip("r1", vip, (downS + 5) * 1000);
  // A haagent backup may still be starting when a keepalived master already holds the VIP
  // (Deno's own start-up takes over a second on a busy machine): it must answer as BACKUP
  // before the window in which it has to stay backup begins.
  if (backupKind === "haagent") await lab.waitState(backup, "BACKUP", 10_000);
  // The backup stays backup under the master's adverts.
  await new Promise((r) => setTimeout(r, Math.max(500, intervalS * 3000)));
  assert(!(await lab.hasVip("r2", vip)), "the backup must not hold the VIP");
  if (backupKind === "haagent") {
    assertEquals((await lab.status(backup))?.instances[0]?.state, "BACKUP");
  }
  await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", vip]);
  const macBefore = await lab.neighMac(vip.includes(":") ? vip : vip);
  assertEquals(macBefore, ROUTERS.r1.mac, "client's neighbour entry starts on r1");

  // The master dies: process killed without goodbye, link down.
  await lab.crash(master);
  await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "down"]);
  const failoverMs = await lab.waitVip("r2", vip, (downS + 5) * 1000);
  await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", vip]);
  assertEquals(await lab.neighMac(vip), ROUTERS.r2.mac, "client's neighbour entry moved to r2");

  // It returns (its leftover VIP cleared, as a rebooted router would have) and preempts.
  await lab.lab.tryExec("r1", [
    "ip",
    "addr",
    "flush",
    "dev",
    "eth0",
    "to",
    `${vip}/${vip.includes(":") ? 128 : 32}`,
  ]);
  for (const v of inst.vips) await lab.lab.tryExec("r1", ["ip", "addr", "del", v, "dev", "eth0"]);
  await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "up"]);
  master = start("r1", masterKind, 150);
  await lab.waitVip("r1", vip, (downS + 5) * 1000);
  await lab.waitVip("r2", vip, 3000, false);
  await new Promise((r) => setTimeout(r, 300));
  await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", vip]);
  assertEquals(await lab.neighMac(vip), ROUTERS.r1.mac, "client's neighbour entry back on r1");
  if (backupKind === "haagent") await lab.waitState(backup, "BACKUP", 3000);
  const adverts = await cap.stop();
  if (Deno.env.get("HAAGENT_TEST_DEBUG")) console.log(cap.raw());
  assert(adverts.length > 3, `captured ${adverts.length} adverts`);
  return { failoverMs, dualMasterS: longestDualMaster(adverts, intervalS) };
}

Deno.test({
  name: "interop (a): keepalived 150 master, haagent 100 backup, v2 1s: crash, takeover, preempt",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ia");
    const r = await crashAndReturn(lab, V2, "keepalived", VIP4, 1);
    console.log(
      `  (a) failover ${r.failoverMs.toFixed(0)} ms, dual master ${r.dualMasterS.toFixed(3)} s`,
    );
    assert(r.dualMasterS <= 1.0, `two masters for ${r.dualMasterS} s`);
  },
});

Deno.test({
  name: "interop (b): haagent 150 master, keepalived 100 backup, v2 1s: crash, takeover, preempt",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ib");
    const r = await crashAndReturn(lab, V2, "haagent", VIP4, 1);
    console.log(
      `  (b) failover ${r.failoverMs.toFixed(0)} ms, dual master ${r.dualMasterS.toFixed(3)} s`,
    );
    assert(r.dualMasterS <= 1.0, `two masters for ${r.dualMasterS} s`);
  },
});

Deno.test({
  name: "interop (c): VRRPv3 at 100 ms, both roles",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    for (const masterKind of ["keepalived", "haagent"] as const) {
      await using lab = await VrrpLab.create("ic");
      const r = await crashAndReturn(lab, V3FAST, masterKind, VIP4, 0.1);
      console.log(
        `  (c) ${masterKind} master: failover ${r.failoverMs.toFixed(0)} ms, ` +
          `dual master ${r.dualMasterS.toFixed(3)} s`,
      );
      assert(r.dualMasterS <= 0.1, `two masters for ${r.dualMasterS} s`);
      assert(r.failoverMs < 1500, `failover took ${r.failoverMs} ms`);
    }
  },
});

Deno.test({
  name: "interop (d): VRRPv3 over IPv6 with a link-local and a global VIP",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const inst: Omit<Inst, "prio"> = {
      version: 3,
      interval: "100ms",
      kaInterval: "0.1",
      vips: ["fe80::77:50/64", "fd77::50/64"],
    };
    for (const masterKind of ["haagent", "keepalived"] as const) {
      await using lab = await VrrpLab.create("id");
      const r = await crashAndReturn(lab, inst, masterKind, "fd77::50", 0.1);
      assert(await lab.hasVip("r1", "fe80::77:50"), "r1 holds the link-local VIP too");
      console.log(
        `  (d) ${masterKind} master: failover ${r.failoverMs.toFixed(0)} ms, ` +
          `dual master ${r.dualMasterS.toFixed(3)} s`,
      );
      assert(r.dualMasterS <= 0.1, `two masters for ${r.dualMasterS} s`);
    }
  },
});

Deno.test({
  name: "interop (e): unicast peers with multicast VRRP dropped by nftables",
  ignore: ignore || !haveCommand("nft"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    for (const masterKind of ["haagent", "keepalived"] as const) {
      await using lab = await VrrpLab.create("ie");
      const drop = `table inet novrrpmc {
  chain in { type filter hook input priority 0; ip daddr 224.0.0.18 drop; }
  chain out { type filter hook output priority 0; ip daddr 224.0.0.18 drop; }
}
`;
      await lab.nft("r1", drop);
      await lab.nft("r2", drop);
      const inst = { ...V3FAST, interval: "1s", kaInterval: "1", unicast: { src: "", peer: "" } };
      const r = await crashAndReturn(lab, inst, masterKind, VIP4, 1);
      console.log(
        `  (e) ${masterKind} master: failover ${r.failoverMs.toFixed(0)} ms, ` +
          `dual master ${r.dualMasterS.toFixed(3)} s`,
      );
      assert(r.dualMasterS <= 1.0, `two masters for ${r.dualMasterS} s`);
    }
  },
});

Deno.test({
  name:
    "interop (f): SIGTERM to a haagent master sends priority 0; keepalived takes over in skew time",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("if");
    const cap = await lab.capture();
    const ha = lab.startHaagent("r1", haagentYaml("r1", { ...V2, prio: 150 }));
    lab.startKeepalived("r2", keepalivedConf("r2", { ...V2, prio: 100 }));
    await lab.waitVip("r1", VIP4, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    assertEquals(await lab.stop(ha), 0, "haagent exits 0 on SIGTERM");
    assert(!(await lab.hasVip("r1", VIP4)), "haagent removed its VIP");
    await lab.waitVip("r2", VIP4, 3000);
    await new Promise((r) => setTimeout(r, 1500));
    const adverts = await cap.stop();
    const zero = adverts.find((a) => a.src === ROUTERS.r1.addr4 && a.priority === 0);
    assert(zero !== undefined, "a priority-0 advert from r1 was captured");
    const taken = adverts.find((a) => a.src === ROUTERS.r2.addr4 && a.t > zero.t && a.priority > 0);
    assert(taken !== undefined, "r2 sent adverts as master after it");
    const skewS = taken.t - zero.t;
    console.log(
      `  (f) priority 0 -> keepalived master after ${(skewS * 1000).toFixed(0)} ms ` +
        `(skew time ${((256 - 100) / 256 * 1000).toFixed(0)} ms)`,
    );
    assert(skewS < 1.2, `takeover took ${skewS} s after priority 0`);
    assert(longestDualMaster(adverts, 1) <= 1.0);
  },
});
