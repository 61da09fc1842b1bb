/**
 * A BGP test lab: the example network of docs/bgp.md in namespaces. An upstream router (`up`,
 * 10.1.0.254, AS 65000) and two nodes (`n1` 10.1.0.1, `n2` 10.1.0.2, AS 65001) share a bridge;
 * each node runs haagent and a BGP speaker, BIRD 2 or FRR 8.4 (zebra + bfdd + bgpd), configured
 * with the snippets docs/bgp.md gives, read from the file. The upstream runs the same speaker,
 * configured by the lab (ECMP, a short hold time, BFD on or off), and its routes are read with
 * the speaker's own CLI (`birdc`, `vtysh`). Everything is removed by `cleanup()`.
 *
 * @module
 */
import { controlRequest } from "../../lib/runtime/control.ts";
import { selfCommand } from "../../lib/runtime/self.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";
import { haveCommand, Lab, type LabProcess, readLines, waitFor } from "./netns.ts";

/** The speaker the nodes and the upstream run. */
export type Speaker = "bird" | "frr";
/** A node of the lab. */
export type NodeName = "n1" | "n2";

/** Addresses of the example network. */
export const NET = {
  up: "10.1.0.254",
  n1: "10.1.0.1",
  n2: "10.1.0.2",
  prefix: 24,
} as const;

const FRR_DIR = "/usr/lib/frr";

/** Why the lab cannot run with `speaker`, or null. */
export function speakerMissing(speaker: Speaker): string | null {
  if (speaker === "bird") {
    return haveCommand("bird") && haveCommand("birdc") ? null : "BIRD 2 (bird2) is not installed";
  }
  try {
    for (const d of ["zebra", "bgpd", "bfdd"]) Deno.statSync(`${FRR_DIR}/${d}`);
  } catch {
    return "FRR (frr) is not installed";
  }
  return haveCommand("vtysh") ? null : "FRR's vtysh is not installed";
}

/** The block after `<!-- snippet: NAME -->` in docs/bgp.md, as written there. */
export function snippet(name: string): string {
  const doc = Deno.readTextFileSync(new URL("../../docs/bgp.md", import.meta.url));
  const re = new RegExp(`<!-- snippet: ${name} -->\\s*\\n\`\`\`[^\\n]*\\n([\\s\\S]*?)\\n\`\`\``);
  const m = re.exec(doc);
  if (m === null) throw new Error(`docs/bgp.md has no snippet "${name}"`);
  return m[1]! + "\n";
}

/** haagent running on a node. */
export interface NodeAgent {
  node: NodeName;
  proc: LabProcess;
  control: string;
  log: string[];
}

/** The lab. */
export class BgpLab implements AsyncDisposable {
  readonly lab: Lab;
  readonly dir: string;
  readonly speaker: Speaker;
  readonly #agents: NodeAgent[] = [];
  readonly #speakers = new Map<string, LabProcess[]>();
  readonly #speakerLogs = new Map<string, string[]>();

  private constructor(lab: Lab, dir: string, speaker: Speaker) {
    this.lab = lab;
    this.dir = dir;
    this.speaker = speaker;
  }

  /** Builds the namespaces and the bridge. */
  static async create(tag: string, speaker: Speaker): Promise<BgpLab> {
    const lab = await Lab.create(tag);
    const dir = await Deno.makeTempDir({ prefix: `haagent-${tag}-` });
    // FRR's daemons run as user frr and keep their sockets under this directory.
    await Deno.chmod(dir, 0o755);
    const b = new BgpLab(lab, dir, speaker);
    try {
      await lab.addBridge("sw");
      for (const ns of ["up", "n1", "n2"] as const) {
        await lab.addNs(ns);
        await lab.plug(ns, "eth0", "sw", { addrs: [`${NET[ns]}/${NET.prefix}`] });
      }
    } catch (e) {
      await b.cleanup();
      throw e;
    }
    return b;
  }

