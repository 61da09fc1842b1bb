/**
 * A seeded chaos run (issue 11): three routers on one bridge in network namespaces, r1 and r2
 * running haagent, r3 keepalived 2.2.7, one VRRPv3 instance (VRID 51, 100 ms adverts,
 * priorities 150 / 120 / 100, one VIP). A fault injector draws from a seeded PRNG: kills
 * (SIGKILL, as a crash: keepalived's parent and VRRP child are stopped first so that neither
 * says goodbye) and stops (SIGTERM) followed by restarts, stalls (SIGSTOP / SIGCONT), link flaps,
 * reloads (SIGHUP; haagent's files alternate between two priorities), VRRP cut by nftables
 * between two routers (protocol 112 from each dropped at the other), and fd pressure (prlimit
 * lowers RLIMIT_NOFILE to the fds open + 3, then puts it back). A watcher follows the VIP in
 * every namespace (`ip -ts monitor address`: every change, stamped to the microsecond), and a
 * sampler reads each agent's fds and RSS every 5 s; the harness probes haagent's control socket
 * every 2 s. Every exit of an agent the harness did not cause is counted as a death (and the
 * agent restarted).
 *
 * The report: faults injected; intervals with two or more holders, split into those where
 * every holder was a live agent (running, not stopped, link up, start-up over) outside the cuts,
 * inside cuts, and "stale" ones (a VIP left on a router whose agent was dead, stopped, starting
 * or cut off by its link); intervals with no holder; deaths; fds and RSS at start and at end.
 *
 * @module
 */
import { Lab, type LabProcess, readLines } from "../helpers/netns.ts";
import { rng } from "../helpers/rng.ts";
import { controlRequest } from "../../lib/runtime/control.ts";
import { selfCommand } from "../../lib/runtime/self.ts";

/** The VIP the routers elect a holder for. */
export const VIP = "10.77.0.50";
/** Advert interval of the instance. */
export const ADVERT_MS = 100;

/** The routers: name, kind, priority (and the one a reload toggles to for haagent). */
const ROUTERS = [
  { name: "r1", kind: "haagent", priority: 150, alt: 110, addr: "10.77.0.1" },
  { name: "r2", kind: "haagent", priority: 120, alt: 160, addr: "10.77.0.2" },
  { name: "r3", kind: "keepalived", priority: 100, alt: 100, addr: "10.77.0.3" },
] as const;
type RouterName = (typeof ROUTERS)[number]["name"];

/**
 * The longest a live dual holder may last outside a cut: once both masters hear each other,
 * the lower yields on the first advert it receives (RFC 5798 6.4.3), so the protocol needs one
 * advert interval; a backup whose master-down timer expired while its agent was starved by the
 * machine's load can take over spuriously, which the master's next processed advert ends, and
 * the protocol tolerates an agent silent for its master-down interval (3 x 100 ms + skew of
 * priority 100 = 361 ms) before it is taken for dead. The bound is that interval plus 250 ms for
 * the kernel, the watcher and a loaded 2-core machine.
 */
export const DUAL_BOUND_MS = 3 * ADVERT_MS + ((256 - 100) * ADVERT_MS) / 256 + 250;

/** Fault kinds. */
export type FaultKind = "kill" | "term" | "stall" | "flap" | "reload" | "cut" | "fds";
const FAULT_WEIGHTS: Record<FaultKind, number> = {
  kill: 2,
  term: 2,
  stall: 3,
  flap: 2,
  reload: 3,
  cut: 2,
  fds: 2,
};

/** A window of time (epoch ms). */
interface Window {
  from: number;
  to: number;
}

/** Per-agent resource readings. */
export interface Usage {
  fds: number;
  rssMb: number;
}

/** One interval of the holder timeline. */
export interface Interval {
  from: number;
  to: number;
  holders: string[];
}

