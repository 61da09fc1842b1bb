/**
 * File descriptors (issue 11 item 4, and the control connection limits of item 7), in
 * namespaces with a haagent backup beside: with the master's open-files limit cut to what it
 * already holds (prlimit), the control socket and /metrics still answer and recover for good
 * (the control accept loop used to end at the first EMFILE, and Deno.serve's with an uncaught
 * error), and the track script that cannot be spawned keeps its last result (it used to flip
 * MASTER to FAULT); 3,000 idle control connections hold at most 32 descriptors, each closed after
 * 5 s; and a track script whose child holds its stdout leaks no descriptor over 20 s.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type Agent, VrrpLab } from "../helpers/vrrp_lab.ts";
import { controlRequest } from "../../lib/runtime/control.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable() ??
  (haveCommand("prlimit") && haveCommand("python3") ? null : "prlimit or python3 missing");
if (why !== null) console.log(`fd pressure tests skipped: ${why}`);
const ignore = why !== null;

const VIP = "10.77.0.95";

function yaml(prio: number, script: string, metrics: boolean): string {
  return `global:
  vrrp_version: 3
${metrics ? "  metrics: { listen: 127.0.0.1:19651 }\n" : ""}scripts:
  chk:
    command: ${script}
    interval: 300ms
    timeout: 5s
    weight: 0
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 95
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP}/24]
    track_scripts: [chk]
`;
}

function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

/** Sets the soft open-files limit of `pid` (the hard one stays). */
async function prlimit(lab: VrrpLab, pid: number, soft: number): Promise<void> {
  await lab.lab.exec(null, ["prlimit", "--pid", String(pid), `--nofile=${soft}:`]);
}

/** GET /metrics inside r1's namespace: the status code, or the error. */
async function metrics(lab: VrrpLab): Promise<string> {
  const o = await lab.lab.tryExec("r1", [
    "python3",
    "-c",
    "import urllib.request as u\ntry:\n print(u.urlopen('http://127.0.0.1:19651/metrics'," +
    " timeout=3).status)\nexcept Exception as e:\n print('error', e)",
  ]);
  return o.stdout.trim();
}

async function status(a: Agent): Promise<AgentStatus | string> {
  try {
    return await controlRequest(a.control!, { cmd: "status" }, 3000) as AgentStatus;
  } catch (e) {
    return (e as Error).message;
  }
}

Deno.test({
  name:
    "fd pressure: control socket and metrics survive EMFILE; a script not spawned keeps its result",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("fd");
    const r1 = lab.startHaagent("r1", yaml(150, "/bin/true", true));
    await lab.waitState(r1, "MASTER", 20_000);
    const r2 = lab.startHaagent("r2", yaml(100, "/bin/true", false));
    await lab.waitState(r2, "BACKUP", 20_000);
    assertEquals(await metrics(lab), "200");
    const pid = r1.proc.pid;
    const limits = await lab.lab.exec(null, [
      "prlimit",
      "--pid",
      String(pid),
      "--nofile",
      "-o",
      "SOFT,HARD",
      "--noheadings",
    ]);
    const [soft, hard] = limits.trim().split(/\s+/);
    const before = r1.log.length;
    // Not one descriptor more than it holds now.
    await prlimit(lab, pid, fdCount(pid));
    let underPressure: string;
    try {
      // Status answers: the accept loop frees its spare descriptor for the connection.
      const st = await status(r1);
      assert(
        typeof st !== "string",
        `status under EMFILE: ${st}\n${r1.log.slice(before).join("\n")}`,
      );
      assertEquals(st.instances[0]?.state, "MASTER");
      // Idle clients take what can be freed; they are closed after 5 s and the loop goes on.
      const idle: Deno.UnixConn[] = [];
      for (let i = 0; i < 10; i++) {
        idle.push(await Deno.connect({ transport: "unix", path: r1.control! }));
      }
      await new Promise((r) => setTimeout(r, 3000));
      for (const c of idle) c.close();
      await waitFor(async () => typeof (await status(r1)) !== "string", 10_000);
      // The script cannot be spawned: the instance stays MASTER, its last result kept.
      const again = await status(r1) as AgentStatus;
      assertEquals(again.instances[0]?.state, "MASTER");
      assert(again.tracked.some((t) => t.name === "chk" && t.up), JSON.stringify(again.tracked));
      underPressure = await metrics(lab);
    } finally {
      await lab.lab.exec(null, ["prlimit", "--pid", String(pid), `--nofile=${soft}:${hard}`]);
    }
    console.log(`under EMFILE: status answered, /metrics: ${underPressure}`);
    const logged = r1.log.slice(before);
    assert(
      logged.some((l) =>
        l.includes("cannot accept a connection") && l.includes("Too many open files")
      ),
      logged.join("\n"),
    );
    assert(
      logged.some((l) => l.includes("script chk could not be started")),
      logged.join("\n"),
    );
    // Recovered for good.
    await waitFor(async () => typeof (await status(r1)) !== "string", 5000);
    await waitFor(async () => (await metrics(lab)) === "200", 5000);
    const st = await status(r1) as AgentStatus;
    assertEquals(st.instances[0]?.state, "MASTER");
    assert(!r1.log.some((l) => l.includes("-> FAULT")), r1.log.join("\n"));
    assertEquals((await lab.status(r2))?.instances[0]?.state, "BACKUP");
  },
});

