/**
 * What the advert gaps during a reload are made of (issue 11 item 1): one haagent master
 * (VRRPv3, 100 ms, 1,000 virtual servers x 10 real servers, imported from keepalived.conf) in
 * namespaces reloads `--reloads` times; the client captures its adverts while this process
 * samples the agent's VRRP thread (the main thread) every 2 ms from /proc (schedstat: time on
 * a CPU, time runnable but waiting for one) and the agent logs V8's garbage collections
 * (`--trace-gc`). For every gap between adverts longer than `--over` ms it prints how much of it
 * the VRRP thread spent running (JavaScript or garbage collection on its own thread: the loop is
 * blocked), waiting for a CPU (starved by other threads or processes), or asleep (neither: the
 * loop was idle, e.g. a timer not yet due), the main isolate's GC pauses inside the gap, and the
 * run queue of the machine. Asserts nothing.
 *
 *   deno run -A bench/reload_gap_profile.ts [--reloads=5] [--over=150] [--main=PATH/main.ts]
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
    reloads: { type: "string", default: "5" },
    over: { type: "string", default: "150" },
    main: { type: "string", default: fileURLToPath(new URL("../main.ts", import.meta.url)) },
    extra: { type: "string", default: "" },
  },
});

interface Sample {
  tMs: number;
  /** Main thread: ns on a CPU, ns waiting on a run queue (cumulative). */
  runNs: number;
  waitNs: number;
  /** Runnable tasks on the machine (from /proc/loadavg). */
  runnable: number;
  /** Main thread: state letter (R, S, D) and the kernel function it sleeps in (wchan). */
  state: string;
  wchan: string;
  /** Every thread: name, nice and cumulative ns waiting for a CPU, by thread id. */
  threads: Map<string, { name: string; nice: number; waitNs: number }>;
}

/** x86-64 numbers of the syscalls a sleeping thread is likely in. */
const SYSCALLS: Record<string, string> = {
  "202": "futex",
  "232": "epoll_wait",
  "281": "epoll_pwait",
  "441": "epoll_pwait2",
  "9": "mmap",
  "11": "munmap",
  "10": "mprotect",
  "28": "madvise",
  "0": "read",
  "1": "write",
  "running": "running",
};