  /**
   * The upstream's configuration: both nodes as eBGP neighbours, ECMP, hold time `holdS`, BFD
   * with the nodes in `bfd` only (the others are watched by the hold timer alone).
   */
  upstreamConfig(opts: { bfd: NodeName[]; holdS: number; traceRoutes?: boolean }): string {
    const nodes = ["n1", "n2"] as const;
    if (this.speaker === "bird") {
      // traceRoutes: every change of the upstream's RIB is a log line with microseconds.
      const trace = opts.traceRoutes ? "timeformat log iso long us;\n" : "";
      return `log stderr all;
${trace}router id ${NET.up};
protocol device {}
protocol kernel { ipv4 { import none; export all; }; merge paths on; }
protocol bfd {
  interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };
}
template bgp node {
  local ${NET.up} as 65000;
  ipv4 { import all; export none; };
  hold time ${opts.holdS};
  connect retry time 1;
  error wait time 1, 5;
  ${opts.traceRoutes ? "debug { routes };" : ""}
}
${
        nodes.map((n) =>
          `protocol bgp ${n} from node { neighbor ${NET[n]} as 65001; bfd ${
            opts.bfd.includes(n) ? "on" : "off"
          }; }`
        ).join("\n")
      }
`;
    }
    const lines = [
      "bfd",
      " profile fast",
      "  receive-interval 100",
      "  transmit-interval 100",
      " exit",
      "exit",
      "!",
      "router bgp 65000",
      ` bgp router-id ${NET.up}`,
      " no bgp ebgp-requires-policy",
    ];
    for (const n of nodes) {
      lines.push(
        ` neighbor ${NET[n]} remote-as 65001`,
        ` neighbor ${NET[n]} timers 3 ${opts.holdS}`,
        ` neighbor ${NET[n]} timers connect 1`,
      );
      if (opts.bfd.includes(n)) lines.push(` neighbor ${NET[n]} bfd profile fast`);
    }
    lines.push(" address-family ipv4 unicast", "  maximum-paths 4", " exit-address-family", "exit");
    return lines.join("\n") + "\n";
  }

  /** Starts the upstream router's speaker. */
  async startUpstream(
    opts: { bfd: NodeName[]; holdS: number; traceRoutes?: boolean },
  ): Promise<void> {
    await this.#startSpeaker("up", this.upstreamConfig(opts));
  }

  /** Starts a node's speaker with the documented snippet. */
  async startNodeSpeaker(node: NodeName): Promise<void> {
    // Logs to stderr for the test's messages; the rest is the documented snippet as written.
    const head = this.speaker === "bird" ? "log stderr all;\n" : "";
    await this.#startSpeaker(node, head + snippet(this.speaker));
  }

  async #startSpeaker(ns: string, config: string): Promise<void> {
    const log: string[] = [];
    this.#speakerLogs.set(ns, log);
    if (this.speaker === "bird") {
      const conf = `${this.dir}/${ns}-bird.conf`;
      await Deno.writeTextFile(conf, config);
      const p = this.lab.spawn(ns, [
        "bird",
        "-f",
        "-c",
        conf,
        "-s",
        this.#birdSocket(ns),
        "-P",
        `${this.dir}/${ns}-bird.pid`,
      ], { stderr: "piped" });
      void readLines(p.child.stderr, log);
      this.#speakers.set(ns, [p]);
      await waitFor(async () => (await this.#cli(ns, ["show status"])).code === 0, 10_000);
      return;
    }
    const dir = `${this.dir}/frr-${ns}`;
    await Deno.mkdir(dir);
    const empty = `${dir}/empty.conf`;
    await Deno.writeTextFile(empty, "");
    await this.lab.exec(null, ["chown", "-R", "frr:frr", dir]);
    const daemon = (name: string, extra: string[] = []) => {
      const p = this.lab.spawn(ns, [
        `${FRR_DIR}/${name}`,
        "-f",
        empty,
        "-i",
        `${dir}/${name}.pid`,
        "-z",
        `${dir}/zserv.api`,
        "--vty_socket",
        dir,
        "-P",
        "0",
        "--log",
        "stdout",
        ...extra,
      ], { stdout: "piped" });
      void readLines(p.child.stdout, log, undefined);
      return p;
    };
    const procs = [daemon("zebra")];
    await waitFor(() => exists(`${dir}/zserv.api`), 10_000);
    procs.push(daemon("bfdd", ["--bfdctl", `${dir}/bfdd.sock`]), daemon("bgpd"));
    this.#speakers.set(ns, procs);
    await waitFor(async () => {
      const o = await this.#cli(ns, ["show daemons"]);
      return o.code === 0 && ["zebra", "bfdd", "bgpd"].every((d) => o.stdout.includes(d));
    }, 10_000);
    const conf = `${dir}/frr.conf`;
    await Deno.writeTextFile(conf, config);
    const o = await this.lab.tryExec(ns, ["vtysh", "--vty_socket", dir, "-f", conf]);
    if (o.code !== 0) {
      throw new Error(`vtysh -f on ${ns} failed ${o.code}: ${o.stdout}${o.stderr}`);
    }
  }

  #birdSocket(ns: string): string {
    return `${this.dir}/${ns}-bird.ctl`;
  }