Deno.test({
  name: "fd pressure: 3,000 idle control connections hold at most 32 descriptors, 5 s each",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("fc");
    const r1 = lab.startHaagent("r1", yaml(150, "/bin/true", false));
    await lab.waitState(r1, "MASTER", 20_000);
    const pid = r1.proc.pid;
    const base = fdCount(pid);
    const conns: Deno.UnixConn[] = [];
    let failed = 0;
    for (let i = 0; i < 3000; i++) {
      try {
        conns.push(await Deno.connect({ transport: "unix", path: r1.control! }));
      } catch {
        failed++;
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
    const held = fdCount(pid) - base;
    console.log(
      `3,000 idle connections (${failed} refused by the kernel): agent holds ${held} more fds`,
    );
    // 32 connections, plus what the track script takes while it runs.
    assert(held <= 40, `${held} descriptors held for idle clients`);
    // After the request timeout every idle one is closed; status answers again.
    await new Promise((r) => setTimeout(r, 6000));
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await waitFor(async () => typeof (await status(r1)) !== "string", 10_000);
    await waitFor(() => fdCount(pid) <= base + 2, 10_000);
  },
});

Deno.test({
  name: "fd pressure: a track script whose child holds its stdout leaks nothing in 20 s",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("fl");
    const script = `${lab.dir}/bg.sh`;
    await Deno.writeTextFile(script, "#!/bin/sh\nsetsid sleep 60 &\nexit 0\n", { mode: 0o755 });
    const r1 = lab.startHaagent("r1", yaml(150, script, false));
    await lab.waitState(r1, "MASTER", 20_000);
    await new Promise((r) => setTimeout(r, 2000));
    const pid = r1.proc.pid;
    // The fewest over a second: a run in flight holds its pipe for a moment.
    const settled = async () => {
      let least = Infinity;
      for (let i = 0; i < 20; i++) {
        least = Math.min(least, fdCount(pid));
        await new Promise((r) => setTimeout(r, 50));
      }
      return least;
    };
    const start = await settled();
    await new Promise((r) => setTimeout(r, 20_000));
    const end = await settled();
    console.log(`track script with a setsid child every 300 ms, 20 s: fds ${start} -> ${end}`);
    assert(end - start <= 2, `descriptors ${start} -> ${end}`);
    assertEquals((await lab.status(r1))?.instances[0]?.state, "MASTER");
  },
});
