/**
 * Advert gaps while the master reloads a large file (issue 11 item 1), keepalived 2.2.7 and
 * haagent in one run, with the same configuration: one VRRPv3 instance at 100 ms and 1,000
 * virtual servers x 10 real servers, written as keepalived.conf and given to haagent through
 * `haagent import-keepalived`. For each kind, r1 (priority 150, the large file) is master and r2
 * (priority 100, the instance alone) its backup, of the same kind. keepalived runs with `--vrrp`:
 * its VRRP process reads the whole file on a reload (virtual servers included, skipped); its
 * checker process cannot run here (no IPVS in the host kernel: it exits FATAL and takes
 * keepalived down within 20 s of a reload). r1 reloads `--reloads` times (SIGHUP, each file
 * with every real server's weight changed); the client captures the adverts. Prints the worst
 * gap between r1's adverts during each reload window and overall, adverts from the backup as
 * master (takeovers), haagent's reload time, r1's CPU and RSS, and the machine's load and steal.
 * The host has no IPVS: haagent parses, validates and plans the virtual servers and its
 * load-balancer thread runs without programming them. Asserts nothing.
 *
 *   deno run -A bench/reload_stall.ts [--reloads=5] [--services=1000] [--servers=10]
 *     [--kinds=keepalived,haagent]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Agent, ROUTERS, VrrpLab } from "../tests/helpers/vrrp_lab.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../tests/helpers/netns.ts";
import { type BigConfig, bigHaagentYaml, bigKeepalivedConf } from "../tests/helpers/big_config.ts";
import {
  agentPids,
  cpuMs,
  machine,
  machineJiffies,
  machineLoad,
  nowMs,
  parseFrames,
  rssMb,
  sleep,
  tcpdump,
} from "./lib.ts";

type Kind = "keepalived" | "haagent";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    reloads: { type: "string", default: "5" },
    services: { type: "string", default: "1000" },
    servers: { type: "string", default: "10" },
    kinds: { type: "string", default: "keepalived,haagent" },
  },
});
const RELOADS = Number(values.reloads);
const VIP = "10.77.0.51";
/** How long keepalived is given per reload (it does not say when its children are done). */
const KEEPALIVED_RELOAD_MS = 5000;

function big(router: "r1" | "r2", priority: number, variant: number, withServices: boolean) {
  const c: BigConfig = {
    router,
    priority,
    vrid: 51,
    vip: `${VIP}/24`,
    version: 3,
    advertIntervalMs: 100,
    services: withServices ? Number(values.services) : 0,
    servers: Number(values.servers),
    variant,
  };
  return c;
}

interface Result {
  kind: Kind;
  /** Worst gap between r1's adverts in each reload window, ms. */
  perReload: number[];
  worstMs: number;
  /** Median gap over the whole capture, ms. */
  medianMs: number;
  adverts: number;
  takeovers: number;
  reloadMs: number[];
  cpuMs: number;
  rssBefore: number;
  rssAfter: number;
  load: string;
}

async function start(vl: VrrpLab, kind: Kind, c: BigConfig): Promise<Agent> {
  if (kind === "keepalived") {
    return vl.startKeepalived(c.router as "r1" | "r2", bigKeepalivedConf(c));
  }
  return vl.startHaagent(c.router as "r1" | "r2", await bigHaagentYaml(c, vl.dir));
}