  /** Runs the speaker's CLI in `ns` (`birdc` or `vtysh -c`) with `commands`. */
  #cli(ns: string, commands: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    if (this.speaker === "bird") {
      return this.lab.tryExec(ns, ["birdc", "-s", this.#birdSocket(ns), ...commands]);
    }
    return this.lab.tryExec(ns, [
      "vtysh",
      "--vty_socket",
      `${this.dir}/frr-${ns}`,
      ...commands.flatMap((c) => ["-c", c]),
    ]);
  }

  /** The lines the speaker of `ns` logged so far (BIRD's stderr, FRR's stdout). */
  speakerLog(ns: string): readonly string[] {
    return this.#speakerLogs.get(ns) ?? [];
  }

  /** The speaker's CLI output in `ns` (for messages and the test log). */
  async cli(ns: string, command: string): Promise<string> {
    const o = await this.#cli(ns, [command]);
    return o.stdout + o.stderr;
  }

  /** The next hops the upstream's speaker has for `prefix` (its RIB, read with its CLI), sorted. */
  async upstreamPaths(prefix: string): Promise<string[]> {
    if (this.speaker === "bird") {
      const o = await this.#cli("up", [`show route ${prefix}`]);
      return [...o.stdout.matchAll(/via (\S+) on /g)].map((m) => m[1]!).sort();
    }
    const o = await this.#cli("up", [`show ip route ${prefix} json`]);
    try {
      const j = JSON.parse(o.stdout) as Record<
        string,
        { selected?: boolean; nexthops: { ip?: string; active?: boolean }[] }[]
      >;
      const route = (j[prefix] ?? []).find((r) => r.selected);
      return (route?.nexthops ?? []).filter((n) => n.active && n.ip).map((n) => n.ip!).sort();
    } catch {
      return [];
    }
  }

