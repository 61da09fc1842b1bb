/**
 * The long-life soak shared by `deno task bench soak` (2 hours) and its CI form (minutes): two
 * haagent routers in a VrrpLab at 100 ms adverts (IPv4 and IPv6 instances, masters on both
 * sides, health checks against servers in the client namespace), reloaded on a schedule
 * (SIGHUP and `haagent reload` in turn) between two files that differ in what reloads do: an
 * instance on a second interface comes and goes (its sockets opened and closed), a priority
 * changes in place, a real server's weight changes. Each reload also asks r1 for its state
 * dump and statistics (SIGUSR1, SIGUSR2). Both agents run under a notify socket this process
 * plays (READY / RELOADING / WATCHDOG counted). fd count, RSS and threads of each agent are
 * sampled from /proc.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Reactor, UnixDatagramSocket } from "../../ffi/mod.ts";
import { selfCommand } from "../../lib/runtime/self.ts";
import { type Agent, type RouterName, VrrpLab } from "./vrrp_lab.ts";
import { waitFor } from "./netns.ts";
import { controlRequest } from "../../lib/runtime/control.ts";

const SERVER = fileURLToPath(new URL("../integration/fixtures/check_server.ts", import.meta.url));

/** How long and how often. */
export interface SoakOptions {
  durationMs: number;
  reloadEveryMs: number;
  sampleEveryMs: number;
  /** WATCHDOG_USEC given to the agents. */
  watchdogUsec: number;
  /** Called with each sample (progress, CSV). */
  onSample?: (s: SoakSample) => void;
  /** Called with a line of progress. */
  onLog?: (line: string) => void;
  /** Stops early when aborted (the results so far are returned). */
  signal?: AbortSignal;
}

/** One reading of one agent. */
export interface SoakSample {
  /** Seconds since the agents started. */
  tS: number;
  router: RouterName;
  fds: number;
  rssKb: number;
  threads: number;
  cpuMs: number;
  /** The VRRP thread's JavaScript heap in use (from `haagent status`), NaN when unanswered. */
  heapKb: number;
}

/** What the soak saw. */
export interface SoakResult {
  samples: SoakSample[];
  reloads: number;
  /** Per router: RELOADING then READY pairs seen, READY messages, keep-alive gaps (ms). */
  notify: Record<
    RouterName,
    { reloading: number; readyAfterReload: number; gapsMs: number[]; status: string }
  >;
  /** VRRP transitions of the steady instances (VI_1..VI_4) after the first election. */
  flaps: string[];
  /** ERROR lines in the agents' logs. */
  errors: string[];
  /** Dumps r1 reported written. */
  dumps: number;
  /**
   * The VRRP thread's JavaScript heap after a full collection (test-only `test-gc`), kB, once
   * six reloads have run and at the end: growth here is what reloads retain.
   */
  heapAfterGcKb: Record<RouterName, { start: number; end: number }>;
  durationMs: number;
}

const ROUTER_PRIO: Record<RouterName, [number, number]> = { r1: [150, 100], r2: [100, 150] };

/** The configuration of `router`, variant A (steady) or B (what a reload changes). */
export function soakYaml(router: RouterName, variant: "A" | "B"): string {
  const [hi, lo] = ROUTER_PRIO[router];
  const inst = (name: string, iface: string, vrid: number, prio: number, vip: string) =>
    `  ${name}:
    interface: ${iface}
    vrid: ${vrid}
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [${vip}]
`;
  const v2prio = variant === "B" && router === "r1" ? hi - 10 : hi;
  const weight = variant === "B" ? 2 : 1;
  return `global:
  router_id: ${router}
  vrrp_version: 3
vrrp_instances:
${inst("VI_1", "eth0", 51, hi, "10.77.0.51/24")}${
    inst("VI_2", "eth0", 52, v2prio, "10.77.0.52/24")
  }${inst("VI_3", "eth0", 53, lo, "10.77.0.53/24")}${inst("VI_4", "eth0", 54, lo, "fd77::54/64")}${
    variant === "B" ? inst("VI_5", "eth1", 55, hi, "10.78.0.55/24") : ""
  }virtual_servers:
  - address: 10.77.0.51:80
    protocol: TCP
    scheduler: wrr
    delay_loop: 1s
    real_servers:
      - address: 10.77.0.100:18081
        weight: ${weight}
        checks: [{ type: TCP_CHECK, connect_timeout: 500ms, retry: 0 }]
      - address: 10.77.0.100:18082
        checks:
          - type: HTTP_GET
            connect_timeout: 500ms
            retry: 0
            urls: [{ path: /health, status_code: [200] }]
`;
}

/** fd count, VmRSS (kB) and threads of a process; NaN when it is gone. */
export function procFootprint(pid: number): { fds: number; rssKb: number; threads: number } {
  try {
    const fds = [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1]);
    return { fds, rssKb, threads };
  } catch {
    return { fds: NaN, rssKb: NaN, threads: NaN };
  }
}

