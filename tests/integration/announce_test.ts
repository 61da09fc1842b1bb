/**
 * The announce table on real kernels, without a BGP speaker (tests/integration/bgp_test.ts has
 * the speakers): r1 and r2 run haagent with a VRRPv3 instance (100 ms adverts) and an anycast
 * virtual server checked on 127.0.0.1, both with `announce: true`. Reads table 198 with
 * `ip route`, the agents' status and metrics, and watches `ip monitor route` across a reload.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import {
  haveCommand,
  type LabProcess,
  netnsUnavailable,
  readLines,
  waitFor,
} from "../helpers/netns.ts";
import { selfCommand } from "../../lib/runtime/self.ts";
import { type Agent, type RouterName, VrrpLab } from "../helpers/vrrp_lab.ts";
import type { AnnounceStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`announce tests skipped: ${why}`);

const SERVER = new URL("./fixtures/check_server.ts", import.meta.url).pathname;
const VIP = "192.0.2.10";
const ANYCAST = "198.51.100.60";

function yaml(router: string, priority: number, extra = ""): string {
  return `global:
  router_id: ${router}
  vrrp_version: 3
  metrics: { listen: 127.0.0.1:19650 }
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 61
    priority: ${priority}
    advert_interval: 100ms
    announce: true
    virtual_ipaddresses: [${VIP}/32]
virtual_servers:
  - address: ${ANYCAST}:5300
    announce: true
    alpha: true
    delay_loop: 200ms
    real_servers:
      - address: 127.0.0.1:18053
        checks: [{ type: TCP_CHECK, connect_timeout: 300ms, retry: 0 }]
${extra}`;
}

/** Table 198 of a router as `ADDRESS dev DEV proto N` lines, sorted. */
async function table198(lab: VrrpLab, r: RouterName): Promise<string[]> {
  // `ip` fails while the table does not exist yet: that is an empty table.
  const out = (await lab.lab.tryExec(r, ["ip", "-o", "route", "show", "table", "198"])).stdout;
  return out.split("\n").filter(Boolean).map((l) => {
    const m = /^(\S+) dev (\S+) proto (\S+)/.exec(l.trim());
    return m ? `${m[1]} dev ${m[2]} proto ${m[3]}` : l.trim();
  }).sort();
}

/** Waits until table 198 of `r` reads `want`; fails with the table and the agents' logs. */
async function waitTable(
  lab: VrrpLab,
  r: RouterName,
  want: string[],
  agents: Agent[],
  timeoutMs = 8000,
): Promise<void> {
  try {
    await waitFor(async () => (await table198(lab, r)).join("|") === want.join("|"), timeoutMs);
  } catch {
    const logs = agents.map((a) => `--- ${a.router}\n${a.log.slice(-20).join("\n")}`).join("\n");
    throw new Error(
      `table 198 of ${r} is [${(await table198(lab, r)).join(", ")}], ` +
        `expected [${want.join(", ")}]\n${logs}`,
    );
  }
}

async function announce(lab: VrrpLab, a: Agent): Promise<AnnounceStatus | null> {
  return (await lab.status(a))?.announce ?? null;
}

function server(lab: VrrpLab, r: RouterName): LabProcess {
  return lab.lab.spawn(r, ["deno", "run", "-A", SERVER, "tcp", "18053"], { stdout: "piped" });
}

