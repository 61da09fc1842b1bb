/**
 * haagent's own VRRP behaviour in namespaces: gratuitous ARP timing (5 at once, 5 more after
 * 5 s), unsolicited NAs for IPv6 VIPs, a VIP deleted by hand put back and re-announced, and
 * link down -> FAULT (priority 0) -> recovery.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, readLines, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`vrrp behaviour tests skipped: ${why}`);
const ignore = why !== null;

const CONFIG = `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24, 10.77.0.51/24]
  VI_6:
    interface: eth0
    vrid: 52
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [fd77::50/64]
`;

/** Starts tcpdump in the client namespace and returns its lines when stopped. */
async function sniff(lab: VrrpLab, filter: string) {
  const proc = lab.lab.spawn("c", ["tcpdump", "-l", "-n", "-tt", "-i", "eth0", filter], {
    stdout: "piped",
    stderr: "piped",
  });
  const lines: string[] = [];
  const err: string[] = [];
  void readLines(proc.child.stdout, lines);
  void readLines(proc.child.stderr, err);
  await waitFor(() => err.some((l) => l.includes("listening on")), 10_000);
  return {
    lines,
    async stop() {
      await new Promise((r) => setTimeout(r, 200));
      proc.kill("SIGINT");
      await proc.child.status;
      return lines;
    },
  };
}

const t = (l: string) => Number(l.split(" ")[0]);

Deno.test({
  name:
    "announce: 5 gratuitous ARPs per VIP at once, 5 more after 5 s; 10 unsolicited NAs per IPv6 VIP",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ga");
    const arp = await sniff(lab, "arp or icmp6");
    lab.startHaagent("r1", CONFIG);
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    await new Promise((r) => setTimeout(r, 6000));
    const lines = await arp.stop();
    const garps = lines.filter((l) =>
      /Request who-has (10\.77\.0\.5[01]) (\(ff:ff:ff:ff:ff:ff\) )?tell \1,/.test(l)
    );
    const per50 = garps.filter((l) => l.includes("who-has 10.77.0.50 "));
    assertEquals(per50.length, 10, `GARPs for 10.77.0.50:\n${lines.join("\n")}`);
    assertEquals(garps.length, 20);
    const first = per50.slice(0, 5).map(t), second = per50.slice(5).map(t);
    assert(first[4]! - first[0]! < 0.05, "the first burst is back to back");
    const gap = second[0]! - first[0]!;
    console.log(`  second burst ${gap.toFixed(3)} s after the first`);
    assert(gap > 4.9 && gap < 5.3, `second burst after ${gap} s`);
    const nas = lines.filter((l) =>
      l.includes("neighbor advertisement") && l.includes("tgt is fd77::50")
    );
    assertEquals(nas.length, 10, `NAs:\n${nas.join("\n")}`);
  },
});

Deno.test({
  name: "a VIP deleted by hand while master is put back and announced again",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("vr");
    lab.startHaagent("r1", CONFIG);
    await lab.waitVip("r1", "10.77.0.51", 15_000);
    await new Promise((r) => setTimeout(r, 500));
    const arp = await sniff(lab, "arp");
    const t0 = performance.now();
    await lab.lab.exec("r1", ["ip", "addr", "del", "10.77.0.51/24", "dev", "eth0"]);
    await lab.waitVip("r1", "10.77.0.51", 2000);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 300));
    const lines = await arp.stop();
    console.log(`  VIP back after ${ms.toFixed(0)} ms`);
    assert(
      lines.some((l) => /who-has 10\.77\.0\.51 .*tell 10\.77\.0\.51,/.test(l)),
      "re-announced",
    );
    assert(await lab.hasVip("r1", "10.77.0.50"), "the other VIP was untouched");
  },
});

Deno.test({
  name: "link down -> FAULT, the backup takes over; link up -> back to master",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("lf");
    const r1 = lab.startHaagent("r1", CONFIG);
    const r2 = lab.startHaagent("r2", CONFIG.replaceAll("priority: 150", "priority: 100"));
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    await lab.waitState(r2, "BACKUP", 15_000);
    // Cut r1's carrier from the switch side: its interface stays up but stops running.
    await lab.lab.exec("sw", ["ip", "link", "set", `${lab.lab.prefix}r1`, "down"]);
    await lab.waitState(r1, "FAULT", 3000);
    await lab.waitVip("r1", "10.77.0.50", 3000, false);
    await lab.waitVip("r2", "10.77.0.50", 3000);
    const st = await lab.status(r1);
    assert(
      st!.instances[0]!.faults.some((f) => f.includes("eth0")),
      JSON.stringify(st!.instances[0]),
    );
    await lab.lab.exec("sw", ["ip", "link", "set", `${lab.lab.prefix}r1`, "up"]);
    await lab.waitState(r1, "MASTER", 5000);
    await lab.waitVip("r2", "10.77.0.50", 3000, false);
    assertEquals((await lab.status(r2))?.instances[0]?.state, "BACKUP");
  },
});

