/**
 * Shared helpers for the namespace benchmarks (failover, jitter): configurations for a
 * haagent or keepalived pair, line taps on tcpdump and `ip -ts monitor`, parsers for their
 * timestamped output, statistics, and per-process CPU and memory from /proc.
 *
 * Every timestamp here is wall-clock (CLOCK_REALTIME) milliseconds since the epoch, so that
 * tcpdump's kernel stamps, `ip -ts monitor` and this process's own clock can be compared.
 *
 * @module
 */
import { processCpuNs } from "../ffi/cputime.ts";
import type { Lab, LabProcess } from "../tests/helpers/netns.ts";
import { readLines, waitFor } from "../tests/helpers/netns.ts";
import type { RouterName } from "../tests/helpers/vrrp_lab.ts";

/** Wall-clock now in epoch milliseconds, with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The value at percentile `p` (0..100) of an ascending array (nearest rank); NaN if empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Summary statistics of a sample. */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** min / median / p99 / max / mean of `values` (NaN everywhere when empty). */
export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length === 0 ? NaN : s.reduce((a, b) => a + b, 0) / s.length;
  return {
    n: s.length,
    min: s[0] ?? NaN,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? NaN,
    mean,
  };
}

/** Formats milliseconds with `digits` decimals ("-" for NaN). */
export function fmtMs(ms: number, digits = 1): string {
  return Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : "-";
}

/** A VRRP setup shared by both routers of a pair. */
export interface PairSpec {
  version: 2 | 3;
  /** Advert interval; v2 needs whole seconds. */
  intervalMs: number;
  /** The VIP with its prefix, e.g. "10.77.0.50/24". */
  vip: string;
  vrid: number;
}

/** The protocol floor from the last master advert to takeover: 3 * interval + skew (ms). */
export function masterDownMs(spec: PairSpec, backupPriority: number): number {
  const skewMs = spec.version === 2
    ? ((256 - backupPriority) / 256) * 1000
    : ((256 - backupPriority) * spec.intervalMs) / 256;
  return 3 * spec.intervalMs + skewMs;
}

function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** haagent YAML for one router of a pair (v2 uses PASS auth, as the interop tests do). */
export function haagentYaml(router: RouterName, priority: number, spec: PairSpec): string {
  const lines = [
    "global:",
    `  router_id: ${router}`,
    `  vrrp_version: ${spec.version}`,
    "vrrp_instances:",
    "  VI_1:",
    "    interface: eth0",
    `    vrid: ${spec.vrid}`,
    `    priority: ${priority}`,
    `    advert_interval: ${durationText(spec.intervalMs)}`,
    `    virtual_ipaddresses: [${spec.vip}]`,
  ];
  if (spec.version === 2) lines.push("    authentication: { type: PASS, password: kabpass1 }");
  return lines.join("\n") + "\n";
}

/** keepalived.conf for one router of a pair, the same instance as haagentYaml. */
export function keepalivedConf(router: RouterName, priority: number, spec: PairSpec): string {
  const auth = spec.version === 2
    ? "  authentication {\n    auth_type PASS\n    auth_pass kabpass1\n  }\n"
    : "";
  return `global_defs {
  router_id ${router}
  vrrp_version ${spec.version}
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id ${spec.vrid}
  priority ${priority}
  advert_int ${spec.intervalMs / 1000}
${auth}  virtual_ipaddress {
    ${spec.vip}
  }
}
`;
}

