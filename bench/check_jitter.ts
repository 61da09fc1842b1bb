/**
 * VRRP advert timing while the same haagent process runs many TCP checks (on its load-balancer
 * Worker thread, `lib/agent/lvs_worker.ts`; VRRP stays on the main thread). The master (r1,
 * priority 150, VRRPv3 at 10 ms) has one YAML config with the vrrp_instance and a
 * virtual_server whose `--servers` real servers (127.1.x.y:18000 on r1's loopback) each have a
 * TCP_CHECK every `--delay-loop-ms`, so the agent runs about servers / delay_loop checks per
 * second. An accept-and-close sink (bench/checks.ts --serve, another process in r1) counts the
 * connections. The backup (r2, priority 100) runs VRRP only. The client namespace captures r1's
 * adverts with `tcpdump -tt`; reported: the deviation of each advert interval from the
 * configured one (p50 / p99 / max), intervals > 1.5x, whether the backup ever became master,
 * checks/s seen by the sink, the master's CPU (utime + stime) and RSS. No IPVS on the host
 * kernel: the agent says so and the checks still run. Prints figures; asserts nothing.
 *
 * Side by side (unless `--keepalived=no` or keepalived is missing): a keepalived pair on the same
 * two routers, VRID 52 at the same 10 ms (with vrrp_rt_priority when `--realtime` is given), so
 * keepalived's VRRP process meets the same check load and the same machine in the same run. The
 * machine line includes steal time: the hypervisor running other guests delays every thread.
 *
 *   deno run -A bench/check_jitter.ts [--seconds=60] [--servers=0,1000] [--delay-loop-ms=100]
 *     [--interval-ms=10] [--realtime=PRIORITY] [--checker-nice=N] [--keepalived=no]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Agent, ROUTERS, VrrpLab } from "../tests/helpers/vrrp_lab.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../tests/helpers/netns.ts";
import {
  cpuMs,
  haagentYaml,
  type IntervalStats,
  intervalStats,
  keepalivedConf,
  machine,
  machineJiffies,
  machineLoad,
  masterDownMs,
  nowMs,
  type PairSpec,
  parseFrames,
  percentile,
  rssMb,
  sleep,
  tcpdump,
} from "./lib.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    servers: { type: "string", default: "0,1000" },
    "delay-loop-ms": { type: "string", default: "100" },
    "interval-ms": { type: "string", default: "10" },
    /** SCHED_RR priority for the master (global.realtime_priority). */
    realtime: { type: "string" },
    /** global.checker_nice of the master (the agent's default is 10). */
    "checker-nice": { type: "string" },
    keepalived: { type: "string", default: "yes" },
  },
});
const soakMs = Number(values.seconds) * 1000;
const delayLoopMs = Number(values["delay-loop-ms"]);
const spec: PairSpec = {
  version: 3,
  intervalMs: Number(values["interval-ms"]),
  vip: "10.77.0.50/24",
  vrid: 51,
};
const VIP = "10.77.0.50";
/** The keepalived pair beside it: another VRID on the same routers and link. */
const kaSpec: PairSpec = { ...spec, vip: "10.77.0.60/24", vrid: 52 };
const withKeepalived = values.keepalived !== "no" && haveCommand("keepalived");
const SINK_PORT = 18000;
const realtime =
  (values.realtime === undefined ? "" : `  realtime_priority: ${Number(values.realtime)}\n`) +
  (values["checker-nice"] === undefined
    ? ""
    : `  checker_nice: ${Number(values["checker-nice"])}\n`);
const SINK = new URL("./checks.ts", import.meta.url).pathname;