async function runKind(kind: Kind): Promise<Result> {
  await using vl = await VrrpLab.create(kind === "haagent" ? "rsh" : "rsk");
  const files: string[] = [];
  for (let v = 0; v <= RELOADS; v++) {
    const c = big("r1", 150, v, true);
    files.push(kind === "haagent" ? await bigHaagentYaml(c, vl.dir) : bigKeepalivedConf(c));
  }
  const r1 = await start(vl, kind, big("r1", 150, 0, true));
  await vl.waitVip("r1", VIP, 60_000);
  await start(vl, kind, big("r2", 100, 0, false));
  await sleep(3000);
  const pids = await agentPids(r1);
  const file = kind === "haagent" ? `${vl.dir}/r1.yaml` : `${vl.dir}/r1-keepalived.conf`;
  const cap = await tcpdump(vl.lab, "ip proto 112");
  const m0 = machineJiffies();
  const cpu0 = pids.reduce((s, p) => s + cpuMs(p), 0);
  const rssBefore = pids.reduce((s, p) => s + rssMb(p), 0);
  await sleep(1000);
  const windows: { from: number; to: number }[] = [];
  const reloadMs: number[] = [];
  for (let k = 1; k <= RELOADS; k++) {
    await Deno.writeTextFile(file, files[k]!);
    const from = nowMs();
    const before = r1.log.filter((l) => l.includes("reloaded ")).length;
    r1.proc.kill("SIGHUP");
    if (kind === "haagent") {
      await waitFor(() => r1.log.filter((l) => l.includes("reloaded ")).length > before, 60_000);
      reloadMs.push(nowMs() - from);
      await sleep(1000);
    } else {
      await sleep(KEEPALIVED_RELOAD_MS);
    }
    windows.push({ from, to: nowMs() });
  }
  const cpu1 = pids.reduce((s, p) => s + cpuMs(p), 0);
  const rssAfter = pids.reduce((s, p) => s + rssMb(p), 0);
  const m1 = machineJiffies();
  await cap.stop();
  const frames = parseFrames(cap.lines).filter((f) => f.kind === "vrrp");
  const mine = frames.filter((f) => f.kind === "vrrp" && f.src === ROUTERS.r1.addr4)
    .map((f) => f.tMs);
  const gaps: { at: number; ms: number }[] = [];
  for (let i = 1; i < mine.length; i++) gaps.push({ at: mine[i]!, ms: mine[i]! - mine[i - 1]! });
  const perReload = windows.map((w) =>
    Math.max(0, ...gaps.filter((g) => g.at >= w.from && g.at <= w.to + 500).map((g) => g.ms))
  );
  const sorted = gaps.map((g) => g.ms).sort((a, b) => a - b);
  const takeovers =
    frames.filter((f) => f.kind === "vrrp" && f.src === ROUTERS.r2.addr4 && f.priority > 0).length;
  return {
    kind,
    perReload,
    worstMs: Math.max(0, ...sorted),
    medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    adverts: mine.length,
    takeovers,
    reloadMs,
    cpuMs: cpu1 - cpu0,
    rssBefore,
    rssAfter,
    load: machineLoad(m0, m1),
  };
}

if (import.meta.main) {
  const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
  if (why !== null) {
    console.log(`reload_stall: skipped (${why})`);
    Deno.exit(0);
  }
  const kinds = values.kinds.split(",").filter((k): k is Kind =>
    (k === "keepalived" && haveCommand("keepalived")) || k === "haagent"
  );
  console.log(machine());
  console.log(
    `${RELOADS} reloads of ${values.services} virtual servers x ${values.servers} real servers, ` +
      `VRRPv3 at 100 ms (master down interval 361 ms for the priority-100 backup)`,
  );
  const results: Result[] = [];
  for (const k of kinds) results.push(await runKind(k));
  const f = (n: number) => n.toFixed(1);
  const row = (label: string, get: (r: Result) => string) =>
    console.log(`  ${label.padEnd(40)}${results.map((r) => get(r).padEnd(34)).join("")}`);
  row("", (r) => r.kind);
  row("worst advert gap during a reload, ms", (r) => r.perReload.map(f).join(" / "));
  row("worst gap over the run / median, ms", (r) => `${f(r.worstMs)} / ${f(r.medianMs)}`);
  row("adverts from r1", (r) => String(r.adverts));
  row("backup adverts as master (takeovers)", (r) => String(r.takeovers));
  row(
    "SIGHUP -> 'reloaded' logged, ms",
    (r) => r.reloadMs.length > 0 ? r.reloadMs.map((x) => x.toFixed(0)).join(" / ") : "-",
  );
  row("r1 CPU during the reloads, ms", (r) => r.cpuMs.toFixed(0));
  row("r1 RSS before / after, MB", (r) => `${f(r.rssBefore)} / ${f(r.rssAfter)}`);
  row("machine during the run", (r) => r.load);
  if (results.length === 2) {
    console.log(
      `  ratio of worst gaps haagent / keepalived: ${
        (results[1]!.worstMs / results[0]!.worstMs).toFixed(2)
      }`,
    );
  }
}