Deno.test({
  name: "virtual routes are added while master and removed on stop",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("rt");
    const cfg = CONFIG.replace(
      "    virtual_ipaddresses: [10.77.0.50/24, 10.77.0.51/24]\n",
      "    virtual_ipaddresses: [10.77.0.50/24, 10.77.0.51/24]\n" +
        "    virtual_routes: [{ to: 192.168.77.0/24, via: 10.77.0.254 }, " +
        "{ to: 192.168.78.0/24, blackhole: true }]\n",
    );
    const a = lab.startHaagent("r1", cfg);
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    const routes = async () => (await lab.lab.exec("r1", ["ip", "route", "show"])).trim();
    await waitFor(async () => (await routes()).includes("192.168.78.0/24"), 3000);
    const on = await routes();
    assert(on.includes("192.168.77.0/24 via 10.77.0.254 dev eth0"), on);
    assert(on.includes("blackhole 192.168.78.0/24"), on);
    assertEquals(await lab.stop(a), 0);
    const off = await routes();
    assert(!off.includes("192.168.77.0/24") && !off.includes("192.168.78.0/24"), off);
  },
});

/** Name, policy, nice and EEVDF slice (ns) of every thread of `pid`. */
function threads(pid: string): { name: string; policy: number; nice: number; slice: number }[] {
  return [...Deno.readDirSync(`/proc/${pid}/task`)].flatMap((t) => {
    try {
      const dir = `/proc/${pid}/task/${t.name}`;
      const stat = Deno.readTextFileSync(`${dir}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const slice = /se\.slice\s*:\s*(\d+)/.exec(Deno.readTextFileSync(`${dir}/sched`));
      return [{
        name: Deno.readTextFileSync(`${dir}/comm`).trim(),
        policy: Number(f[38]),
        nice: Number(f[16]),
        slice: slice ? Number(slice[1]) : NaN,
      }];
    } catch {
      return []; // the thread ended
    }
  });
}

async function agentPid(lab: VrrpLab, router: string): Promise<string> {
  const pids = (await lab.lab.exec(null, ["pgrep", "-f", `${lab.dir}/${router}.yaml`])).trim();
  return pids.split("\n").at(-1)!;
}

const isHelper = (name: string) => /^worker-\d+$/.test(name) || name.startsWith("V8 ");

Deno.test({
  name: "realtime_priority puts the VRRP threads in SCHED_RR, the helper threads stay niced",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("rt");
    const a = lab.startHaagent(
      "r1",
      CONFIG.replace("global:\n", "global:\n  realtime_priority: 20\n  checker_nice: 7\n"),
    );
    await lab.waitVip("r1", "10.77.0.50", 5000);
    await new Promise((r) => setTimeout(r, 1500));
    const ts = threads(await agentPid(lab, "r1"));
    const show = JSON.stringify(ts);
    assert(ts.filter((t) => !isHelper(t.name)).length > 1, show);
    assert(ts.some((t) => isHelper(t.name)), show);
    for (const t of ts) {
      if (isHelper(t.name)) assert(t.policy === 0 && t.nice === 7, show);
      else assert(t.policy === 2, show);
    }
    assert(a.log.some((l) => /realtime priority 20 \(SCHED_RR\)/.test(l)), a.log.join("\n"));
  },
});

Deno.test({
  name: "by default the VRRP threads ask for a 100 us slice and the helper threads run at nice 10",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("sl");
    lab.startHaagent("r1", CONFIG);
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    await new Promise((r) => setTimeout(r, 1500));
    const ts = threads(await agentPid(lab, "r1"));
    const show = JSON.stringify(ts);
    assert(ts.some((t) => isHelper(t.name)), show);
    for (const t of ts) {
      assertEquals(t.policy, 0, show);
      if (isHelper(t.name)) assertEquals(t.nice, 10, show);
      else assert(t.nice === 0 && t.slice === 100_000, show);
    }
  },
});

Deno.test({
  name: "adverts leave from the bound source, not an address the kernel would pick (a VIP)",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("sr");
    // A secondary address as unicast_src_ip: the kernel's own choice would be the primary.
    await lab.lab.exec("r1", ["ip", "addr", "add", "10.77.0.11/24", "dev", "eth0"]);
    const cap = await lab.capture("r1");
    const a = lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    version: 3
    unicast_src_ip: 10.77.0.11
    unicast_peers: [10.77.0.2]
    virtual_ipaddresses: [10.77.0.50/24]
  VI_2:
    interface: lo
    vrid: 52
    priority: 150
    advert_interval: 1s
    virtual_ipaddresses: [10.79.0.50/32]
`,
    );
    await lab.waitVip("r1", "10.77.0.50", 5000);
    await lab.waitVip("r1", "10.79.0.50", 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    const adverts = (await cap.stop()).filter((p) => p.vrid === 51);
    assert(adverts.length > 5, cap.raw());
    assertEquals([...new Set(adverts.map((p) => p.src))], ["10.77.0.11"], cap.raw());
    // On lo the instance hears its own adverts: from its own address they are ignored, where
    // from the VIP (the kernel's pick) each was answered at once, a storm.
    const st = (await lab.status(a))?.instances.find((i) => i.name === "VI_2");
    assert(st !== undefined && st.state === "MASTER", JSON.stringify(st));
    assert((st.stats["advertsSent"] ?? 0) < 20, JSON.stringify(st.stats));
  },
});
