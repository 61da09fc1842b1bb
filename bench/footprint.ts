/**
 * Footprint (issue 15): what haagent costs per event and in memory, from one to 1,000 VRRP
 * instances, side by side with keepalived 2.2.7 in the same run. Every configuration is written
 * once as keepalived.conf and imported for haagent with `haagent import-keepalived`, so both
 * run the same instances. Each kind gets its own namespaces (two routers, a client, a switch),
 * so neither hears the other's adverts. haagent runs as `deno task start` runs it (the command
 * is read from deno.json, V8 flags included); keepalived as `keepalived -n -l -D --vrrp`.
 *
 * Rows (each with the machine's busy share, steal time and load average over its window):
 * - CPU of the master and of the backup of a pair at VRRPv3 10 ms, and of the master at 1 s
 *   (both intervals run at the same time, in their own namespaces): process CPU clocks (every
 *   thread, exited ones too, to the nanosecond); keepalived's parent and VRRP child summed;
 * - memory of the 1 s master: RSS, anonymous (RssAnon) and PSS (keepalived's two processes
 *   summed);
 * - exec -> first advert of an address owner (priority 255), median of `--runs` starts per
 *   kind, the kinds taking turns; tcpdump's kernel stamps on the client;
 * - 1,000 instances at 1 s (250 VRIDs on each of 4 links): exec -> every VIP on the master
 *   (`ip -ts monitor address`), master and backup CPU, master RSS, and the deviation of each
 *   advert interval from 1 s (p99 / max over every instance, from the client's capture).
 *
 * Prints figures; asserts nothing.
 *
 *   deno task bench footprint [--window-s=120] [--scale-window-s=60] [--runs=10]
 *     [--instances=1000] [--only=pairs,start,scale] [--haagent="deno run -A ... main.ts"]
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  haveCommand,
  Lab,
  type LabProcess,
  netnsUnavailable,
  readLines,
  waitFor,
} from "../tests/helpers/netns.ts";
import {
  machine,
  machineJiffies,
  nowMs,
  parseFrames,
  percentile,
  processCpuMs,
  type ProcessMemory,
  processMemory,
  sleep,
  summarize,
  tap,
  tcpdump,
  windowLoad,
} from "./lib.ts";

type Kind = "keepalived" | "haagent";
const KINDS: readonly Kind[] = ["keepalived", "haagent"];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "window-s": { type: "string", default: "120" },
    "scale-window-s": { type: "string", default: "60" },
    "warmup-s": { type: "string", default: "15" },
    runs: { type: "string", default: "10" },
    instances: { type: "string", default: "1000" },
    only: { type: "string", default: "pairs,start,scale" },
    haagent: { type: "string" },
  },
});
const windowMs = Number(values["window-s"]) * 1000;
const scaleWindowMs = Number(values["scale-window-s"]) * 1000;
const warmupMs = Number(values["warmup-s"]) * 1000;
const runs = Number(values.runs);
const instances = Number(values.instances);
const only = new Set(values.only.split(","));
const VRIDS_PER_LINK = 250;

/** The command that runs haagent: deno.json's `start` task unless --haagent says otherwise. */
function haagentCommand(): { argv: string[]; env: Record<string, string> } {
  const root = new URL("../", import.meta.url);
  let text = values.haagent;
  if (text === undefined) {
    const cfg = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root)));
    text = String(cfg.tasks.start);
  }
  const words = text.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [k, ...v] = words.shift()!.split("=");
    env[k!] = v.join("=");
  }
  const argv = words.map((w, i) =>
    i === 0 && w === "deno"
      ? Deno.execPath()
      : w.endsWith(".ts") && !w.startsWith("/")
      ? decodeURIComponent(new URL(w, root).pathname)
      : w
  );
  return { argv, env };
}
const HAAGENT = haagentCommand();

// ---- configurations ----------------------------------------------------------------------

/** One VRRP instance, identical for both kinds. */
interface InstanceConf {
  link: number;
  vrid: number;
  vip: string;
}

/** `n` instances, VRIDs 1..250 on each link in turn; one /32 VIP each. */
function instancesOf(n: number): InstanceConf[] {
  return Array.from({ length: n }, (_, i) => {
    const link = Math.floor(i / VRIDS_PER_LINK);
    const vrid = (i % VRIDS_PER_LINK) + 1;
    return { link, vrid, vip: `10.${100 + link}.1.${vrid}/32` };
  });
}

