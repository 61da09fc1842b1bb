/**
 * Advert timing at 10 ms (VRRPv3) on an idle machine, keepalived and haagent in one run. For each
 * kind a pair of the same kind runs in namespaces (r1 priority 150 master, r2 priority 100
 * backup); the client captures r1's adverts with `tcpdump -tt` (microsecond stamps) for the
 * soak, and reports the deviation of each advert interval from the configured one (p50 / p99 /
 * max, share off by more than 2 ms, intervals longer than 1.5x), false failovers (the backup
 * sent adverts as master, or haagent's backup counted a transition to MASTER), and the master's
 * CPU (utime + stime from /proc/PID/stat, keepalived's parent and VRRP child) and RSS. Prints
 * figures; asserts nothing.
 *
 *   deno run -A bench/jitter.ts [--minutes=2] [--interval-ms=10] [--kinds=keepalived,haagent]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Agent, ROUTERS, VrrpLab } from "../tests/helpers/vrrp_lab.ts";
import { haveCommand, netnsUnavailable } from "../tests/helpers/netns.ts";
import {
  agentPids,
  cpuMs,
  haagentYaml,
  intervalStats,
  keepalivedConf,
  machine,
  machineJiffies,
  masterDownMs,
  nowMs,
  type PairSpec,
  parseFrames,
  percentile,
  rssMb,
  sleep,
  tcpdump,
} from "./lib.ts";

type Kind = "keepalived" | "haagent";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "2" },
    "interval-ms": { type: "string", default: "10" },
    kinds: { type: "string", default: "keepalived,haagent" },
    /** SCHED_RR priority for haagent (global.realtime_priority); keepalived's is vrrp_rt_priority. */
    realtime: { type: "string" },
  },
});
const realtime = values.realtime === undefined
  ? ""
  : `  realtime_priority: ${Number(values.realtime)}\n`;
const soakMs = Number(values.minutes) * 60_000;
const spec: PairSpec = {
  version: 3,
  intervalMs: Number(values["interval-ms"]),
  vip: "10.77.0.50/24",
  vrid: 51,
};
const VIP = "10.77.0.50";

/** What one soak measured. */
interface Soak {
  kind: Kind;
  seconds: number;
  adverts: number;
  /** |interval - configured| in ms, ascending. */
  deviationsMs: number[];
  over2Ms: number;
  /** Intervals longer than 1.5 x the configured one (a missed or late advert). */
  late: number;
  /** Adverts the backup sent with a non-zero priority. */
  backupAdverts: number;
  /** Transitions to MASTER counted by haagent's backup (null for keepalived). */
  backupBecameMaster: number | null;
  /** Seconds in which the backup held the VIP (polled once a second). */
  backupVipSeconds: number;
  cpuMs: number;
  rssMb: number;
  captureDropped: string;
  /** Mean advert interval, ms. */
  meanIntervalMs: number;
  /** Share of both cores busy (all processes) during the soak, % (from /proc/stat). */
  machineBusyPct: number;
}

function start(vl: VrrpLab, kind: Kind, router: "r1" | "r2"): Agent {
  const prio = router === "r1" ? 150 : 100;
  return kind === "haagent"
    ? vl.startHaagent(
      router,
      haagentYaml(router, prio, spec).replace("global:\n", `global:\n${realtime}`),
    )
    : vl.startKeepalived(router, keepalivedConf(router, prio, spec));
}