function sample(pid: number): Sample | null {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/schedstat`).trim().split(/\s+/);
    const la = Deno.readTextFileSync("/proc/loadavg").split(/\s+/)[3]!.split("/")[0]!;
    const st = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/stat`);
    const state = st.slice(st.lastIndexOf(")") + 2, st.lastIndexOf(")") + 3);
    const sys = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/syscall`).split(" ")[0]!.trim();
    const wchan = (Deno.readTextFileSync(`/proc/${pid}/task/${pid}/wchan`).trim() || "-") +
      `/${SYSCALLS[sys] ?? sys}`;
    const threads = new Map<string, { name: string; nice: number; waitNs: number }>();
    for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const d = `/proc/${pid}/task/${e.name}`;
        const ts = Deno.readTextFileSync(`${d}/stat`);
        const nice = Number(ts.slice(ts.lastIndexOf(")") + 2).split(" ")[16]);
        const w = Number(Deno.readTextFileSync(`${d}/schedstat`).split(" ")[1]);
        threads.set(e.name, { name: Deno.readTextFileSync(`${d}/comm`).trim(), nice, waitNs: w });
      } catch { /* the thread ended */ }
    }
    return {
      threads,
      tMs: nowMs(),
      runNs: Number(s[0]),
      waitNs: Number(s[1]),
      runnable: Number(la),
      state,
      wchan,
    };
  } catch {
    return null;
  }
}

/** Value of a cumulative counter at time t, interpolated between samples. */
function at(samples: Sample[], t: number, key: "runNs" | "waitNs"): number {
  let i = samples.findIndex((s) => s.tMs >= t);
  if (i < 0) i = samples.length - 1;
  if (i === 0) return samples[0]![key];
  const a = samples[i - 1]!, b = samples[i]!;
  const f = b.tMs === a.tMs ? 1 : Math.min(1, Math.max(0, (t - a.tMs) / (b.tMs - a.tMs)));
  return a[key] + f * (b[key] - a[key]);
}

if (import.meta.main) {
  const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
  if (why !== null) {
    console.log(`reload_gap_profile: skipped (${why})`);
    Deno.exit(0);
  }
  console.log(machine());
  const RELOADS = Number(values.reloads);
  await using vl = await VrrpLab.create("rp");
  const big = (variant: number): BigConfig => ({
    router: "r1",
    priority: 150,
    vrid: 51,
    vip: "10.77.0.51/24",
    version: 3,
    advertIntervalMs: 100,
    services: 1000,
    servers: 10,
    variant,
  });
  const files: string[] = [];
  for (let v = 0; v <= RELOADS; v++) files.push(await bigHaagentYaml(big(v), vl.dir));
  const file = `${vl.dir}/r1.yaml`;
  await Deno.writeTextFile(file, files[0]!);
  const log: string[] = [];
  const gcLines: { tMs: number; line: string }[] = [];
  const flags = ["--v8-flags=--trace-gc" + (values.extra ? `,${values.extra}` : "")];
  // V8 prints the GC lines through C stdio: line-buffered by stdbuf, they arrive when printed.
  const proc = vl.lab.spawn("r1", [
    ...(haveCommand("stdbuf") ? ["stdbuf", "-oL"] : []),
    Deno.execPath(),
    "run",
    "-A",
    ...flags,
    values.main,
    "--config",
    file,
    "--control",
    `${vl.dir}/r1.sock`,
    "--pid-file",
    `${vl.dir}/r1.pid`,
  ], { stderr: "piped", stdout: "piped" });
  void readLines(proc.child.stderr, log);
  // --trace-gc prints on stdout: "[pid:isolate:0x...] 1234 ms: Scavenge ... 1.2 / 0.0 ms ...".
  void readLines(proc.child.stdout, [], (line) => gcLines.push({ tMs: nowMs(), line }));
  await vl.waitVip("r1", "10.77.0.51", 120_000);
  await sleep(3000);
  const pid = proc.pid;
  const samples: Sample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = sample(pid);
      if (s !== null) samples.push(s);
      await sleep(2);
    }
  })();
  const cap = await tcpdump(vl.lab, "ip proto 112");
  const m0 = machineJiffies();
  await sleep(1000);
  const windows: { from: number; to: number; loggedMs: number }[] = [];
  const reloaded = () => log.filter((l) => l.includes("reloaded ")).length;
  for (let k = 1; k <= RELOADS; k++) {
    await Deno.writeTextFile(file, files[k]!);
    const before = reloaded();
    const from = nowMs();
    proc.kill("SIGHUP");
    await waitFor(() => reloaded() > before, 120_000, 5);
    const loggedMs = nowMs() - from;
    await sleep(2000);
    windows.push({ from, to: nowMs(), loggedMs });
  }
  const m1 = machineJiffies();
  await cap.stop();
  sampling = false;
  await sampler;
  const adverts = parseFrames(cap.lines).filter((f) =>
    f.kind === "vrrp" && f.src === ROUTERS.r1.addr4
  ).map((f) => f.tMs);
  // The main isolate is the first to log a GC (the agent's modules load there first).
  const isolate = /\[\d+:(0x[0-9a-f]+)\]/.exec(gcLines[0]?.line ?? "")?.[1];
  const isolates = new Set(gcLines.map((l) => /\[\d+:(0x[0-9a-f]+)\]/.exec(l.line)?.[1]));
  console.log(`${gcLines.length} GC lines from ${isolates.size} isolate(s); main ${isolate}`);
  console.log(`first: ${gcLines[0]?.line}`);
  console.log(
    `${RELOADS} reloads; ${adverts.length} adverts; sampled ${samples.length} times; ` +
      `${machineLoad(m0, m1)}; loadavg ${Deno.readTextFileSync("/proc/loadavg").trim()}`,
  );
  for (const [k, w] of windows.entries()) {
    let worst = 0;
    const gaps: { a: number; b: number }[] = [];
    for (let i = 1; i < adverts.length; i++) {
      const a = adverts[i - 1]!, b = adverts[i]!;
      if (b < w.from || a > w.to) continue;
      worst = Math.max(worst, b - a);
      if (b - a > Number(values.over)) gaps.push({ a, b });
    }
    // The VRRP thread's CPU over the reload, in 50 ms buckets from the SIGHUP (those > 2 ms).
    const buckets: string[] = [];
    let total = 0;
    for (let t = w.from; t < w.to; t += 50) {
      const ms = (at(samples, t + 50, "runNs") - at(samples, t, "runNs")) / 1e6;
      total += ms;
      if (ms > 2) buckets.push(`+${(t - w.from).toFixed(0)}: ${ms.toFixed(1)}`);
    }
    console.log(
      `reload ${k + 1}: logged after ${w.loggedMs.toFixed(0)} ms, worst gap ${
        worst.toFixed(1)
      } ms; VRRP thread CPU ${total.toFixed(1)} ms, by 50 ms from the SIGHUP: ${
        buckets.join(", ")
      }`,
    );
    for (const g of gaps) {
      const ms = g.b - g.a;
      const run = (at(samples, g.b, "runNs") - at(samples, g.a, "runNs")) / 1e6;
      const wait = (at(samples, g.b, "waitNs") - at(samples, g.a, "waitNs")) / 1e6;
      const inGap = samples.filter((s) => s.tMs >= g.a && s.tMs <= g.b);
      const rq = inGap.length ? Math.max(...inGap.map((s) => s.runnable)) : NaN;
      const gcs = gcLines.filter((l) =>
        l.tMs >= g.a && l.tMs <= g.b + 20 && (isolate === undefined || l.line.includes(isolate))
      );
      const gcMs = gcs.reduce((s, l) => {
        const m = /, ([\d.]+) \/ [\d.]+ ms/.exec(l.line);
        return s + (m ? Number(m[1]) : 0);
      }, 0);
      console.log(
        `  gap ${ms.toFixed(1)} ms at +${(g.a - w.from).toFixed(0)} ms: VRRP thread running ` +
          `${run.toFixed(1)} ms, waiting for a CPU ${wait.toFixed(1)} ms, asleep ` +
          `${(ms - run - wait).toFixed(1)} ms; main isolate GC ${gcs.length} (${
            gcMs.toFixed(1)
          } ms); runnable tasks max ${rq}`,
      );
      const where = new Map<string, number>();
      for (const s of inGap) {
        const k = s.state === "R" ? "R" : `${s.state}:${s.wchan}`;
        where.set(k, (where.get(k) ?? 0) + 1);
      }
      console.log(
        `    thread states sampled in the gap: ${
          [...where].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} x${n}`).join(", ")
        }`,
      );
      // Which threads waited for a CPU during the gap (run queue time), with their nice.
      const first = inGap[0], last = inGap.at(-1);
      if (first !== undefined && last !== undefined) {
        const waited: string[] = [];
        for (const [tid, t] of last.threads) {
          const w0 = first.threads.get(tid)?.waitNs ?? 0;
          const ms = (t.waitNs - w0) / 1e6;
          if (ms >= 5) waited.push(`${t.name}/${tid} nice ${t.nice} ${ms.toFixed(0)} ms`);
        }
        console.log(`    threads waiting for a CPU in the gap: ${waited.join(", ") || "none"}`);
      }
      for (const l of gcs) console.log(`    ${l.line.trim().slice(0, 140)}`);
    }
  }
  proc.kill("SIGTERM");
  await proc.output().catch(() => {});
}
