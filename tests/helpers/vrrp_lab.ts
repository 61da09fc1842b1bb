/**
 * A VRRP test lab: a bridge, two routers (r1, r2) and a client in namespaces, with helpers to
 * run haagent or keepalived on a router, capture VRRP packets on the client, and read
 * addresses, neighbour entries and the agents' status. Everything is removed by `cleanup()`.
 *
 * @module
 */
import { Lab, type LabProcess, readLines, waitFor } from "./netns.ts";
import { controlRequest } from "../../lib/runtime/control.ts";
import { selfCommand } from "../../lib/runtime/self.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";

/** Router facts. */
export const ROUTERS = {
  r1: { addr4: "10.77.0.1", addr6: "fd77::1", ll: "fe80::77:1", mac: "02:00:00:77:00:01" },
  r2: { addr4: "10.77.0.2", addr6: "fd77::2", ll: "fe80::77:2", mac: "02:00:00:77:00:02" },
} as const;
/** Router names. */
export type RouterName = keyof typeof ROUTERS;

/** A running agent (haagent or keepalived) on a router. */
export interface Agent {
  kind: "haagent" | "keepalived";
  router: RouterName;
  proc: LabProcess;
  /** keepalived's VRRP child pid file (keepalived only). */
  vrrpPidFile?: string;
  control?: string;
  log: string[];
}

/** One captured VRRP advert. */
export interface CapturedAdvert {
  t: number;
  src: string;
  vrid: number;
  priority: number;
}

/** The lab. */
export class VrrpLab implements AsyncDisposable {
  readonly lab: Lab;
  readonly dir: string;
  readonly #agents: Agent[] = [];

  private constructor(lab: Lab, dir: string) {
    this.lab = lab;
    this.dir = dir;
  }