  /** The next hops of `prefix` in the upstream's kernel (what it forwards with), sorted. */
  async upstreamFib(prefix: string): Promise<string[]> {
    const o = await this.lab.tryExec("up", ["ip", "route", "show", prefix]);
    return [...o.stdout.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
  }

  /** Waits until the upstream's next hops for `prefix` are `want`; returns the wait in ms. */
  async waitPaths(prefix: string, want: string[], timeoutMs = 15_000): Promise<number> {
    const t0 = performance.now();
    const w = [...want].sort().join(",");
    try {
      await waitFor(async () => (await this.upstreamPaths(prefix)).join(",") === w, timeoutMs, 50);
    } catch {
      throw new Error(
        `upstream's next hops for ${prefix}: [${(await this.upstreamPaths(prefix)).join(", ")}], ` +
          `expected [${w}] within ${timeoutMs} ms\n${await this.diagnostics()}`,
      );
    }
    return performance.now() - t0;
  }

  /** Whether the upstream's sessions to `nodes` are established (and BFD up to those in `bfd`). */
  async established(nodes: NodeName[], bfd: NodeName[]): Promise<boolean> {
    if (this.speaker === "bird") {
      const p = await this.#cli("up", ["show protocols"]);
      const bgpUp = nodes.every((n) =>
        new RegExp(`^${n}\\s+BGP\\s.*Established`, "m").test(p.stdout)
      );
      if (!bgpUp || bfd.length === 0) return bgpUp;
      const s = await this.#cli("up", ["show bfd sessions"]);
      return bfd.every((n) =>
        new RegExp(`^${NET[n].replace(/\./g, "\\.")}\\s+eth0\\s+Up`, "m").test(s.stdout)
      );
    }
    const o = await this.#cli("up", ["show bgp summary json"]);
    try {
      const peers =
        (JSON.parse(o.stdout) as { ipv4Unicast?: { peers?: Record<string, { state: string }> } })
          .ipv4Unicast?.peers ?? {};
      const bgpUp = nodes.every((n) => peers[NET[n]]?.state === "Established");
      if (!bgpUp || bfd.length === 0) return bgpUp;
      const b = await this.#cli("up", ["show bfd peers json"]);
      const list = JSON.parse(b.stdout) as { peer: string; status: string }[];
      return bfd.every((n) => list.some((x) => x.peer === NET[n] && x.status === "up"));
    } catch {
      return false;
    }
  }

  /** Waits for the upstream's sessions to both nodes (and BFD to those in `bfd`). */
  async waitEstablished(bfd: NodeName[], timeoutMs = 60_000): Promise<void> {
    try {
      await waitFor(() => this.established(["n1", "n2"], bfd), timeoutMs, 200);
    } catch {
      throw new Error(
        `BGP sessions not established within ${timeoutMs} ms\n${await this.diagnostics()}`,
      );
    }
  }

  /** Starts haagent on a node with YAML `config`. */
  startHaagent(node: NodeName, config: string): NodeAgent {
    const file = `${this.dir}/${node}.yaml`;
    Deno.writeTextFileSync(file, config);
    const control = `${this.dir}/${node}.sock`;
    const proc = this.lab.spawn(node, [
      ...selfCommand(),
      "--config",
      file,
      "--control",
      control,
      "--pid-file",
      `${this.dir}/${node}.pid`,
    ], { stderr: "piped" });
    const a: NodeAgent = { node, proc, control, log: [] };
    void readLines(proc.child.stderr, a.log);
    this.#agents.push(a);
    return a;
  }

  /** haagent's status, or null. */
  async status(a: NodeAgent): Promise<AgentStatus | null> {
    try {
      return await controlRequest(a.control, { cmd: "status" }, 2000) as AgentStatus;
    } catch {
      return null;
    }
  }

  /** Waits until the node's instance VI_1 is in `state`. */
  async waitState(a: NodeAgent, state: string, timeoutMs = 20_000): Promise<void> {
    try {
      await waitFor(async () => (await this.status(a))?.instances[0]?.state === state, timeoutMs);
    } catch {
      throw new Error(`${a.node} did not reach ${state}\n${a.log.slice(-30).join("\n")}`);
    }
  }

  /** Routes of table 198 on a node, `ADDRESS dev DEV proto N`, sorted. */
  async table198(node: NodeName): Promise<string[]> {
    const o = await this.lab.tryExec(node, ["ip", "-o", "route", "show", "table", "198"]);
    return o.stdout.split("\n").filter(Boolean).map((l) => {
      const m = /^(\S+) dev (\S+) proto (\S+)/.exec(l.trim());
      return m ? `${m[1]} dev ${m[2]} proto ${m[3]}` : l.trim();
    }).sort();
  }

  /** Kills haagent with no goodbye (SIGKILL) and waits for it. */
  async crash(a: NodeAgent): Promise<void> {
    a.proc.kill("SIGKILL");
    await a.proc.child.status;
  }

  /** SIGTERM and wait; the exit code. */
  async stop(a: NodeAgent): Promise<number> {
    a.proc.kill("SIGTERM");
    return (await a.proc.child.status).code;
  }

  /**
   * A whole node dies: its link goes down first (so that nothing, not even a TCP reset, leaves
   * it), then haagent and the speaker are killed with SIGKILL. The upstream's interface stays up.
   */
  async killNode(node: NodeName): Promise<void> {
    await this.lab.exec(node, ["ip", "link", "set", "eth0", "down"]);
    for (const a of this.#agents) if (a.node === node) a.proc.kill("SIGKILL");
    for (const p of this.#speakers.get(node) ?? []) p.kill("SIGKILL");
  }

  /** The upstream's sessions and routes, the nodes' tables and logs: for failure messages. */
  async diagnostics(): Promise<string> {
    const out: string[] = [];
    const cmds = this.speaker === "bird"
      ? ["show protocols", "show bfd sessions", "show route"]
      : ["show bgp summary", "show bfd peers brief", "show ip route"];
    for (const c of cmds) out.push(`--- up: ${c}\n${await this.cli("up", c)}`);
    for (const n of ["n1", "n2"] as const) {
      out.push(`--- ${n}: table 198\n${(await this.table198(n)).join("\n")}`);
    }
    for (const a of this.#agents) out.push(`--- haagent ${a.node}\n${a.log.slice(-15).join("\n")}`);
    for (const [ns, log] of this.#speakerLogs) {
      out.push(`--- ${this.speaker} ${ns}\n${log.slice(-15).join("\n")}`);
    }
    return out.join("\n");
  }

  /** Kills every process, deletes the namespaces and files. */
  async cleanup(): Promise<void> {
    for (const a of this.#agents) a.proc.kill("SIGKILL");
    await this.lab.cleanup();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