/** A long-running command in a namespace whose stdout lines are collected as they come. */
export interface Tap {
  readonly lines: string[];
  readonly stderr: string[];
  /** Stops the command (SIGINT, then SIGKILL after 2 s) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts `args` in namespace `ns` of `lab` and collects its lines. With `readyOn`, waits until
 * a stderr line contains it (tcpdump's "listening on").
 */
export async function tap(
  lab: Lab,
  ns: string,
  args: string[],
  readyOn?: string,
): Promise<Tap> {
  const proc = lab.spawn(ns, args, { stdout: "piped", stderr: "piped" });
  const lines: string[] = [];
  const stderr: string[] = [];
  const outDone = readLines(proc.child.stdout, lines);
  const errDone = readLines(proc.child.stderr, stderr);
  if (readyOn !== undefined) {
    try {
      await waitFor(() => stderr.some((l) => l.includes(readyOn)), 10_000, 10);
    } catch {
      proc.kill("SIGKILL");
      throw new Error(`${args.join(" ")} did not start: ${stderr.join("\n")}`);
    }
  } else {
    // `ip monitor` prints nothing when ready: give it a moment to subscribe.
    await sleep(100);
  }
  return {
    lines,
    stderr,
    stop: async () => {
      proc.kill("SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 2000);
      await proc.child.status;
      clearTimeout(timer);
      await Promise.all([outDone, errDone]);
    },
  };
}

/** Starts tcpdump on the client's eth0 with link-level headers and microsecond stamps. */
export function tcpdump(lab: Lab, filter: string, ns = "c"): Promise<Tap> {
  return tap(lab, ns, [
    "tcpdump",
    "-l",
    "-n",
    "-e",
    "-tt",
    "--time-stamp-precision=micro",
    "-i",
    "eth0",
    filter,
  ], "listening on");
}

/** One frame printed by `tcpdump -n -e -tt`: a VRRP advert or an ARP packet. */
export type Frame =
  | { kind: "vrrp"; tMs: number; srcMac: string; src: string; vrid: number; priority: number }
  | { kind: "arp"; tMs: number; srcMac: string; op: "request" | "reply"; target: string };

const VRRP_LINE =
  /^(\d+\.\d+) ([0-9a-f:]{17}) > [0-9a-f:]{17}, ethertype IPv[46] \(0x[0-9a-f]+\), length \d+: ([0-9a-f.:]+) > [0-9a-f.:]+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/;
const ARP_LINE =
  /^(\d+\.\d+) ([0-9a-f:]{17}) > [0-9a-f:]{17}, ethertype ARP \(0x0806\), length \d+: (Request who-has|Reply) ([0-9.]+)/;

/** Parses tcpdump -n -e -tt lines into frames; other lines are skipped. */
export function parseFrames(lines: readonly string[]): Frame[] {
  const out: Frame[] = [];
  for (const l of lines) {
    let m = VRRP_LINE.exec(l);
    if (m) {
      out.push({
        kind: "vrrp",
        tMs: Number(m[1]) * 1000,
        srcMac: m[2]!,
        src: m[3]!,
        vrid: Number(m[4]),
        priority: Number(m[5]),
      });
      continue;
    }
    m = ARP_LINE.exec(l);
    if (m) {
      out.push({
        kind: "arp",
        tMs: Number(m[1]) * 1000,
        srcMac: m[2]!,
        op: m[3] === "Reply" ? "reply" : "request",
        target: m[4]!,
      });
    }
  }
  return out;
}

/** The epoch ms of an `ip -ts monitor` line ("[2026-11-22T01:21:28.968747] ..."), or null. */
export function ipTsMs(line: string): number | null {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\]/.exec(line);
  if (!m) return null;
  // No zone in the stamp: it is local time, which is how Date reads a zone-less date-time.
  const s = new Date(m[1]!).getTime();
  return Number.isFinite(s) ? s + Number(m[2]) / 1000 : null;
}

/** The first `ip -ts monitor` line after `afterMs` whose text matches `re`; its time or null. */
export function firstEventMs(lines: readonly string[], afterMs: number, re: RegExp): number | null {
  for (const l of lines) {
    const t = ipTsMs(l);
    if (t !== null && t >= afterMs && re.test(l)) return t;
  }
  return null;
}

/** CPU time (user + system) of a process, in ms, from /proc/PID/stat; NaN if gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** USER_HZ, 100 on every Linux build this project targets. */
const CLOCK_TICKS_PER_S = 100;

/** Resident set size of a process in MB (VmRSS), NaN if gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The pids of an agent's processes: haagent's one, keepalived's parent and VRRP child. */
export async function agentPids(
  a: { proc: LabProcess; vrrpPidFile?: string },
): Promise<number[]> {
  const pids = [a.proc.pid];
  if (a.vrrpPidFile !== undefined) {
    const file = a.vrrpPidFile;
    const child = await waitFor(
      async () => {
        try {
          const n = Number((await Deno.readTextFile(file)).trim());
          return n > 0 ? n : 0;
        } catch {
          return 0;
        }
      },
      10_000,
      20,
    );
    pids.push(child);
  }
  return pids;
}

/** A small seeded PRNG (mulberry32): numbers in [0, 1). */
export { rng } from "../tests/helpers/rng.ts";

/** The machine in one line: CPU model, cores, kernel. */
export function machine(): string {
  let cpu = "unknown CPU";
  try {
    const m = /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    if (m) cpu = m[1]!.trim();
  } catch { /* not Linux */ }
  return `${cpu}, ${navigator.hardwareConcurrency} cores, Linux ${Deno.osRelease()}, ` +
    `Deno ${Deno.version.deno}`;
}

/** A reading of the machine's CPU counters (`machineJiffies`). */
export interface MachineSample {
  busy: number;
  total: number;
  steal: number;
}

/** Busy and total jiffies of all CPUs (every process on the machine), from /proc/stat. */
export function machineJiffies(): MachineSample {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/).slice(1)
    .map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total, steal: f[7] ?? 0 };
}