/** What a run found. */
export interface ChaosReport {
  seed: number;
  seconds: number;
  faults: Record<FaultKind, number>;
  /** Two or more live holders outside the cuts. */
  dualOutsideCuts: Interval[];
  /** Two or more live holders during a cut (expected). */
  dualInCutsMs: number;
  /** A VIP on a router whose agent was dead, stopped, starting or without its link. */
  staleMs: number;
  staleLongestMs: number;
  /** No router held the VIP. */
  noHolder: Interval[];
  /** Exits the harness did not cause. */
  deaths: string[];
  /** haagent's clean stop at the end: exit codes. */
  stopCodes: Record<string, number>;
  /** First and last reading of each agent incarnation that lived at least a minute. */
  usage: Record<string, { start: Usage; end: Usage; maxFds: number; maxRssMb: number }>;
  /** Control socket probes of haagent that failed: in all, and not explained by a fault. */
  probeFailures: { unexplained: number; total: number; probes: number };
  /** The log of faults, one line each. */
  log: string[];
  /** For each interval worth a look (live dual holders over the bound, the longest gaps): the
   * fault log lines from 6 s before it to its end. */
  context: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

/** The epoch ms of an `ip -ts monitor` line ("[2026-11-22T01:21:28.968747] ..."), or null. */
function ipTsMs(line: string): number | null {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\]/.exec(line);
  if (!m) return null;
  const s = new Date(m[1]!).getTime();
  return Number.isFinite(s) ? s + Number(m[2]) / 1000 : null;
}

function haagentYaml(name: string, priority: number, dir: string): string {
  return `global:
  router_id: ${name}
  vrrp_version: 3
scripts:
  chk_true:
    command: /bin/true
    interval: 1s
    timeout: 1s
    weight: 0
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: ${priority}
    advert_interval: ${ADVERT_MS}ms
    virtual_ipaddresses: [${VIP}/24]
    track_scripts: [chk_true]
    notify: ${dir}/notify.sh
`;
}