  /** Builds the topology: sw (bridge), r1, r2, c; IPv4 and IPv6 addresses without DAD. */
  static async create(tag: string): Promise<VrrpLab> {
    const lab = await Lab.create(tag);
    const dir = await Deno.makeTempDir({ prefix: `haagent-${tag}-` });
    const v = new VrrpLab(lab, dir);
    try {
      await lab.addBridge("sw");
      for (const [name, r] of Object.entries(ROUTERS)) {
        await lab.addNs(name);
        await lab.exec(name, ["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
        await lab.plug(name, "eth0", "sw", { mac: r.mac, addrs: [`${r.addr4}/24`] });
        await lab.exec(name, ["ip", "-6", "addr", "add", `${r.ll}/64`, "dev", "eth0", "nodad"]);
        await lab.exec(name, ["ip", "-6", "addr", "add", `${r.addr6}/64`, "dev", "eth0", "nodad"]);
      }
      await lab.addNs("c");
      await lab.exec("c", ["sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
      await lab.plug("c", "eth0", "sw", { mac: "02:00:00:77:00:64", addrs: ["10.77.0.100/24"] });
      await lab.exec("c", ["ip", "-6", "addr", "add", "fd77::100/64", "dev", "eth0", "nodad"]);
    } catch (e) {
      await v.cleanup();
      throw e;
    }
    return v;
  }

  /**
   * Starts haagent on `router` with YAML `config` (control socket and pid file added) and
   * `env` added to the environment.
   */
  startHaagent(
    router: RouterName,
    config: string,
    extraArgs: string[] = [],
    env?: Record<string, string>,
  ): Agent {
    const file = `${this.dir}/${router}.yaml`;
    Deno.writeTextFileSync(file, config);
    const control = `${this.dir}/${router}.sock`;
    const proc = this.lab.spawn(router, [
      ...selfCommand(),
      "--config",
      file,
      "--control",
      control,
      "--pid-file",
      `${this.dir}/${router}.pid`,
      // SIGUSR1 / SIGUSR2 dumps stay in the lab's directory (a later --dump-dir wins).
      "--dump-dir",
      this.dir,
      ...extraArgs,
    ], { stderr: "piped", ...(env !== undefined ? { env } : {}) });
    const a: Agent = { kind: "haagent", router, proc, control, log: [] };
    collect(proc, a.log);
    this.#agents.push(a);
    return a;
  }

  /**
   * Starts Debian's keepalived on `router` with keepalived.conf text: VRRP only, or with
   * `vrrpOnly: false` its checker process too (which parses virtual servers).
   */
  startKeepalived(router: RouterName, conf: string, opts: { vrrpOnly?: boolean } = {}): Agent {
    const file = `${this.dir}/${router}-keepalived.conf`;
    Deno.writeTextFileSync(file, conf);
    // Fresh pid files per start: a killed keepalived child can linger as a zombie here.
    const p = `${this.dir}/${router}-ka${this.#agents.length}`;
    const proc = this.lab.spawn(router, [
      "keepalived",
      "-n",
      "-l",
      "-D",
      "-f",
      file,
      "-p",
      `${p}.pid`,
      "-r",
      `${p}-vrrp.pid`,
      "-c",
      `${p}-check.pid`,
      ...(opts.vrrpOnly === false ? [] : ["--vrrp"]),
    ], { stderr: "piped", stdout: "piped" });
    const a: Agent = { kind: "keepalived", router, proc, vrrpPidFile: `${p}-vrrp.pid`, log: [] };
    collect(proc, a.log);
    this.#agents.push(a);
    return a;
  }

  /** Kills an agent without a goodbye: SIGSTOP everything, then SIGKILL (keepalived too). */
  async crash(a: Agent): Promise<void> {
    const pids = [a.proc.pid];
    if (a.vrrpPidFile) {
      try {
        pids.push(Number((await Deno.readTextFile(a.vrrpPidFile)).trim()));
      } catch { /* child not started */ }
    }
    for (const pid of pids) await this.lab.tryExec(null, ["kill", "-STOP", String(pid)]);
    for (const pid of pids) await this.lab.tryExec(null, ["kill", "-KILL", String(pid)]);
    await a.proc.child.status;
  }

  /** SIGTERM and wait for exit. */
  async stop(a: Agent): Promise<number> {
    a.proc.kill("SIGTERM");
    const s = await a.proc.child.status;
    return s.code;
  }

  /** Whether `router` holds `vip` (text without prefix) on any interface. */
  async hasVip(router: RouterName, vip: string): Promise<boolean> {
    const out = await this.lab.tryExec(router, ["ip", "-o", "addr", "show"]);
    return out.stdout.split("\n").some((l) => l.includes(` ${vip}/`));
  }

  /** The client's neighbour entry MAC for `ip`, or null. */
  async neighMac(ip: string): Promise<string | null> {
    const out = await this.lab.tryExec("c", ["ip", "neigh", "show", ip, "dev", "eth0"]);
    return /lladdr ([0-9a-f:]+)/.exec(out.stdout)?.[1] ?? null;
  }

  /** haagent's status through its control socket, or null. */
  async status(a: Agent): Promise<AgentStatus | null> {
    if (!a.control) return null;
    try {
      return await controlRequest(a.control, { cmd: "status" }, 2000) as AgentStatus;
    } catch {
      return null;
    }
  }

  /** Waits until haagent's first instance is in `state`. */
  async waitState(a: Agent, state: string, timeoutMs: number): Promise<void> {
    try {
      await waitFor(async () => (await this.status(a))?.instances[0]?.state === state, timeoutMs);
    } catch (e) {
      throw new Error(
        `${a.router} did not reach ${state}: ${(e as Error).message}\n${a.log.join("\n")}`,
      );
    }
  }

  /** Waits until `router` holds (or, with `held` false, no longer holds) `vip`; returns ms. */
  async waitVip(router: RouterName, vip: string, timeoutMs: number, held = true): Promise<number> {
    const t = performance.now();
    try {
      await waitFor(async () => (await this.hasVip(router, vip)) === held, timeoutMs, 5);
    } catch {
      const logs = this.#agents.map((a) =>
        `--- ${a.router} ${a.kind}\n${a.log.slice(-30).join("\n")}`
      );
      throw new Error(
        `${router} ${held ? "did not take" : "did not release"} ${vip} within ` +
          `${timeoutMs} ms\n${logs.join("\n")}`,
      );
    }
    return performance.now() - t;
  }

  /**
   * Starts tcpdump for VRRP (protocol 112) packets, on the client (multicast) or, with `port`,
   * on that router's bridge port in the switch namespace (sees its unicast too); stop()
   * returns the adverts.
   */
  async capture(
    port?: RouterName,
    filter = "ip proto 112 or ip6 proto 112",
  ): Promise<{ stop(): Promise<CapturedAdvert[]>; raw(): string }> {
    const [ns, ifname] = port === undefined ? ["c", "eth0"] : ["sw", `${this.lab.prefix}${port}`];
    const proc = this.lab.spawn(ns, ["tcpdump", "-l", "-n", "-tt", "-i", ifname, filter], {
      stdout: "piped",
      stderr: "piped",
    });
    const lines: string[] = [];
    const err: string[] = [];
    collect(proc, err);
    collectStdout(proc, lines);
    await waitFor(() => err.some((l) => l.includes("listening on")), 10_000);
    return {
      raw: () => lines.join("\n"),
      stop: async () => {
        await new Promise((r) => setTimeout(r, 200));
        proc.kill("SIGINT");
        await proc.child.status;
        return parseAdverts(lines);
      },
    };
  }

  /** Loads an nftables ruleset in a router's namespace (to drop multicast VRRP, say). */
  async nft(router: RouterName, ruleset: string): Promise<void> {
    const file = `${this.dir}/${router}.nft`;
    await Deno.writeTextFile(file, ruleset);
    await this.lab.exec(router, ["nft", "-f", file]);
  }

  /** Kills every agent and deletes the namespaces and files. */
  async cleanup(): Promise<void> {
    for (const a of this.#agents) a.proc.kill("SIGKILL");
    await this.lab.cleanup();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

function collect(proc: LabProcess, into: string[]): void {
  void readLines(proc.child.stderr, into);
}

function collectStdout(proc: LabProcess, into: string[]): void {
  void readLines(proc.child.stdout, into);
}

/** Parses tcpdump -n -tt lines of VRRP adverts. */
export function parseAdverts(lines: string[]): CapturedAdvert[] {
  const out: CapturedAdvert[] = [];
  for (const l of lines) {
    const m =
      /^(\d+\.\d+) IP6? ([0-9a-f.:]+) > [0-9a-f.:]+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)/
        .exec(l);
    if (m) out.push({ t: Number(m[1]), src: m[2]!, vrid: Number(m[3]), priority: Number(m[4]) });
  }
  return out;
}

/**
 * The longest time two sources were both sending non-zero-priority adverts as master. Each
 * source's adverts are grouped into runs (gaps of at most 1.5 advert intervals); the answer
 * is the largest overlap between runs of different sources, in seconds.
 */
export function longestDualMaster(adverts: CapturedAdvert[], intervalS: number): number {
  const runs = new Map<string, { from: number; to: number }[]>();
  for (const a of adverts) {
    if (a.priority === 0) continue;
    const list = runs.get(a.src) ?? [];
    const last = list[list.length - 1];
    if (last !== undefined && a.t - last.to <= 1.5 * intervalS) last.to = a.t;
    else list.push({ from: a.t, to: a.t });
    runs.set(a.src, list);
  }
  const all = [...runs.entries()];
  let worst = 0;
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      for (const x of all[i]![1]) {
        for (const y of all[j]![1]) {
          worst = Math.max(worst, Math.min(x.to, y.to) - Math.max(x.from, y.from));
        }
      }
    }
  }
  return worst;
}