/**
 * "machine busy B % (steal S %)" between two `machineJiffies()` readings: the share of both
 * cores used by every process, and the share the hypervisor gave to other guests (steal time:
 * this VM's vCPU was ready but not running, which delays any thread, realtime or not).
 */
export function machineLoad(
  m0: { busy: number; total: number; steal: number },
  m1: { busy: number; total: number; steal: number },
): string {
  const total = Math.max(1, m1.total - m0.total);
  return `machine busy ${(100 * (m1.busy - m0.busy) / total).toFixed(1)} % (steal ${
    (100 * (m1.steal - m0.steal) / total).toFixed(1)
  } %)`;
}

/** Advert timing of one sender. */
export interface IntervalStats {
  adverts: number;
  /** |interval - configured| in ms, ascending. */
  dev: number[];
  over2: number;
  /** Intervals longer than 1.5 x the configured one. */
  late: number;
}

/** Deviations of consecutive advert gaps from `intervalMs` (ascending), > 2 ms and > 1.5x counts. */
export function intervalStats(times: number[], intervalMs: number): IntervalStats {
  const dev: number[] = [];
  let late = 0;
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    dev.push(Math.abs(gap - intervalMs));
    if (gap > 1.5 * intervalMs) late++;
  }
  dev.sort((a, b) => a - b);
  return {
    adverts: times.length,
    dev,
    over2: dev.filter((d) => d > 2).length,
    late,
  };
}

/** "busy B %, steal S %, load L" over a window between two `machineJiffies()` readings. */
export function windowLoad(m0: MachineSample, m1: MachineSample): string {
  const total = Math.max(1, m1.total - m0.total);
  return `busy ${(100 * (m1.busy - m0.busy) / total).toFixed(0)} %, steal ${
    (100 * (m1.steal - m0.steal) / total).toFixed(1)
  } %, load ${Deno.loadavg()[0]!.toFixed(1)}`;
}

/**
 * CPU time (user + system) of a process in ms, to the nanosecond, every thread included (exited
 * ones too); NaN if the process is gone.
 */
export function processCpuMs(pid: number): number {
  try {
    return processCpuNs(pid) / 1e6;
  } catch {
    return NaN;
  }
}

/** A process's memory in kB: resident, anonymous resident, proportional set size. */
export interface ProcessMemory {
  rssKb: number;
  anonKb: number;
  pssKb: number;
}

/** VmRSS and RssAnon (/proc/PID/status) and Pss (smaps_rollup) of a process; NaN if gone. */
export function processMemory(pid: number): ProcessMemory {
  const field = (text: string, name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
    return m === null ? NaN : Number(m[1]);
  };
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rollup = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    return {
      rssKb: field(status, "VmRSS"),
      anonKb: field(status, "RssAnon"),
      pssKb: field(rollup, "Pss"),
    };
  } catch {
    return { rssKb: NaN, anonKb: NaN, pssKb: NaN };
  }
}