/** keepalived.conf for one router: VRRPv3, every instance at `intervalS`. */
function keepalivedConf(
  routerId: string,
  priority: number,
  intervalS: number,
  list: InstanceConf[],
): string {
  const out = [`global_defs {\n  router_id ${routerId}\n  vrrp_version 3\n}\n`];
  for (const c of list) {
    out.push(
      `vrrp_instance VI_${c.link}_${c.vrid} {\n` +
        `  state ${priority === 255 ? "MASTER" : "BACKUP"}\n` +
        `  interface eth${c.link}\n  virtual_router_id ${c.vrid}\n  priority ${priority}\n` +
        `  advert_int ${intervalS}\n  virtual_ipaddress {\n    ${c.vip}\n  }\n}\n`,
    );
  }
  return out.join("");
}

/** `haagent import-keepalived CONF --out YAML`; throws with its output when it fails. */
async function importConf(conf: string, yaml: string): Promise<void> {
  const o = await new Deno.Command(HAAGENT.argv[0]!, {
    args: [...HAAGENT.argv.slice(1), "import-keepalived", conf, "--out", yaml],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!o.success) {
    throw new Error(`import-keepalived ${conf} failed: ${new TextDecoder().decode(o.stderr)}`);
  }
}

// ---- sites: two routers, a client and a switch per kind and purpose ----------------------

/** Namespaces of one site: routers `${name}1` / `${name}2`, client `${name}c`, switch `${name}s`. */
interface Site {
  name: string;
  links: number;
}

/** Router r (1 or 2) of a site: its address on link L is 10.(100+L).0.r. */
async function buildSite(lab: Lab, name: string, links: number): Promise<Site> {
  for (let l = 0; l < links; l++) await lab.addBridge(`${name}s`, `br${l}`);
  for (const [host, last] of [["1", 1], ["2", 2], ["c", 100]] as const) {
    await lab.addNs(`${name}${host}`);
    for (let l = 0; l < links; l++) {
      await lab.plug(`${name}${host}`, `eth${l}`, `${name}s`, {
        bridge: `br${l}`,
        peer: `${lab.prefix}${name}${host}${l}`,
        addrs: [`10.${100 + l}.0.${last}/16`],
      });
    }
  }
  return { name, links };
}

/** A running agent and the pids whose CPU and memory count for it. */
interface Running {
  kind: Kind;
  proc: LabProcess;
  pids: number[];
  log: string[];
}

/** Where a site's files go. */
let dir = "";

/**
 * Readies `kind` on router `r` of `site` with keepalived.conf text `conf` (imported for haagent
 * now, so that the import is not timed) and returns what starts it.
 */
async function prepareAgent(
  site: Site,
  r: 1 | 2,
  kind: Kind,
  conf: string,
): Promise<(lab: Lab) => Promise<Running>> {
  const base = `${dir}/${site.name}${r}-${Math.floor(Math.random() * 1e9)}`;
  Deno.writeTextFileSync(`${base}.conf`, conf);
  const ns = `${site.name}${r}`;
  if (kind === "haagent") {
    await importConf(`${base}.conf`, `${base}.yaml`);
    return (lab) => Promise.resolve(startHaagent(lab, ns, base));
  }
  return (lab) => startKeepalived(lab, ns, base);
}

/** Starts `kind` on router `r` of `site` with keepalived.conf text `conf`. */
async function startAgent(
  lab: Lab,
  site: Site,
  r: 1 | 2,
  kind: Kind,
  conf: string,
): Promise<Running> {
  return (await prepareAgent(site, r, kind, conf))(lab);
}

/** Starts keepalived (VRRP only) in `ns` on `${base}.conf`; waits for its VRRP child. */
async function startKeepalived(lab: Lab, ns: string, base: string): Promise<Running> {
  const log: string[] = [];
  const proc = lab.spawn(ns, [
    "keepalived",
    "-n",
    "-l",
    "-D",
    "-f",
    `${base}.conf`,
    "-p",
    `${base}.pid`,
    "-r",
    `${base}-vrrp.pid`,
    "-c",
    `${base}-check.pid`,
    "--vrrp",
  ], { stdout: "piped", stderr: "piped" });
  readLines(proc.child.stdout, log);
  readLines(proc.child.stderr, log);
  const child = await waitFor(
    () => {
      try {
        return Number(Deno.readTextFileSync(`${base}-vrrp.pid`).trim()) || 0;
      } catch {
        return 0;
      }
    },
    20_000,
    10,
  );
  return { kind: "keepalived", proc, pids: [proc.pid, child], log };
}

/** Starts haagent in `ns` on `${base}.yaml`. */
function startHaagent(lab: Lab, ns: string, base: string): Running {
  const log: string[] = [];
  const proc = lab.spawn(ns, [
    ...HAAGENT.argv,
    "--config",
    `${base}.yaml`,
    "--control",
    `${base}.sock`,
    "--pid-file",
    `${base}.pid`,
    "--dump-dir",
    dir,
  ], { stderr: "piped", env: HAAGENT.env });
  readLines(proc.child.stderr, log);
  return { kind: "haagent", proc, pids: [proc.pid], log };
}

async function stopAgent(a: Running): Promise<void> {
  a.proc.kill("SIGTERM");
  const t = setTimeout(() => a.proc.kill("SIGKILL"), 10_000);
  await a.proc.child.status;
  clearTimeout(t);
}

/** How many of `vips` (with prefix) router namespace `ns` holds. */
async function vipsHeld(lab: Lab, ns: string, vips: string[]): Promise<number> {
  const out = await lab.tryExec(ns, ["ip", "-o", "-4", "addr", "show"]);
  const held = new Set(
    [...out.stdout.matchAll(/ inet (\S+) /g)].map((m) => m[1]!),
  );
  return vips.filter((v) => held.has(v)).length;
}

function cpuMsOf(a: Running): number {
  return a.pids.reduce((s, p) => s + processCpuMs(p), 0);
}

function memoryOf(a: Running): ProcessMemory {
  const m = a.pids.map(processMemory);
  return {
    rssKb: m.reduce((s, x) => s + x.rssKb, 0),
    anonKb: m.reduce((s, x) => s + x.anonKb, 0),
    pssKb: m.reduce((s, x) => s + x.pssKb, 0),
  };
}

// ---- the table ---------------------------------------------------------------------------

/** One printed row: both kinds' values, the goal and the window's machine load. */
interface Row {
  measure: string;
  keepalived: string;
  haagent: string;
  ratio: number;
  goal: string;
  met: boolean | null;
  load: string;
}
const rows: Row[] = [];

function row(
  measure: string,
  k: number,
  h: number,
  unit: (v: number) => string,
  goal: string,
  met: (ratio: number, h: number) => boolean | null,
  load: string,
): void {
  const ratio = h / k;
  rows.push({
    measure,
    keepalived: unit(k),
    haagent: unit(h),
    ratio,
    goal,
    met: Number.isFinite(ratio) || Number.isFinite(h) ? met(ratio, h) : null,
    load,
  });
  console.log(`  ${measure}: keepalived ${unit(k)}, haagent ${unit(h)}, ratio ${fmtRatio(ratio)}`);
}

const pct = (v: number) => `${v.toFixed(3)} %`;
const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const ms1 = (v: number) => `${v.toFixed(1)} ms`;
const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : "-");