async function soak(kind: Kind): Promise<Soak> {
  await using vl = await VrrpLab.create("bj");
  const master = start(vl, kind, "r1");
  const backup = start(vl, kind, "r2");
  await vl.waitVip("r1", VIP, masterDownMs(spec, 100) + 15_000);
  await vl.waitVip("r2", VIP, 5000, false);
  if (kind === "haagent") await vl.waitState(backup, "BACKUP", 5000);
  await sleep(2000);
  const becameMaster0 = kind === "haagent"
    ? (await vl.status(backup))?.instances[0]?.stats["becameMaster"] ?? 0
    : 0;
  const cap = await tcpdump(vl.lab, "ip proto 112");
  const pids = await agentPids(master);
  const cpu0 = pids.reduce((s, p) => s + cpuMs(p), 0);
  const m0 = machineJiffies();
  const t0 = nowMs();
  let backupVipSeconds = 0;
  while (nowMs() - t0 < soakMs) {
    await sleep(Math.min(1000, Math.max(0, soakMs - (nowMs() - t0))));
    if (await vl.hasVip("r2", VIP)) backupVipSeconds++;
  }
  const cpu1 = pids.reduce((s, p) => s + cpuMs(p), 0);
  const m1 = machineJiffies();
  const t1 = nowMs();
  const rss = pids.reduce((s, p) => s + rssMb(p), 0);
  const becameMaster1 = kind === "haagent"
    ? (await vl.status(backup))?.instances[0]?.stats["becameMaster"] ?? NaN
    : 0;
  await cap.stop();
  const frames = parseFrames(cap.lines);
  const times = frames.filter((f) => f.kind === "vrrp" && f.src === ROUTERS.r1.addr4)
    .map((f) => f.tMs);
  const st = intervalStats(times, spec.intervalMs);
  return {
    kind,
    seconds: (t1 - t0) / 1000,
    adverts: times.length,
    deviationsMs: st.dev,
    over2Ms: st.over2,
    late: st.late,
    backupAdverts:
      frames.filter((f) => f.kind === "vrrp" && f.src === ROUTERS.r2.addr4 && f.priority > 0)
        .length,
    backupBecameMaster: kind === "haagent" ? becameMaster1 - becameMaster0 : null,
    backupVipSeconds,
    cpuMs: cpu1 - cpu0,
    rssMb: rss,
    meanIntervalMs: times.length > 1 ? (times.at(-1)! - times[0]!) / (times.length - 1) : NaN,
    machineBusyPct: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
    captureDropped: cap.stderr.find((l) => l.includes("dropped by kernel"))?.trim() ?? "?",
  };
}

function report(s: Soak): void {
  const d = s.deviationsMs;
  const pct = d.length > 0 ? (100 * s.over2Ms) / d.length : NaN;
  const cpuPct = (100 * s.cpuMs) / (s.seconds * 1000);
  console.log(
    `\n${s.kind}: ${s.seconds.toFixed(0)} s, ${s.adverts} adverts captured ` +
      `(${(s.adverts / s.seconds).toFixed(1)}/s, mean interval ${s.meanIntervalMs.toFixed(3)} ` +
      `ms; tcpdump: ${s.captureDropped}); machine busy ${s.machineBusyPct.toFixed(1)} % ` +
      `(all processes, both cores)`,
  );
  console.log(
    `  interval deviation from ${spec.intervalMs} ms: p50 ${percentile(d, 50).toFixed(3)} ms, ` +
      `p99 ${percentile(d, 99).toFixed(3)} ms, max ${(d.at(-1) ?? NaN).toFixed(3)} ms; ` +
      `> 2 ms: ${s.over2Ms} (${pct.toFixed(3)} %); longer than 1.5x: ${s.late}`,
  );
  console.log(
    `  false failovers: backup adverts as master ${s.backupAdverts}, ` +
      `backup became MASTER ${s.backupBecameMaster ?? "n/a (keepalived)"}, ` +
      `seconds the backup held the VIP ${s.backupVipSeconds}`,
  );
  console.log(
    `  master CPU ${s.cpuMs.toFixed(0)} ms in ${s.seconds.toFixed(0)} s ` +
      `(${cpuPct.toFixed(2)} % of a core), RSS ${s.rssMb.toFixed(1)} MB`,
  );
}

async function main(): Promise<void> {
  const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
  if (why !== null) {
    console.log(`jitter bench skipped: ${why}`);
    return;
  }
  console.log(
    `jitter bench: VRRPv3 at ${spec.intervalMs} ms, ${values.minutes} min per kind, idle machine`,
  );
  console.log(`  ${new Date().toISOString()}, ${machine()}`);
  for (const k of values.kinds.split(",")) {
    if (k !== "keepalived" && k !== "haagent") continue;
    if (k === "keepalived" && !haveCommand("keepalived")) continue;
    try {
      report(await soak(k));
    } catch (e) {
      console.log(`${k}: failed: ${(e as Error).message.split("\n")[0]}`);
    }
  }
}

await main();