function keepalivedConf(name: string, priority: number): string {
  return `global_defs {
  router_id ${name}
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority ${priority}
  advert_int ${ADVERT_MS / 1000}
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

/** One running agent process (haagent, or keepalived's parent with its VRRP child). */
interface Incarnation {
  proc: LabProcess;
  startedAt: number;
  /** When the process ended (null while it runs). */
  exitedAt: number | null;
  /** When the agent was ready (start-up over; its leftover VIPs handled). */
  readyAt: number | null;
  /** Set before the harness ends it: its exit is not a death. */
  expectedExit: boolean;
  exited: Promise<void>;
  vrrpPidFile: string | null;
  log: string[];
  first: Usage | null;
  last: Usage | null;
  maxFds: number;
  maxRssMb: number;
}

interface RouterState {
  name: RouterName;
  kind: "haagent" | "keepalived";
  priority: number;
  alt: number;
  addr: string;
  current: Incarnation | null;
  incarnations: Incarnation[];
  /** Windows in which this router's agent was not live. */
  down: Window[];
  /** An active fault on this router (one at a time). */
  busy: boolean;
  /** The VIP's presence changes: [time, present]. */
  vip: [number, boolean][];
  /** State transitions the agents logged: [time read, line]. */
  transitions: [number, string][];
  prioToggled: boolean;
}

/** Options of a run. */
export interface ChaosOptions {
  seed: number;
  durationMs: number;
  /** Lines of progress (default: none). */
  progress?: (line: string) => void;
}

/** Runs the chaos and returns its report; everything it created is removed. */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  await using lab = await Lab.create("cha");
  const dir = await Deno.makeTempDir({ prefix: "haagent-chaos-" });
  try {
    return await new Chaos(lab, dir, opts).run();
  } finally {
    await lab.cleanup();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

class Chaos {
  readonly #lab: Lab;
  readonly #dir: string;
  readonly #opts: ChaosOptions;
  readonly #rand: () => number;
  readonly #routers: RouterState[];
  readonly #cuts: Window[] = [];
  readonly #pressure: Window[] = [];
  readonly #faults: Record<FaultKind, number> = {
    kill: 0,
    term: 0,
    stall: 0,
    flap: 0,
    reload: 0,
    cut: 0,
    fds: 0,
  };
  readonly #deaths: string[] = [];
  readonly #log: string[] = [];
  readonly #logAt: number[] = [];
  #probes = 0;
  #probeFailures: { t: number; router: RouterState }[] = [];
  #ending = false;
  readonly #pending = new Set<Promise<unknown>>();

  constructor(lab: Lab, dir: string, opts: ChaosOptions) {
    this.#lab = lab;
    this.#dir = dir;
    this.#opts = opts;
    this.#rand = rng(opts.seed);
    this.#routers = ROUTERS.map((r) => ({
      ...r,
      current: null,
      incarnations: [],
      down: [],
      busy: false,
      vip: [],
      transitions: [],
      prioToggled: false,
    }));
  }

  #note(line: string): void {
    const t = new Date().toISOString().slice(11, 23);
    this.#logAt.push(now());
    this.#log.push(`${t} ${line}`);
    this.#opts.progress?.(`${t} ${line}`);
  }

  async run(): Promise<ChaosReport> {
    await this.#build();
    const watchers = await Promise.all(this.#routers.map((r) => this.#watch(r)));
    await Deno.writeTextFile(`${this.#dir}/notify.sh`, "#!/bin/sh\nexit 0\n");
    await Deno.chmod(`${this.#dir}/notify.sh`, 0o755);
    for (const r of this.#routers) await this.#start(r);
    await this.#waitReady(30_000);
    const t0 = now();
    const sampler = this.#sampleLoop();
    const prober = this.#probeLoop();
    const end = t0 + this.#opts.durationMs;
    while (now() < end) {
      await sleep(1000 + this.#rand() * 3000);
      if (now() >= end) break;
      this.#inject();
    }
    // Let running faults end, then settle with every agent up.
    await Promise.all([...this.#pending]);
    await sleep(3000);
    const t1 = now();
    this.#ending = true;
    await Promise.all([sampler, prober]);
    const stopCodes: Record<string, number> = {};
    for (const r of this.#routers) {
      const inc = r.current;
      if (inc === null) continue;
      inc.expectedExit = true;
      if (r.kind === "haagent") {
        inc.proc.kill("SIGTERM");
        stopCodes[r.name] = (await inc.proc.child.status).code;
      } else {
        inc.proc.kill("SIGTERM");
        await inc.proc.child.status;
      }
    }
    for (const w of watchers) await w.stop();
    return this.#report(t0, t1, stopCodes);
  }

  async #build(): Promise<void> {
    const lab = this.#lab;
    await lab.addBridge("sw");
    for (const [i, r] of this.#routers.entries()) {
      await lab.addNs(r.name);
      await lab.exec(r.name, ["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
      await lab.plug(r.name, "eth0", "sw", {
        mac: `02:00:00:77:00:0${i + 1}`,
        addrs: [`${r.addr}/24`],
      });
      // nftables table for cuts, empty until a cut.
      await this.#nft(
        r.name,
        `table inet chaos {\n chain input {\n  type filter hook input priority -10;\n }\n}\n`,
      );
    }
  }

  async #nft(router: string, ruleset: string): Promise<void> {
    const file = `${this.#dir}/${router}-${Math.floor(Math.random() * 1e9)}.nft`;
    await Deno.writeTextFile(file, ruleset);
    await this.#lab.exec(router, ["nft", "-f", file]);
    await Deno.remove(file).catch(() => {});
  }

  /** `ip -ts monitor address` in a router's namespace, recording the VIP's presence. */
  async #watch(r: RouterState): Promise<{ stop(): Promise<void> }> {
    const proc = this.#lab.spawn(r.name, ["ip", "-ts", "-o", "monitor", "address"], {
      stdout: "piped",
    });
    const lines: string[] = [];
    const done = readLines(proc.child.stdout, lines, (l) => {
      if (!l.includes(` ${VIP}/`)) return;
      const t = ipTsMs(l);
      if (t === null) return;
      r.vip.push([t, !/\bDeleted\b/.test(l)]);
    });
    await sleep(200);
    return {
      stop: async () => {
        proc.kill("SIGTERM");
        await proc.child.status;
        await done;
      },
    };
  }

  async #start(r: RouterState): Promise<void> {
    const n = r.incarnations.length;
    const log: string[] = [];
    let proc: LabProcess;
    let vrrpPidFile: string | null = null;
    if (r.kind === "haagent") {
      const file = `${this.#dir}/${r.name}.yaml`;
      const prio = r.prioToggled ? r.alt : r.priority;
      await Deno.writeTextFile(file, haagentYaml(r.name, prio, this.#dir));
      proc = this.#lab.spawn(r.name, [
        ...selfCommand(),
        "--config",
        file,
        "--control",
        `${this.#dir}/${r.name}.sock`,
        "--pid-file",
        `${this.#dir}/${r.name}.pid`,
        "--dump-dir",
        this.#dir,
      ], { stderr: "piped" });
    } else {
      const file = `${this.#dir}/${r.name}.conf`;
      await Deno.writeTextFile(file, keepalivedConf(r.name, r.priority));
      const p = `${this.#dir}/${r.name}-ka${n}`;
      vrrpPidFile = `${p}-vrrp.pid`;
      proc = this.#lab.spawn(r.name, [
        "keepalived",
        "-n",
        "-l",
        "-D",
        "-f",
        file,
        "-p",
        `${p}.pid`,
        "-r",
        vrrpPidFile,
        "-c",
        `${p}-check.pid`,
        "--vrrp",
      ], { stderr: "piped", stdout: "piped" });
      void readLines(proc.child.stdout, log);
    }
    const inc: Incarnation = {
      proc,
      startedAt: now(),
      exitedAt: null,
      readyAt: null,
      expectedExit: false,
      exited: Promise.resolve(),
      vrrpPidFile,
      log,
      first: null,
      last: null,
      maxFds: 0,
      maxRssMb: 0,
    };
    const ready = r.kind === "haagent" ? / started: / : /Entering (BACKUP|MASTER) STATE/;
    void readLines(proc.child.stderr, log, (l) => {
      if (inc.readyAt === null && ready.test(l)) inc.readyAt = now();
      if (/-> (MASTER|BACKUP|FAULT)|Entering (MASTER|BACKUP|FAULT) STATE/.test(l)) {
        r.transitions.push([now(), l.replace(/^\S+ /, "").slice(0, 120)]);
      }
    });
    inc.exited = proc.child.status.then((s) => {
      inc.exitedAt = now();
      if (inc.expectedExit) return;
      const why = `${r.name} ${r.kind} (pid ${proc.pid}) exited by itself: code ${s.code}` +
        `${s.signal ? ` signal ${s.signal}` : ""}\n${log.slice(-15).join("\n")}`;
      this.#deaths.push(why);
      this.#note(`DEATH ${why.split("\n")[0]}`);
      if (r.current === inc && !this.#ending) {
        const t = now();
        r.current = null;
        r.down.push({ from: t, to: t });
        this.#track(this.#start(r).then(() => this.#endDown(r)));
      }
    });
    r.current = inc;
    r.incarnations.push(inc);
  }

  #track(p: Promise<unknown>): void {
    const q = p.catch((e) => this.#note(`harness error: ${(e as Error).message}`)).finally(() =>
      this.#pending.delete(q)
    );
    this.#pending.add(q);
  }

  /** Closes the router's last down window once its new agent is ready (or after 30 s). */
  async #endDown(r: RouterState): Promise<void> {
    const inc = r.current;
    const t0 = now();
    while (inc !== null && inc.readyAt === null && now() - t0 < 30_000) await sleep(20);
    const w = r.down[r.down.length - 1]!;
    w.to = inc?.readyAt ?? now();
  }

  async #waitReady(ms: number): Promise<void> {
    const t0 = now();
    while (this.#routers.some((r) => r.current?.readyAt === null)) {
      if (now() - t0 > ms) throw new Error("the agents did not start");
      await sleep(50);
    }
    // The election settles: r1 becomes master after the master-down interval.
    await sleep(3000);
  }

  /** The pids of an agent: haagent's one, keepalived's parent and VRRP child. */
  async #pids(inc: Incarnation): Promise<number[]> {
    const pids = [inc.proc.pid];
    if (inc.vrrpPidFile !== null) {
      try {
        const n = Number((await Deno.readTextFile(inc.vrrpPidFile)).trim());
        if (n > 0) pids.push(n);
      } catch { /* not written yet */ }
    }
    return pids;
  }

  async #signal(inc: Incarnation, sig: string): Promise<void> {
    for (const pid of await this.#pids(inc)) {
      await this.#lab.tryExec(null, ["kill", `-${sig}`, String(pid)]);
    }
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#rand() * items.length)]!;
  }

  #drawKind(): FaultKind {
    const total = Object.values(FAULT_WEIGHTS).reduce((a, b) => a + b, 0);
    let x = this.#rand() * total;
    for (const [k, w] of Object.entries(FAULT_WEIGHTS) as [FaultKind, number][]) {
      x -= w;
      if (x < 0) return k;
    }
    return "stall";
  }

  /** Draws one fault and starts it (it runs in the background). */
  #inject(): void {
    const kind = this.#drawKind();
    const free = this.#routers.filter((r) => !r.busy && r.current !== null);
    // Draw the durations before checking, so that the sequence depends on the seed alone.
    const hold = 200 + this.#rand() * 2800;
    const target = free.length > 0 ? this.#pick(free) : null;
    const other = free.length > 1 ? this.#pick(free.filter((r) => r !== target)) : null;
    if (target === null || (kind === "cut" && other === null)) return;
    if (kind === "fds" && target.kind !== "haagent" && this.#rand() < 0.5) return;
    this.#faults[kind]++;
    target.busy = true;
    if (kind === "cut") other!.busy = true;
    const run = async () => {
      try {
        await this.#fault(kind, target, other, hold);
      } finally {
        target.busy = false;
        if (kind === "cut") other!.busy = false;
      }
    };
    this.#track(run());
  }

  async #fault(
    kind: FaultKind,
    r: RouterState,
    other: RouterState | null,
    holdMs: number,
  ): Promise<void> {
    const inc = r.current!;
    switch (kind) {
      case "kill":
      case "term": {
        const t = now();
        inc.expectedExit = true;
        r.current = null;
        r.down.push({ from: t, to: t });
        if (kind === "kill") {
          // A crash: no goodbye from either of keepalived's processes.
          await this.#signal(inc, "STOP");
          await this.#signal(inc, "KILL");
        } else {
          inc.proc.kill("SIGTERM");
        }
        await inc.exited;
        await inc.proc.child.status;
        this.#note(
          `${kind} ${r.name} (${r.kind} pid ${inc.proc.pid}), restart in ${holdMs.toFixed(0)} ms`,
        );
        await sleep(holdMs);
        await this.#start(r);
        await this.#endDown(r);
        return;
      }
      case "stall": {
        const t = now();
        await this.#signal(inc, "STOP");
        this.#note(`stall ${r.name} for ${holdMs.toFixed(0)} ms`);
        await sleep(holdMs);
        await this.#signal(inc, "CONT");
        r.down.push({ from: t, to: now() });
        return;
      }
      case "flap": {
        const t = now();
        await this.#lab.exec(r.name, ["ip", "link", "set", "eth0", "down"]);
        this.#note(`link down on ${r.name} for ${holdMs.toFixed(0)} ms`);
        await sleep(holdMs);
        await this.#lab.exec(r.name, ["ip", "link", "set", "eth0", "up"]);
        r.down.push({ from: t, to: now() });
        return;
      }
      case "reload": {
        if (r.kind === "haagent") {
          r.prioToggled = !r.prioToggled;
          const prio = r.prioToggled ? r.alt : r.priority;
          await Deno.writeTextFile(
            `${this.#dir}/${r.name}.yaml`,
            haagentYaml(r.name, prio, this.#dir),
          );
          this.#note(`reload ${r.name} with priority ${prio}`);
        } else {
          this.#note(`reload ${r.name}`);
        }
        inc.proc.kill("SIGHUP");
        await sleep(1000);
        return;
      }
      case "cut": {
        const o = other!;
        const t = now();
        const rule = (from: string) =>
          `add rule inet chaos input ip saddr ${from} ip protocol 112 drop\n`;
        await this.#nft(r.name, rule(o.addr));
        await this.#nft(o.name, rule(r.addr));
        this.#note(`VRRP cut between ${r.name} and ${o.name} for ${holdMs.toFixed(0)} ms`);
        await sleep(holdMs + 1000);
        await this.#lab.exec(r.name, ["nft", "flush", "chain", "inet", "chaos", "input"]);
        await this.#lab.exec(o.name, ["nft", "flush", "chain", "inet", "chaos", "input"]);
        this.#cuts.push({ from: t, to: now() });
        return;
      }
      case "fds": {
        const t = now();
        const pids = await this.#pids(inc);
        const limits: [number, string][] = [];
        for (const pid of pids) {
          const open = fdCount(pid);
          const lim = /Max open files\s+(\d+)\s+(\d+)/.exec(readProc(`/proc/${pid}/limits`));
          if (open < 0 || !lim) continue;
          limits.push([pid, `${lim[1]}:${lim[2]}`]);
          await this.#lab.tryExec(null, [
            "prlimit",
            "--pid",
            String(pid),
            `--nofile=${open + 3}:${open + 3}`,
          ]);
        }
        this.#note(
          `fd pressure on ${r.name} (${limits.length} process(es)) for ${
            (holdMs * 2).toFixed(0)
          } ms`,
        );
        await sleep(holdMs * 2);
        for (const [pid, lim] of limits) {
          await this.#lab.tryExec(null, ["prlimit", "--pid", String(pid), `--nofile=${lim}`]);
        }
        this.#pressure.push({ from: t, to: now() });
        return;
      }
    }
  }

  async #sampleLoop(): Promise<void> {
    while (!this.#ending) {
      for (const r of this.#routers) {
        const inc = r.current;
        if (inc === null || inc.readyAt === null) continue;
        let fds = 0, rss = 0;
        for (const pid of await this.#pids(inc)) {
          const n = fdCount(pid);
          const m = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${pid}/status`));
          if (n < 0 || !m) continue;
          fds += n;
          rss += Number(m[1]) / 1024;
        }
        if (fds === 0) continue;
        const u = { fds, rssMb: rss };
        inc.first ??= u;
        inc.last = u;
        inc.maxFds = Math.max(inc.maxFds, fds);
        inc.maxRssMb = Math.max(inc.maxRssMb, rss);
      }
      await sleep(5000);
    }
  }

  async #probeLoop(): Promise<void> {
    while (!this.#ending) {
      for (const r of this.#routers) {
        if (r.kind !== "haagent" || r.current?.readyAt == null) continue;
        this.#probes++;
        try {
          await controlRequest(`${this.#dir}/${r.name}.sock`, { cmd: "status" }, 2000);
        } catch {
          this.#probeFailures.push({ t: now(), router: r });
        }
      }
      await sleep(2000);
    }
  }

  #context(items: { from: number; to: number; holders: string[]; what: string }[]): string[] {
    const out: string[] = [];
    for (const i of items) {
      out.push(
        `${i.what} ${iso(i.from)}-${iso(i.to)} (${(i.to - i.from).toFixed(0)} ms)` +
          (i.holders.length > 0 ? ` held by ${i.holders.join("+")}` : ""),
      );
      for (const r of this.#routers) {
        const ev = r.vip.filter(([t]) => t >= i.from - 6000 && t <= i.to + 1000);
        if (ev.length > 0) {
          out.push(
            `    ${r.name} VIP ${ev.map(([t, p]) => `${p ? "+" : "-"}${iso(t)}`).join(" ")}`,
          );
        }
        for (const [t, l] of r.transitions) {
          if (t >= i.from - 6000 && t <= i.to + 1000) out.push(`    ${r.name} ${iso(t)} ${l}`);
        }
      }
      for (const [k, t] of this.#logAt.entries()) {
        if (t >= i.from - 6000 && t <= i.to) out.push(`    ${this.#log[k]}`);
      }
    }
    return out;
  }

  #report(t0: number, t1: number, stopCodes: Record<string, number>): ChaosReport {
    const live = (r: RouterState, t: number) =>
      !r.down.some((w) => t >= w.from && t < w.to) &&
      r.incarnations.some((i) => t >= i.startedAt && (i.readyAt !== null && t >= i.readyAt));
    const holding = (r: RouterState, t: number) => {
      let present = false;
      for (const [at, p] of r.vip) {
        if (at > t) break;
        present = p;
      }
      return present;
    };
    for (const r of this.#routers) r.vip.sort((a, b) => a[0] - b[0]);
    const cuts = this.#cuts;
    const bounds = new Set<number>([t0, t1]);
    for (const r of this.#routers) {
      for (const [t] of r.vip) if (t > t0 && t < t1) bounds.add(t);
      for (const w of r.down) for (const t of [w.from, w.to]) if (t > t0 && t < t1) bounds.add(t);
      for (const i of r.incarnations) {
        for (const t of [i.startedAt, i.readyAt ?? t1]) if (t > t0 && t < t1) bounds.add(t);
      }
    }
    for (const w of cuts) for (const t of [w.from, w.to]) if (t > t0 && t < t1) bounds.add(t);
    const ts = [...bounds].sort((a, b) => a - b);
    type Cls = "dual" | "dual-cut" | "stale" | "none" | "ok";
    const segs: { from: number; to: number; cls: Cls; holders: string[] }[] = [];
    for (let i = 1; i < ts.length; i++) {
      const from = ts[i - 1]!, to = ts[i]!;
      const mid = (from + to) / 2;
      const holders = this.#routers.filter((r) => holding(r, mid));
      const liveHolders = holders.filter((r) => live(r, mid));
      const inCut = cuts.some((w) => mid >= w.from && mid < w.to);
      let cls: Cls = "ok";
      if (holders.length === 0) cls = "none";
      else if (liveHolders.length >= 2) cls = inCut ? "dual-cut" : "dual";
      else if (holders.length >= 2) cls = "stale";
      const names = holders.map((r) => r.name);
      const last = segs[segs.length - 1];
      if (last !== undefined && last.cls === cls && last.to === from) {
        last.to = to;
        for (const n of names) if (!last.holders.includes(n)) last.holders.push(n);
      } else segs.push({ from, to, cls, holders: names });
    }
    const of = (c: Cls) => segs.filter((s) => s.cls === c);
    const ms = (s: { from: number; to: number }) => s.to - s.from;
    const usage: ChaosReport["usage"] = {};
    for (const r of this.#routers) {
      for (const [k, inc] of r.incarnations.entries()) {
        if (inc.first === null || inc.last === null) continue;
        const lived = Math.min(inc.exitedAt ?? t1, t1) - (inc.readyAt ?? inc.startedAt);
        if (lived < 60_000 && r.incarnations.length > 1) continue;
        usage[`${r.name}#${k}`] = {
          start: inc.first,
          end: inc.last,
          maxFds: inc.maxFds,
          maxRssMb: inc.maxRssMb,
        };
      }
    }
    // A probe that failed while its agent was down, or within 3 s of fd pressure or of a down
    // window (a probe takes up to 2 s), is explained by the fault.
    const explained = (f: { t: number; router: RouterState }) =>
      this.#pressure.some((w) => f.t >= w.from && f.t <= w.to + 3000) ||
      f.router.down.some((w) => f.t >= w.from - 2000 && f.t <= w.to + 3000);
    return {
      seed: this.#opts.seed,
      seconds: (t1 - t0) / 1000,
      faults: this.#faults,
      dualOutsideCuts: of("dual").map((s) => ({ from: s.from, to: s.to, holders: s.holders })),
      dualInCutsMs: of("dual-cut").reduce((a, s) => a + ms(s), 0),
      staleMs: of("stale").reduce((a, s) => a + ms(s), 0),
      staleLongestMs: Math.max(0, ...of("stale").map(ms)),
      noHolder: of("none").map((s) => ({ from: s.from, to: s.to, holders: [] })),
      deaths: this.#deaths,
      stopCodes,
      usage,
      probeFailures: {
        unexplained: this.#probeFailures.filter((f) => !explained(f)).length,
        total: this.#probeFailures.length,
        probes: this.#probes,
      },
      log: this.#log,
      context: this.#context([
        ...of("dual").filter((i) => ms(i) > DUAL_BOUND_MS).map((i) => ({ ...i, what: "dual" })),
        ...of("none").sort((a, b) => ms(b) - ms(a)).slice(0, 3).map((i) => ({
          ...i,
          what: "no holder",
        })),
      ]),
    };
  }
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(11, 23);
}