function cpuMsOf(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/** A notify socket this process plays for one agent. */
class NotifySink {
  readonly sock: UnixDatagramSocket;
  reloading = 0;
  readyAfterReload = 0;
  #inReload = false;
  #lastPing = -1;
  readonly gapsMs: number[] = [];
  /** The last STATUS= line. */
  status = "";
  /** Only gaps after this time count (the start and the stop are not steady state). */
  countFrom = Infinity;

  constructor(reactor: Reactor, path: string) {
    this.sock = UnixDatagramSocket.open();
    this.sock.bind(path);
    const dec = new TextDecoder();
    reactor.watch(this.sock.fd, () => {
      for (let m = this.sock.recv(); m !== null; m = this.sock.recv()) {
        this.#note(dec.decode(m), performance.now());
      }
    }, `notify ${path}`);
  }

  #note(msg: string, t: number): void {
    const fields = new Set(msg.split("\n"));
    for (const f of fields) if (f.startsWith("STATUS=")) this.status = f.slice("STATUS=".length);
    if (fields.has("WATCHDOG=1")) {
      if (this.#lastPing >= 0 && t >= this.countFrom) this.gapsMs.push(t - this.#lastPing);
      this.#lastPing = t;
    }
    if (fields.has("RELOADING=1")) {
      this.reloading++;
      this.#inReload = true;
    }
    if (fields.has("READY=1") && this.#inReload) {
      this.readyAfterReload++;
      this.#inReload = false;
    }
  }
}

/** Runs the soak; everything it creates is removed when it returns or throws. */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const log = opts.onLog ?? (() => {});
  await using lab = await VrrpLab.create("sk");
  // A second port on the bridge for each router: eth1, where VI_5 comes and goes.
  for (const [i, r] of (["r1", "r2"] as const).entries()) {
    const l = lab.lab, peer = `${l.prefix}${r}b`, tmp = `${l.prefix}${r}t`;
    await l.exec(null, ["ip", "link", "add", tmp, "type", "veth", "peer", "name", peer]);
    await l.exec(null, ["ip", "link", "set", tmp, "netns", l.ns(r)]);
    await l.exec(null, ["ip", "link", "set", peer, "netns", l.ns("sw")]);
    await l.exec(r, ["ip", "link", "set", tmp, "name", "eth1"]);
    await l.exec(r, ["ip", "addr", "add", `10.78.0.${i + 1}/24`, "dev", "eth1"]);
    await l.exec(r, ["ip", "link", "set", "eth1", "up"]);
    await l.exec("sw", ["ip", "link", "set", peer, "master", "br0"]);
    await l.exec("sw", ["ip", "link", "set", peer, "up"]);
  }
  const tcp = lab.lab.spawn("c", [Deno.execPath(), "run", "-A", SERVER, "tcp", "18081"]);
  const http = lab.lab.spawn("c", [Deno.execPath(), "run", "-A", SERVER, "http", "18082", "200"]);
  void tcp, http;
  const reactor = new Reactor();
  const loop = reactor.run();
  const sinks = {} as Record<RouterName, NotifySink>;
  const agents = {} as Record<RouterName, Agent>;
  try {
    for (const r of ["r1", "r2"] as const) {
      sinks[r] = new NotifySink(reactor, `${lab.dir}/${r}.notify`);
      agents[r] = lab.startHaagent(r, soakYaml(r, "A"), [], {
        NOTIFY_SOCKET: `${lab.dir}/${r}.notify`,
        WATCHDOG_USEC: String(opts.watchdogUsec),
        // test-gc: a full collection on request, to read what the heap retains.
        HAAGENT_TEST_HOOKS: "1",
        DENO_V8_FLAGS: "--expose-gc",
      });
    }
    const t0 = performance.now();
    const elapsed = () => performance.now() - t0;
    // The first election: r1 masters VI_1 / VI_2, r2 VI_3 / VI_4.
    await waitFor(
      async () => {
        const [s1, s2] = [await lab.status(agents.r1), await lab.status(agents.r2)];
        const st = (s: typeof s1, n: string) => s?.instances.find((i) => i.name === n)?.state;
        return st(s1, "VI_1") === "MASTER" && st(s1, "VI_2") === "MASTER" &&
          st(s2, "VI_3") === "MASTER" && st(s2, "VI_4") === "MASTER";
      },
      30_000,
      100,
    );
    const logMark = { r1: agents.r1.log.length, r2: agents.r2.log.length };
    const steadyFrom = performance.now();
    for (const r of ["r1", "r2"] as const) sinks[r].countFrom = steadyFrom;
    log(
      `elected after ${(elapsed() / 1000).toFixed(1)} s; soaking for ${opts.durationMs / 1000} s`,
    );

    const samples: SoakSample[] = [];
    const sample = async () => {
      for (const r of ["r1", "r2"] as const) {
        const pid = agents[r].proc.pid;
        const st = await lab.status(agents[r]);
        const s: SoakSample = {
          tS: Math.round(elapsed() / 100) / 10,
          router: r,
          ...procFootprint(pid),
          cpuMs: cpuMsOf(pid),
          heapKb: st === null ? NaN : Math.round(st.process.heapUsedBytes / 1024),
        };
        samples.push(s);
        opts.onSample?.(s);
      }
    };
    const heapAfterGc = async (r: RouterName) => {
      try {
        const m = await controlRequest(agents[r].control!, { cmd: "test-gc" }) as Deno.MemoryUsage;
        return Math.round(m.heapUsed / 1024);
      } catch {
        return NaN;
      }
    };
    const heapAfterGcKb = {
      r1: { start: NaN, end: NaN },
      r2: { start: NaN, end: NaN },
    } as SoakResult["heapAfterGcKb"];
    let reloads = 0;
    let variant: "A" | "B" = "A";
    /** Wall-clock times of the reloads, to tell which flaps followed one. */
    const reloadTimes: number[] = [];
    const reload = async () => {
      reloadTimes.push(Date.now());
      variant = variant === "A" ? "B" : "A";
      for (const r of ["r1", "r2"] as const) {
        await Deno.writeTextFile(`${lab.dir}/${r}.yaml`, soakYaml(r, variant));
      }
      reloads++;
      if (reloads % 2 === 0) {
        const o = await new Deno.Command(selfCommand()[0]!, {
          args: [...selfCommand().slice(1), "reload", "--control", agents.r1.control!],
          stdout: "null",
          stderr: "piped",
        }).output();
        if (!o.success) log(`haagent reload failed: ${new TextDecoder().decode(o.stderr)}`);
      } else {
        agents.r1.proc.kill("SIGHUP");
      }
      agents.r2.proc.kill("SIGHUP");
      agents.r1.proc.kill("SIGUSR1");
      agents.r1.proc.kill("SIGUSR2");
    };
    await sample();
    const end = steadyFrom + opts.durationMs;
    let nextSample = performance.now() + opts.sampleEveryMs;
    let nextReload = performance.now() + opts.reloadEveryMs;
    while (performance.now() < end && !opts.signal?.aborted) {
      const now = performance.now();
      if (now >= nextReload) {
        await reload();
        nextReload += opts.reloadEveryMs;
        // After the first reloads (code compiled, caches filled): the baseline.
        if (reloads === 6) {
          await new Promise((r) => setTimeout(r, 1000));
          for (const r of ["r1", "r2"] as const) heapAfterGcKb[r].start = await heapAfterGc(r);
        }
      }
      if (now >= nextSample) {
        await sample();
        nextSample += opts.sampleEveryMs;
      }
      for (const r of ["r1", "r2"] as const) {
        if (!Number.isFinite(procFootprint(agents[r].proc.pid).fds)) {
          throw new Error(`${r} exited:\n${agents[r].log.slice(-30).join("\n")}`);
        }
      }
      await new Promise((r) =>
        setTimeout(
          r,
          Math.max(
            10,
            Math.min(nextSample, nextReload, end) -
              performance.now(),
          ),
        )
      );
    }
    await sample();
    const durationMs = performance.now() - steadyFrom;
    // Let the last reload finish before counting.
    await new Promise((r) => setTimeout(r, 2000));
    for (const r of ["r1", "r2"] as const) heapAfterGcKb[r].end = await heapAfterGc(r);

    const flaps: string[] = [];
    const errors: string[] = [];
    for (const r of ["r1", "r2"] as const) {
      for (const l of agents[r].log.slice(logMark[r])) {
        if (/vrrp VI_[1-4]: \S+ -> \S+/.test(l)) {
          // The log line starts with its ISO time: how long after the last reload was it?
          const t = Date.parse(l.slice(0, 24));
          const last = reloadTimes.filter((x) => x <= t).at(-1);
          const after = last === undefined
            ? ""
            : ` (${((t - last) / 1000).toFixed(1)} s after a reload)`;
          flaps.push(`${r}: ${l}${after}`);
        }
        if (/\bERROR\b/.test(l)) errors.push(`${r}: ${l}`);
      }
    }
    const dumps = agents.r1.log.filter((l) => l.includes("state dump written to")).length;
    const notify = {} as SoakResult["notify"];
    for (const r of ["r1", "r2"] as const) {
      const s = sinks[r];
      notify[r] = {
        reloading: s.reloading,
        readyAfterReload: s.readyAfterReload,
        gapsMs: s.gapsMs,
        status: s.status,
      };
    }
    for (const r of ["r1", "r2"] as const) {
      agents[r].proc.kill("SIGTERM");
      await agents[r].proc.child.status;
    }
    return { samples, reloads, notify, flaps, errors, dumps, durationMs, heapAfterGcKb };
  } finally {
    for (const s of Object.values(sinks)) s.sock.close();
    reactor.close();
    await loop.catch(() => {});
  }
}

/** The sample of `router` nearest to `tS` seconds. */
export function sampleAt(samples: SoakSample[], router: RouterName, tS: number): SoakSample {
  const mine = samples.filter((s) => s.router === router);
  return mine.reduce((best, s) => Math.abs(s.tS - tS) < Math.abs(best.tS - tS) ? s : best);
}

/** Least-squares slope of `y` over `x` (units of y per unit of x). */
export function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let num = 0, den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}