/** The i-th real server address: 127.1.0.1 ... on r1's loopback, where the sink listens. */
function realServer(i: number): string {
  return `127.${1 + Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
}

/** The master's YAML: the VRRP pair's instance plus `servers` TCP-checked real servers. */
function masterYaml(servers: number): string {
  const base = haagentYaml("r1", 150, spec).replace(
    "global:\n",
    `global:\n${realtime}`,
  );
  if (servers === 0) return base;
  const lines = [
    "virtual_servers:",
    "  - address: 10.77.0.50:80",
    "    protocol: TCP",
    "    scheduler: rr",
    `    delay_loop: ${delayLoopMs}ms`,
    "    real_servers:",
  ];
  for (let i = 0; i < servers; i++) {
    lines.push(
      `      - address: ${realServer(i)}:${SINK_PORT}`,
      "        checks: [{ type: TCP_CHECK, connect_timeout: 1s, retry: 0 }]",
    );
  }
  return base + lines.join("\n") + "\n";
}

/** Collects a process's stdout lines. */
function lines(stream: ReadableStream<Uint8Array>, out: string[]): void {
  (async () => {
    let rest = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      const parts = rest.split("\n");
      rest = parts.pop() ?? "";
      out.push(...parts);
    }
  })().catch(() => {});
}

function accepted(out: readonly string[]): number {
  for (let i = out.length - 1; i >= 0; i--) {
    const m = /^accepted (\d+)$/.exec(out[i]!);
    if (m) return Number(m[1]);
  }
  return 0;
}

function statsText(s: IntervalStats): string {
  return `p50 ${percentile(s.dev, 50).toFixed(3)} ms, p99 ${
    percentile(s.dev, 99).toFixed(3)
  } ms, ` +
    `max ${(s.dev.at(-1) ?? NaN).toFixed(3)} ms; > 2 ms: ${s.over2} (${
      (100 * s.over2 / Math.max(1, s.dev.length)).toFixed(2)
    } %); longer than 1.5x: ${s.late}`;
}

async function becameMaster(vl: VrrpLab, a: Agent): Promise<number> {
  return (await vl.status(a))?.instances[0]?.stats["becameMaster"] ?? NaN;
}

async function soak(servers: number): Promise<void> {
  await using vl = await VrrpLab.create("cj");
  const sinkOut: string[] = [];
  const sink = vl.lab.spawn("r1", [
    Deno.execPath(),
    "run",
    "-A",
    "--no-check",
    SINK,
    `--serve=${SINK_PORT}`,
    "--host=0.0.0.0",
  ], { stdout: "piped" });
  lines(sink.child.stdout, sinkOut);
  await waitFor(() => Promise.resolve(sinkOut.includes("ready")), 30_000);
  const master = vl.startHaagent("r1", masterYaml(servers));
  const backup = vl.startHaagent("r2", haagentYaml("r2", 100, spec));
  await vl.waitVip("r1", VIP, masterDownMs(spec, 100) + 30_000);
  await vl.waitState(backup, "BACKUP", 10_000);
  if (withKeepalived) {
    const rt = values.realtime === undefined
      ? ""
      : `  vrrp_rt_priority ${Number(values.realtime)}\n`;
    const conf = (r: "r1" | "r2", prio: number) =>
      keepalivedConf(r, prio, kaSpec).replace(
        "global_defs {\n",
        `global_defs {\n${rt}`,
      );
    vl.startKeepalived("r1", conf("r1", 150));
    vl.startKeepalived("r2", conf("r2", 100));
    await vl.waitVip(
      "r1",
      kaSpec.vip.split("/")[0]!,
      masterDownMs(kaSpec, 100) + 30_000,
    );
  }
  // Every checker has had its first round (warmup spreads them over one delay_loop).
  await sleep(Math.max(3000, 3 * delayLoopMs));
  const bm0 = await becameMaster(vl, backup);
  const cap = await tcpdump(vl.lab, "ip proto 112");
  const cpu0 = cpuMs(master.proc.pid);
  const acc0 = accepted(sinkOut);
  const m0 = machineJiffies();
  const t0 = nowMs();
  let backupVipSeconds = 0;
  while (nowMs() - t0 < soakMs) {
    await sleep(Math.min(1000, Math.max(0, soakMs - (nowMs() - t0))));
    if (await vl.hasVip("r2", VIP)) backupVipSeconds++;
  }
  const cpu1 = cpuMs(master.proc.pid);
  const acc1 = accepted(sinkOut);
  const m1 = machineJiffies();
  const t1 = nowMs();
  const rss = rssMb(master.proc.pid);
  const bm1 = await becameMaster(vl, backup);
  const st = await vl.status(master);
  await cap.stop();
  const seconds = (t1 - t0) / 1000;
  const rs = st?.virtualServers[0]?.realServers ?? [];
  const downReasons = [...new Set(rs.filter((r) => !r.up).map((r) => r.reason))]
    .slice(0, 3);
  const frames = parseFrames(cap.lines);
  const advertTimes = (vrid: number, src: string) =>
    frames.filter((f) => f.kind === "vrrp" && f.vrid === vrid && f.src === src)
      .map((f) => f.tMs);
  const ha = intervalStats(advertTimes(spec.vrid, ROUTERS.r1.addr4), spec.intervalMs);
  const ka = intervalStats(advertTimes(kaSpec.vrid, ROUTERS.r1.addr4), kaSpec.intervalMs);
  const backupAdverts =
    frames.filter((f) =>
      f.kind === "vrrp" && f.vrid === spec.vrid && f.src === ROUTERS.r2.addr4 &&
      f.priority > 0
    ).length;
  const kaBackupAdverts = frames.filter((f) =>
    f.kind === "vrrp" && f.vrid === kaSpec.vrid &&
    f.src === ROUTERS.r2.addr4 && f.priority > 0
  ).length;
  console.log(
    `\n${servers} real servers, delay_loop ${delayLoopMs} ms: ${seconds.toFixed(0)} s, ` +
      `${ha.adverts} adverts (${(ha.adverts / seconds).toFixed(1)}/s); ` +
      `sink accepted ${((acc1 - acc0) / seconds).toFixed(0)} checks/s; ` +
      `real servers up ${rs.filter((r) => r.up).length}/${rs.length}` +
      (downReasons.length > 0 ? ` (down: ${downReasons.join("; ")})` : ""),
  );
  console.log(
    `  haagent advert interval deviation from ${spec.intervalMs} ms: ${statsText(ha)}`,
  );
  console.log(
    `  haagent backup: became MASTER ${bm1 - bm0} times, adverts as master ${backupAdverts}, ` +
      `held the VIP ${backupVipSeconds} s`,
  );
  if (withKeepalived) {
    const ratio = percentile(ha.dev, 99) /
      Math.max(1e-3, percentile(ka.dev, 99));
    console.log(
      `  keepalived (VRID ${kaSpec.vrid}, same routers, same run): ${ka.adverts} adverts, ` +
        `deviation ${statsText(ka)}; ` +
        `its backup's adverts as master ${kaBackupAdverts}; haagent/keepalived p99 ${
          ratio.toFixed(2)
        }x`,
    );
  }
  console.log(
    `  master CPU ${(100 * (cpu1 - cpu0) / (t1 - t0)).toFixed(1)} % of a core, RSS ${
      rss.toFixed(0)
    } MB; ${machineLoad(m0, m1)} (all processes, both cores)` +
      `; tcpdump: ${cap.stderr.find((l) => l.includes("dropped by kernel"))?.trim() ?? "?"}`,
  );
}

async function main(): Promise<void> {
  const why = netnsUnavailable() ??
    (haveCommand("tcpdump") ? null : "tcpdump is not installed");
  if (why !== null) {
    console.log(`check jitter bench skipped: ${why}`);
    return;
  }
  console.log(
    `check jitter bench: VRRPv3 at ${spec.intervalMs} ms with TCP checks in the same process ` +
      `(load-balancer worker thread), ` +
      `${values.seconds} s per row` +
      (values.realtime === undefined ? "" : `, master realtime_priority ${values.realtime}`) +
      (values["checker-nice"] === undefined ? "" : `, checker_nice ${values["checker-nice"]}`),
  );
  console.log(`  ${new Date().toISOString()}, ${machine()}`);
  for (const n of values.servers.split(",").map(Number)) {
    try {
      await soak(n);
    } catch (e) {
      console.log(
        `${n} servers: failed: ${(e as Error).message.split("\n")[0]}`,
      );
    }
  }
}

await main();