function readProc(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Open fds of a process, or -1 when it is gone. */
function fdCount(pid: number): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) n++;
    return n;
  } catch {
    return -1;
  }
}

/** The report as text. */
export function formatReport(r: ChaosReport): string {
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const dur = (i: Interval) => i.to - i.from;
  const longest = (xs: Interval[]) => Math.max(0, ...xs.map(dur));
  const lines = [
    `seed ${r.seed}, ${r.seconds.toFixed(0)} s of faults`,
    `faults injected: ${Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(", ")} ` +
    `(total ${Object.values(r.faults).reduce((a, b) => a + b, 0)})`,
    `two live holders outside VRRP cuts: ${r.dualOutsideCuts.length} interval(s), longest ` +
    `${ms(longest(r.dualOutsideCuts))} (bound ${ms(DUAL_BOUND_MS)})` +
    (r.dualOutsideCuts.length > 0
      ? ` [${r.dualOutsideCuts.map((i) => `${i.holders.join("+")} ${ms(dur(i))}`).join(", ")}]`
      : ""),
    `two live holders during VRRP cuts (expected): ${ms(r.dualInCutsMs)} in all`,
    `a VIP left on a dead, stopped, starting or unlinked router beside the master: ` +
    `${ms(r.staleMs)} in all, longest ${ms(r.staleLongestMs)}`,
    `no holder: ${r.noHolder.length} interval(s), longest ${ms(longest(r.noHolder))}`,
    `agent deaths not caused by the test: ${r.deaths.length}`,
    ...r.deaths.map((d) => `  ${d.split("\n")[0]}`),
    `clean stop at the end (haagent exit codes): ${JSON.stringify(r.stopCodes)}`,
    `control socket probes: ${r.probeFailures.probes}, failed ${r.probeFailures.total} ` +
    `(${r.probeFailures.unexplained} not explained by a fault on that router)`,
    ...(r.context.length > 0 ? ["intervals worth a look, with the faults before them:"] : []),
    ...r.context.map((l) => `  ${l}`),
    `fds and RSS (agents that ran a minute or more; keepalived: parent + VRRP child):`,
    ...Object.entries(r.usage).map(([k, u]) =>
      `  ${k.padEnd(6)} fds ${u.start.fds} -> ${u.end.fds} (max ${u.maxFds}), RSS ` +
      `${u.start.rssMb.toFixed(1)} -> ${u.end.rssMb.toFixed(1)} MB (max ${u.maxRssMb.toFixed(1)})`
    ),
  ];
  return lines.join("\n");
}
