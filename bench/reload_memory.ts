/**
 * What reloads of a large file cost a running agent (issue 11 item 1): RSS and anonymous memory
 * (/proc/PID/smaps_rollup) after 1, 5 and 20 reloads of 1,000 virtual servers x 10 real servers,
 * the reload latency (SIGHUP -> "reloaded" in the log) and the worst advert gap in each reload
 * window. One master (VRRPv3, 100 ms) in namespaces, its file generated as keepalived.conf and
 * imported; each reload changes every real server's weight. The host has no IPVS: the
 * load-balancer thread runs without programming. Runs each agent given, in turn, `--rounds`
 * times (alternating, so that both see the same machine), and prints the machine's load and
 * steal for each run. Asserts nothing.
 *
 *   deno run -A bench/reload_memory.ts [--agents=LABEL=CMD,...] [--reloads=20] [--rounds=1]
 *
 * CMD is a compiled binary (`dist/haagent`) or a main.ts, run with the V8 flags of this
 * checkout's `deno task start`; the default is this checkout's main.ts.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { ROUTERS, VrrpLab } from "../tests/helpers/vrrp_lab.ts";
import { haveCommand, netnsUnavailable, readLines, waitFor } from "../tests/helpers/netns.ts";
import { type BigConfig, bigHaagentYaml } from "../tests/helpers/big_config.ts";
import { machine, machineJiffies, machineLoad, nowMs, parseFrames, sleep, tcpdump } from "./lib.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    agents: { type: "string", default: "" },
    reloads: { type: "string", default: "20" },
    rounds: { type: "string", default: "1" },
    services: { type: "string", default: "1000" },
    servers: { type: "string", default: "10" },
  },
});
const RELOADS = Number(values.reloads);
const CHECKPOINTS = [1, 5, 20, 50, 100].filter((n) => n <= RELOADS);
const VIP = "10.77.0.51";

/** The V8 flags of `deno task start` (the compiled binary has them built in). */
function startFlags(): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url))).tasks;
  return String(tasks?.start ?? "").split(/\s+/).filter((a) => a.startsWith("--v8-flags="));
}

/** The command that runs one agent. */
function command(spec: string): string[] {
  if (spec.endsWith(".ts")) return [Deno.execPath(), "run", "-A", ...startFlags(), spec];
  return [spec];
}

/** Memory of one process, MB: RSS and anonymous from smaps_rollup. */
function memory(pid: number): { rss: number; anon: number } {
  const t = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? NaN);
  return { rss: kb("Rss") / 1024, anon: kb("Anonymous") / 1024 };
}

interface Run {
  label: string;
  start: { rss: number; anon: number };
  at: Map<number, { rss: number; anon: number }>;
  latencyMs: number[];
  gapMs: number[];
  load: string;
}

async function runOne(label: string, cmd: string[]): Promise<Run> {
  await using vl = await VrrpLab.create("rm");
  const big = (variant: number): BigConfig => ({
    router: "r1",
    priority: 150,
    vrid: 51,
    vip: `${VIP}/24`,
    version: 3,
    advertIntervalMs: 100,
    services: Number(values.services),
    servers: Number(values.servers),
    variant,
  });
  const files: string[] = [];
  for (let v = 0; v < 5; v++) files.push(await bigHaagentYaml(big(v), vl.dir));
  const file = `${vl.dir}/r1.yaml`;
  await Deno.writeTextFile(file, files[0]!);
  const log: string[] = [];
  const proc = vl.lab.spawn("r1", [
    ...cmd,
    "--config",
    file,
    "--control",
    `${vl.dir}/r1.sock`,
    "--pid-file",
    `${vl.dir}/r1.pid`,
  ], { stderr: "piped" });
  void readLines(proc.child.stderr, log);
  await vl.waitVip("r1", VIP, 120_000);
  await sleep(3000);
  const pid = proc.pid;
  const start = memory(pid);
  const m0 = machineJiffies();
  const cap = await tcpdump(vl.lab, "ip proto 112");
  await sleep(500);
  const at = new Map<number, { rss: number; anon: number }>();
  const latencyMs: number[] = [];
  const windows: { from: number; to: number }[] = [];
  const reloaded = () => log.filter((l) => l.includes("reloaded ")).length;
  for (let k = 1; k <= RELOADS; k++) {
    await Deno.writeTextFile(file, files[k % files.length]!);
    const before = reloaded();
    const from = nowMs();
    proc.kill("SIGHUP");
    await waitFor(() => reloaded() > before, 120_000, 5).catch(() => {
      throw new Error(`${label}: reload ${k} not logged:\n${log.slice(-10).join("\n")}`);
    });
    latencyMs.push(nowMs() - from);
    // The load-balancer thread applies the weights after the log line: let it finish.
    await sleep(1500);
    windows.push({ from, to: nowMs() });
    if (CHECKPOINTS.includes(k)) at.set(k, memory(pid));
  }
  const m1 = machineJiffies();
  await cap.stop();
  const mine = parseFrames(cap.lines).filter((f) => f.kind === "vrrp" && f.src === ROUTERS.r1.addr4)
    .map((f) => f.tMs);
  const gapMs = windows.map((w) => {
    let worst = 0;
    for (let i = 1; i < mine.length; i++) {
      if (mine[i]! >= w.from && mine[i - 1]! <= w.to) {
        worst = Math.max(worst, mine[i]! - mine[i - 1]!);
      }
    }
    return worst;
  });
  proc.kill("SIGTERM");
  await proc.output();
  return { label, start, at, latencyMs, gapMs, load: machineLoad(m0, m1) };
}

if (import.meta.main) {
  const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
  if (why !== null) {
    console.log(`reload_memory: skipped (${why})`);
    Deno.exit(0);
  }
  const here = fileURLToPath(new URL("../main.ts", import.meta.url));
  const agents = (values.agents === "" ? `this=${here}` : values.agents).split(",").map((s) => {
    const i = s.indexOf("=");
    return { label: s.slice(0, i), cmd: command(s.slice(i + 1)) };
  });
  console.log(machine());
  console.log(
    `${RELOADS} reloads of ${values.services} x ${values.servers}, VRRPv3 at 100 ms; ` +
      `memory of the agent's process (smaps_rollup), MB`,
  );
  const f = (n: number) => n.toFixed(1);
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const a of agents) {
      const r = await runOne(a.label, a.cmd);
      const mem = [`start ${f(r.start.rss)}/${f(r.start.anon)}`];
      for (const [k, m] of r.at) mem.push(`${k}: ${f(m.rss)}/${f(m.anon)}`);
      const lat = sorted(r.latencyMs), gap = sorted(r.gapMs);
      console.log(
        `round ${round} ${r.label}: RSS/anon ${mem.join(", ")}; reload latency ms p50 ` +
          `${f(lat[Math.floor(lat.length / 2)]!)} max ${f(lat.at(-1)!)} (first ${
            f(r.latencyMs[0]!)
          }); worst advert gap per reload ms p50 ${f(gap[Math.floor(gap.length / 2)]!)} max ${
            f(gap.at(-1)!)
          }; ${r.load}`,
      );
    }
  }
}