Deno.test({
  name: "announce: the VIP route follows MASTER, the anycast route its quorum, without IPVS; " +
    "status and metrics say why; SIGTERM withdraws all",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("an");
    const s1 = server(lab, "r1");
    const s2 = server(lab, "r2");
    const a1 = lab.startHaagent("r1", yaml("r1", 150));
    const a2 = lab.startHaagent("r2", yaml("r2", 100));
    await lab.waitState(a1, "MASTER", 20_000);
    await lab.waitState(a2, "BACKUP", 20_000);
    const both = [`${VIP} dev eth0 proto 248`, `${ANYCAST} dev lo proto 248`];
    await waitTable(lab, "r1", both, [a1, a2]);
    await waitTable(lab, "r2", [`${ANYCAST} dev lo proto 248`], [a1, a2]);
    const st = (await announce(lab, a1))!;
    assertEquals([st.table, st.protocol], [198, 248]);
    assertEquals(st.routes.map((r) => [r.prefix, r.device, r.announced, r.reasons]), [
      [`${VIP}/32`, "eth0", true, ["VI_1 MASTER"]],
      [`${ANYCAST}/32`, "lo", true, [
        `TCP ${ANYCAST}:5300 quorum up, 1/1 real servers up (weight 1, quorum 1)`,
      ]],
    ]);
    assertEquals((await announce(lab, a2))!.routes[0]!.reasons, ["VI_1 BACKUP"]);
    const text = await lab.lab.exec("r1", [
      Deno.execPath(),
      "eval",
      "console.log(await (await fetch('http://127.0.0.1:19650/metrics')).text())",
    ]);
    assertMatch(text, /^haagent_announce_route\{prefix="192.0.2.10\/32",table="198"\} 1$/m);
    assertMatch(
      text,
      /^haagent_announce_source_holds\{prefix="198.51.100.60\/32",source="TCP 198.51.100.60:5300"\} 1$/m,
    );
    if (haveCommand("promtool")) {
      const lint = new Deno.Command("promtool", {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = lint.stdin.getWriter();
      await w.write(new TextEncoder().encode(text.trimEnd() + "\n"));
      await w.close();
      const o = await lint.output();
      assert(o.success, new TextDecoder().decode(o.stderr) + new TextDecoder().decode(o.stdout));
    }
    const cli = await new Deno.Command(selfCommand()[0]!, {
      args: [...selfCommand().slice(1), "status", "--control", a1.control!],
      stdout: "piped",
    }).output();
    const cliText = new TextDecoder().decode(cli.stdout);
    assertMatch(cliText, /192\.0\.2\.10\/32\s+eth0\s+announced\s+VI_1 MASTER/);

    // The real server on r1 dies: r1 withdraws the anycast route, r2 keeps it.
    s1.kill("SIGKILL");
    await waitTable(lab, "r1", [`${VIP} dev eth0 proto 248`], [a1]);
    assertEquals(await table198(lab, "r2"), [`${ANYCAST} dev lo proto 248`]);
    const down = (await announce(lab, a1))!.routes[1]!;
    assertEquals(down.announced, false);
    assertMatch(down.reasons[0]!, /quorum down, 0\/1 real servers up/);
    // It comes back: announced again.
    const s1b = server(lab, "r1");
    await waitTable(lab, "r1", both, [a1]);

    // SIGTERM on the master: everything of ours leaves r1's table; r2 takes the VIP route.
    assertEquals(await lab.stop(a1), 0);
    assertEquals(await table198(lab, "r1"), []);
    await lab.waitState(a2, "MASTER", 20_000);
    await waitTable(lab, "r2", both, [a2]);
    s1b.kill("SIGKILL");
    s2.kill("SIGKILL");
  },
});

Deno.test({
  name: "announce: a reload that changes something else writes nothing to the table (no flap); " +
    "announce: false withdraws only that route",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ar");
    server(lab, "r1");
    const a1 = lab.startHaagent("r1", yaml("r1", 150));
    await lab.waitState(a1, "MASTER", 20_000);
    await waitFor(async () => (await table198(lab, "r1")).length === 2, 5000);
    const events: string[] = [];
    const mon = lab.lab.spawn("r1", ["ip", "monitor", "route"], { stdout: "piped" });
    void readLines(mon.child.stdout, events);
    await new Promise((r) => setTimeout(r, 300));
    // A new virtual server that does not announce, and a new real server for the old one.
    const file = `${lab.dir}/r1.yaml`;
    await Deno.writeTextFile(
      file,
      yaml(
        "r1",
        150,
        `  - address: 10.77.0.80:80
    real_servers: [{ address: 10.77.0.11:80 }]
`,
      ),
    );
    a1.proc.kill("SIGHUP");
    await waitFor(async () => (await lab.status(a1))?.reloads === 1, 5000);
    await new Promise((r) => setTimeout(r, 500));
    assertEquals(events.filter((l) => /table 198/.test(l)), [], "no route of table 198 moved");
    assertEquals((await table198(lab, "r1")).length, 2);
    // announce: false on the virtual server: its route goes, the VIP's stays untouched.
    await Deno.writeTextFile(file, yaml("r1", 150).replace("announce: true\n    alpha", "alpha"));
    a1.proc.kill("SIGHUP");
    await waitFor(async () => (await lab.status(a1))?.reloads === 2, 5000);
    await waitFor(async () => (await table198(lab, "r1")).length === 1, 5000);
    await new Promise((r) => setTimeout(r, 300));
    const moved = events.filter((l) => /table 198/.test(l));
    assertEquals(moved.length, 1, moved.join("\n"));
    assert(moved[0]!.startsWith(`Deleted ${ANYCAST} dev lo table 198 proto 248`), moved[0]);
    mon.kill("SIGTERM");
  },
});

Deno.test({
  name: "announce: SIGKILL leaves the routes; a restart that does not win removes them",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ak");
    const a1 = lab.startHaagent("r1", yaml("r1", 150));
    const a2 = lab.startHaagent("r2", yaml("r2", 100));
    await lab.waitState(a1, "MASTER", 20_000);
    await waitFor(async () => (await table198(lab, "r1")).length === 1, 5000);
    await lab.crash(a1);
    await lab.waitState(a2, "MASTER", 20_000);
    assertEquals(await table198(lab, "r1"), [`${VIP} dev eth0 proto 248`], "left behind");
    // Someone else's route in the same table is not ours to remove.
    await lab.lab.exec("r1", [
      "ip",
      "route",
      "add",
      "203.0.113.7/32",
      "dev",
      "lo",
      "table",
      "198",
      "proto",
      "static",
    ]);
    const b1 = lab.startHaagent("r1", yaml("r1", 50));
    await lab.waitState(b1, "BACKUP", 20_000);
    await waitFor(async () => (await table198(lab, "r1")).length === 1, 5000);
    assertEquals(await table198(lab, "r1"), ["203.0.113.7 dev lo proto static"]);
    assert(
      b1.log.some((l) => l.includes(`removing leftover route ${VIP}/32 from table 198`)),
      b1.log.join("\n"),
    );
  },
});

Deno.test({
  name: "announce: an IPv6 VIP is a /128 route in table 198 while MASTER, gone after SIGTERM",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("a6");
    const a1 = lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_6:
    interface: eth0
    vrid: 62
    priority: 150
    advert_interval: 100ms
    announce: true
    virtual_ipaddresses: [fd77::50/64]
`,
    );
    await lab.waitState(a1, "MASTER", 20_000);
    const routes6 = async () =>
      (await lab.lab.tryExec("r1", ["ip", "-6", "-o", "route", "show", "table", "198"])).stdout
        .split("\n").filter(Boolean).map((l) => l.replace(/\s+/g, " ").trim());
    await waitFor(async () => (await routes6()).length === 1, 8000);
    const [r] = await routes6();
    assert(r!.startsWith("fd77::50 dev eth0 proto 248"), r);
    assertEquals((await announce(lab, a1))!.routes[0]!.prefix, "fd77::50/128");
    assertEquals(await lab.stop(a1), 0);
    assertEquals(await routes6(), []);
  },
});