function printTable(): void {
  const head = ["measure", "keepalived", "haagent", "ratio", "goal", "met", "machine (window)"];
  const body = rows.map((r) => [
    r.measure,
    r.keepalived,
    r.haagent,
    fmtRatio(r.ratio),
    r.goal,
    r.met === null ? "-" : r.met ? "yes" : "no",
    r.load,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log("\n" + line(head));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const b of body) console.log(line(b));
}

// ---- phases --------------------------------------------------------------------------------

/** A pair (master 150, backup 100) of one kind at one interval, one instance. */
interface Pair {
  kind: Kind;
  intervalS: number;
  site: Site;
  master: Running;
  backup: Running;
}

async function pairs(lab: Lab): Promise<void> {
  console.log(`\n--- one instance: pairs at 10 ms and at 1 s, both kinds at once`);
  const list: Pair[] = [];
  const vip = instancesOf(1);
  for (const kind of KINDS) {
    for (const intervalS of [0.01, 1]) {
      const site = await buildSite(lab, `${kind[0]}${intervalS === 1 ? "s" : "f"}`, 1);
      const master = await startAgent(
        lab,
        site,
        1,
        kind,
        keepalivedConf("r1", 150, intervalS, vip),
      );
      const backup = await startAgent(
        lab,
        site,
        2,
        kind,
        keepalivedConf("r2", 100, intervalS, vip),
      );
      list.push({ kind, intervalS, site, master, backup });
    }
  }
  for (const p of list) {
    await waitFor(async () => (await vipsHeld(lab, `${p.site.name}1`, [vip[0]!.vip])) === 1, 20_000)
      .catch(() => {
        throw new Error(
          `${p.kind} at ${p.intervalS} s: no VIP on the master\n${p.master.log.join("\n")}`,
        );
      });
  }
  await sleep(warmupMs);
  const m0 = machineJiffies();
  const c0 = list.map((p) => [cpuMsOf(p.master), cpuMsOf(p.backup)]);
  const t0 = performance.now();
  await sleep(windowMs);
  const c1 = list.map((p) => [cpuMsOf(p.master), cpuMsOf(p.backup)]);
  const seconds = (performance.now() - t0) / 1000;
  const load = windowLoad(m0, machineJiffies());
  const share = (i: number, j: number) => (c1[i]![j]! - c0[i]![j]!) / seconds / 10;
  const at = (kind: Kind, intervalS: number) =>
    list.findIndex((p) => p.kind === kind && p.intervalS === intervalS);
  for (const p of list) {
    const held = await vipsHeld(lab, `${p.site.name}2`, [vip[0]!.vip]);
    if (held > 0) console.log(`  WARNING: the ${p.kind} backup at ${p.intervalS} s holds the VIP`);
  }
  console.log(`  window ${seconds.toFixed(0)} s; ${load}`);
  const [kf, hf, ks, hs] = [
    at("keepalived", 0.01),
    at("haagent", 0.01),
    at("keepalived", 1),
    at("haagent", 1),
  ];
  row("master CPU, v3 at 10 ms", share(kf, 0), share(hf, 0), pct, "<= 2x", (r) => r <= 2, load);
  row("backup CPU, v3 at 10 ms", share(kf, 1), share(hf, 1), pct, "<= 3x", (r) => r <= 3, load);
  row("master CPU at 1 s", share(ks, 0), share(hs, 0), pct, "<= 3x", (r) => r <= 3, load);
  const km = memoryOf(list[ks]!.master), hm = memoryOf(list[hs]!.master);
  row(
    "RSS, one instance (1 s master)",
    km.rssKb,
    hm.rssKb,
    mb,
    "<= 55 MB",
    (_, h) => h <= 55 * 1024,
    load,
  );
  row(
    "anonymous memory, one instance",
    km.anonKb,
    hm.anonKb,
    mb,
    "<= 15 MB",
    (_, h) => h <= 15 * 1024,
    load,
  );
  row("PSS, one instance", km.pssKb, hm.pssKb, mb, "", () => null, load);
  for (const p of list) {
    await stopAgent(p.backup);
    await stopAgent(p.master);
  }
}

async function startup(lab: Lab): Promise<void> {
  console.log(`\n--- exec -> first advert, address owner (priority 255), ${runs} starts per kind`);
  const site = await buildSite(lab, "st", 1);
  const vip = instancesOf(1);
  const conf = keepalivedConf("r1", 255, 1, vip);
  const firstMs: Record<Kind, number[]> = { keepalived: [], haagent: [] };
  const m0 = machineJiffies();
  for (let i = 0; i < runs; i++) {
    for (const kind of i % 2 === 0 ? KINDS : [...KINDS].reverse()) {
      const launch = await prepareAgent(site, 1, kind, conf);
      const cap = await tcpdump(lab, "ip proto 112", `${site.name}c`);
      const t0 = nowMs();
      const a = await launch(lab);
      await waitFor(
        async () => (await vipsHeld(lab, `${site.name}1`, [vip[0]!.vip])) === 1,
        20_000,
      );
      await sleep(200);
      await cap.stop();
      await stopAgent(a);
      const first = parseFrames(cap.lines).find((f) => f.kind === "vrrp");
      firstMs[kind].push(first === undefined ? NaN : first.tMs - t0);
    }
  }
  const load = windowLoad(m0, machineJiffies());
  const k = summarize(firstMs.keepalived), h = summarize(firstMs.haagent);
  for (const [kind, s] of [["keepalived", k], ["haagent", h]] as const) {
    console.log(`  ${kind}: min ${ms1(s.min)} median ${ms1(s.p50)} max ${ms1(s.max)} (n=${s.n})`);
  }
  row(
    "exec -> first advert (owner), median",
    k.p50,
    h.p50,
    ms1,
    "<= 60 ms",
    (_, v) => v <= 60,
    load,
  );
}

/** Adverts of the master (priority 150) captured with `tcpdump -i any`: time per src and VRID. */
function advertTimes(lines: readonly string[]): { byKey: Map<string, number[]>; backup: number } {
  const byKey = new Map<string, number[]>();
  let backup = 0;
  const re = /^(\d+\.\d+) .*IP (\S+) > \S+: VRRPv3, Advertisement, vrid (\d+), prio (\d+)/;
  for (const l of lines) {
    const m = re.exec(l);
    if (m === null) continue;
    if (m[4] !== "150") {
      if (m[4] !== "0") backup++;
      continue;
    }
    const key = `${m[2]} ${m[3]}`;
    let list = byKey.get(key);
    if (list === undefined) byKey.set(key, list = []);
    list.push(Number(m[1]) * 1000);
  }
  return { byKey, backup };
}

async function scale(lab: Lab): Promise<void> {
  const links = Math.ceil(instances / VRIDS_PER_LINK);
  console.log(`\n--- ${instances} instances at 1 s on ${links} links`);
  const list = instancesOf(instances);
  const vips = list.map((c) => c.vip);
  const sites = new Map<Kind, Site>();
  for (const kind of KINDS) sites.set(kind, await buildSite(lab, `${kind[0]}n`, links));
  const started = new Map<Kind, { master: Running; backup: Running; allVipsMs: number }>();
  const m0 = machineJiffies();
  for (const kind of KINDS) {
    const site = sites.get(kind)!;
    const mon = await tap(lab, `${site.name}1`, ["ip", "-ts", "monitor", "address"]);
    const launch = await prepareAgent(site, 1, kind, keepalivedConf("r1", 150, 1, list));
    const t0 = nowMs();
    const master = await launch(lab);
    const want = new Set(vips.map((v) => v.replace(/\/32$/, "")));
    let lastMs = NaN;
    await waitFor(
      () => {
        const seen = new Set<string>();
        for (const l of mon.lines) {
          const m = /^\[(\S+)\] \d+: eth\d+\s+inet (\S+)\/32/.exec(l);
          if (m === null || l.startsWith("Deleted") || !want.has(m[2]!)) continue;
          seen.add(m[2]!);
          if (seen.size === want.size) lastMs = stampMs(m[1]!);
        }
        return seen.size === want.size;
      },
      180_000,
      100,
    ).catch(() => {
      throw new Error(`${kind}: not every VIP appeared\n${master.log.slice(-20).join("\n")}`);
    });
    await mon.stop();
    const backup = await startAgent(lab, site, 2, kind, keepalivedConf("r2", 100, 1, list));
    started.set(kind, { master, backup, allVipsMs: lastMs - t0 });
    console.log(`  ${kind}: exec -> all ${instances} VIPs ${ms1(lastMs - t0)}`);
  }
  const startLoad = windowLoad(m0, machineJiffies());
  await sleep(warmupMs);
  const caps = new Map<Kind, Awaited<ReturnType<typeof tap>>>();
  for (const kind of KINDS) {
    caps.set(
      kind,
      await tap(lab, `${sites.get(kind)!.name}c`, [
        "tcpdump",
        "-l",
        "-n",
        "-tt",
        "--time-stamp-precision=micro",
        "-i",
        "any",
        "ip proto 112",
      ], "listening on"),
    );
  }
  const w0 = machineJiffies();
  const c0 = KINDS.map((k) => [cpuMsOf(started.get(k)!.master), cpuMsOf(started.get(k)!.backup)]);
  const t0 = performance.now();
  await sleep(scaleWindowMs);
  const c1 = KINDS.map((k) => [cpuMsOf(started.get(k)!.master), cpuMsOf(started.get(k)!.backup)]);
  const seconds = (performance.now() - t0) / 1000;
  const load = windowLoad(w0, machineJiffies());
  for (const c of caps.values()) await c.stop();
  console.log(`  window ${seconds.toFixed(0)} s; ${load}`);
  const dev = new Map<Kind, number[]>();
  for (const kind of KINDS) {
    const { byKey, backup } = advertTimes(caps.get(kind)!.lines);
    const d: number[] = [];
    let adverts = 0;
    for (const times of byKey.values()) {
      adverts += times.length;
      for (let i = 1; i < times.length; i++) d.push(Math.abs(times[i]! - times[i - 1]! - 1000));
    }
    d.sort((a, b) => a - b);
    dev.set(kind, d);
    console.log(
      `  ${kind}: ${adverts} master adverts from ${byKey.size} instances captured, ` +
        `${backup} adverts from the backup; deviation p50 ${percentile(d, 50).toFixed(3)} ms`,
    );
  }
  const share = (i: number, j: number) => (c1[i]![j]! - c0[i]![j]!) / seconds / 10;
  const k = started.get("keepalived")!, h = started.get("haagent")!;
  row(
    `${instances} instances at 1 s: master CPU`,
    share(0, 0),
    share(1, 0),
    pct,
    "<= 1.5x",
    (r) => r <= 1.5,
    load,
  );
  row(
    `${instances} instances at 1 s: backup CPU`,
    share(0, 1),
    share(1, 1),
    pct,
    "<= 2x",
    (r) => r <= 2,
    load,
  );
  const km = memoryOf(k.master), hm = memoryOf(h.master);
  row(
    `${instances} instances: master RSS`,
    km.rssKb,
    hm.rssKb,
    mb,
    "<= 80 MB",
    (_, v) => v <= 80 * 1024,
    load,
  );
  row(
    `${instances} instances: master anonymous memory`,
    km.anonKb,
    hm.anonKb,
    mb,
    "",
    () => null,
    load,
  );
  const kd = dev.get("keepalived")!, hd = dev.get("haagent")!;
  row(
    `${instances} instances: advert deviation p99`,
    percentile(kd, 99),
    percentile(hd, 99),
    (v) => `${v.toFixed(2)} ms`,
    "<= 2 ms",
    (_, v) => v <= 2,
    load,
  );
  row(
    `${instances} instances: advert deviation max`,
    kd.at(-1) ?? NaN,
    hd.at(-1) ?? NaN,
    (v) => `${v.toFixed(1)} ms`,
    "",
    () => null,
    load,
  );
  row(
    `${instances} instances: exec -> all VIPs`,
    k.allVipsMs,
    h.allVipsMs,
    ms1,
    "keep it (<= 1x)",
    (r) => r <= 1,
    startLoad,
  );
  for (const kind of KINDS) {
    const s = started.get(kind)!;
    await stopAgent(s.backup);
    await stopAgent(s.master);
  }
}

/** Epoch ms of an `ip -ts monitor` stamp "2026-12-05T16:42:29.123456" (local time). */
function stampMs(s: string): number {
  const m = /^(.+)\.(\d{6})$/.exec(s);
  return m === null ? NaN : new Date(m[1]!).getTime() + Number(m[2]) / 1000;
}

if (import.meta.main) {
  const why = netnsUnavailable() ?? (haveCommand("keepalived") ? null : "keepalived is missing");
  if (why !== null) {
    console.log(`footprint benchmark skipped: ${why}`);
    Deno.exit(0);
  }
  console.log(
    `footprint: ${machine()}; load average ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );
  console.log(
    `haagent: ${
      [...Object.entries(HAAGENT.env).map(([k, v]) => `${k}=${v}`), ...HAAGENT.argv].join(" ")
    }`,
  );
  const kv = await new Deno.Command("keepalived", { args: ["--version"], stderr: "piped" })
    .output();
  console.log(`keepalived: ${new TextDecoder().decode(kv.stderr).split("\n")[0]}`);
  dir = await Deno.makeTempDir({ prefix: "haagent-footprint-" });
  await using lab = await Lab.create("fp");
  try {
    if (only.has("pairs")) await pairs(lab);
    if (only.has("start")) await startup(lab);
    if (only.has("scale")) await scale(lab);
  } finally {
    printTable();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
