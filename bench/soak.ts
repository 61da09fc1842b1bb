/**
 * Long life: two haagent routers at 100 ms adverts for hours, reloaded every minute (SIGHUP and
 * `haagent reload` in turn, with an instance's sockets opened and closed, a priority and a
 * real-server weight changed), a state dump and statistics asked for at each reload, under a
 * notify socket with the watchdog on; fd count, RSS, threads and CPU of both agents sampled
 * (see tests/helpers/soak.ts). Prints the figures at the start (after warm-up), 1 h and the
 * end, a curve, the RSS slope of the second half, the keep-alive gaps, and writes every sample
 * to a CSV file. Asserts nothing (the CI form is tests/integration/soak_test.ts).
 *
 *   deno task bench soak --minutes=120 --reload-every=60 --sample-every=10 --csv=/tmp/soak.csv
 *
 * @module
 */
import { parseArgs } from "node:util";
import { machine, machineJiffies, machineLoad, summarize } from "./lib.ts";
import { runSoak, sampleAt, slope, type SoakSample } from "../tests/helpers/soak.ts";
import type { RouterName } from "../tests/helpers/vrrp_lab.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "120" },
    "reload-every": { type: "string", default: "60" },
    "sample-every": { type: "string", default: "10" },
    "warmup": { type: "string", default: "300" },
    csv: { type: "string", default: "" },
  },
});
const minutes = Number(values.minutes);
const reloadS = Number(values["reload-every"]);
const sampleS = Number(values["sample-every"]);
const warmupS = Number(values.warmup);
const csvPath = values.csv || `/tmp/haagent-soak-${Date.now()}.csv`;

console.log(`soak: ${machine()}`);
console.log(
  `soak: ${minutes} min at 100 ms adverts, reload every ${reloadS} s, sample every ${sampleS} s; ` +
    `samples to ${csvPath}`,
);
const csv = await Deno.open(csvPath, { write: true, create: true, truncate: true });
const enc = new TextEncoder();
await csv.write(enc.encode("t_s,router,fds,rss_kb,threads,cpu_ms,heap_kb\n"));
const abort = new AbortController();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => {
    console.log(`soak: ${sig}: stopping early, cleaning up`);
    abort.abort();
  });
}
const m0 = machineJiffies();
let lastPrint = -Infinity;
const result = await runSoak({
  durationMs: minutes * 60_000,
  reloadEveryMs: reloadS * 1000,
  sampleEveryMs: sampleS * 1000,
  watchdogUsec: 2_000_000,
  signal: abort.signal,
  onLog: (l) => console.log(`soak: ${l}`),
  onSample: (s) => {
    csv.writeSync(
      enc.encode(
        `${s.tS},${s.router},${s.fds},${s.rssKb},${s.threads},${s.cpuMs},${s.heapKb}\n`,
      ),
    );
    if (s.router === "r2" && s.tS - lastPrint >= 600) {
      lastPrint = s.tS;
      console.log(`soak: t=${Math.round(s.tS)} s ${line(s)}`);
    }
  },
});
csv.close();
const m1 = machineJiffies();

function line(s: SoakSample): string {
  return `${s.router} fds ${s.fds}, RSS ${(s.rssKb / 1024).toFixed(1)} MB, JS heap ${
    (s.heapKb / 1024).toFixed(1)
  } MB, threads ${s.threads}`;
}

const endS = Math.max(...result.samples.map((s) => s.tS));
console.log(
  `\nsoak: ${(result.durationMs / 60_000).toFixed(1)} min, ${result.reloads} reloads, ` +
    `${result.dumps} state dumps; ${machineLoad(m0, m1)}`,
);
for (const r of ["r1", "r2"] as RouterName[]) {
  const mine = result.samples.filter((s) => s.router === r && s.tS >= warmupS);
  const at = (t: number) => sampleAt(result.samples, r, t);
  const [start, hour, end] = [at(warmupS), at(warmupS + 3600), at(endS)];
  const fds = mine.map((s) => s.fds), rss = mine.map((s) => s.rssKb);
  const half = mine.filter((s) => s.tS >= (warmupS + endS) / 2);
  const mbPerH = slope(half.map((s) => ({ x: s.tS / 3600, y: s.rssKb / 1024 })));
  const heapPerH = slope(half.map((s) => ({ x: s.tS / 3600, y: s.heapKb / 1024 })));
  const cpu = (end.cpuMs - start.cpuMs) / ((end.tS - start.tS) * 10);
  console.log(`${r}: after warm-up (t=${start.tS} s) ${line(start)}`);
  if (endS >= warmupS + 3600) console.log(`${r}: 1 h later (t=${hour.tS} s) ${line(hour)}`);
  console.log(`${r}: end (t=${end.tS} s) ${line(end)}`);
  console.log(
    `${r}: after warm-up fds min ${Math.min(...fds)} max ${Math.max(...fds)}; RSS min ` +
      `${(Math.min(...rss) / 1024).toFixed(1)} max ${(Math.max(...rss) / 1024).toFixed(1)} MB; ` +
      `slope over the second half: RSS ${mbPerH.toFixed(2)} MB/h, JS heap ${
        heapPerH.toFixed(2)
      } MB/h; CPU ${cpu.toFixed(2)} % of a core`,
  );
  const curve = result.samples.filter((s) => s.router === r);
  const step = Math.max(1, Math.floor(curve.length / 12));
  console.log(
    `${r}: curve (t s: fds / RSS MB) ` +
      curve.filter((_, i) => i % step === 0 || i === curve.length - 1)
        .map((s) => `${Math.round(s.tS)}: ${s.fds} / ${(s.rssKb / 1024).toFixed(1)}`).join(", "),
  );
  const h = result.heapAfterGcKb[r];
  console.log(
    `${r}: JavaScript heap after a full GC ${(h.start / 1024).toFixed(2)} MB after 6 reloads, ` +
      `${(h.end / 1024).toFixed(2)} MB at the end`,
  );
  const n = result.notify[r];
  const g = summarize(n.gapsMs);
  console.log(
    `${r}: ${n.reloading} RELOADING, ${n.readyAfterReload} READY after them; keep-alive gaps ` +
      `(period 1000 ms) n ${g.n} min ${g.min.toFixed(1)} p50 ${g.p50.toFixed(1)} ` +
      `p99 ${g.p99.toFixed(1)} max ${g.max.toFixed(1)} ms`,
  );
}
console.log(`flaps of the steady instances: ${result.flaps.length}`);
for (const f of result.flaps.slice(0, 20)) console.log(`  ${f}`);
console.log(`ERROR log lines: ${result.errors.length}`);
for (const e of result.errors.slice(0, 20)) console.log(`  ${e}`);
