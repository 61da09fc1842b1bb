/**
 * The demo topology: a bridge, two routers running haagent, a client pinging the VIP. Shows
 * the election, kills the master, measures the failover (VIP moved, client's neighbour entry
 * moved, ping gap), brings the master back, and deletes everything.
 *
 * @module
 */
import { controlRequest } from "../runtime/control.ts";
import { selfCommand } from "../runtime/self.ts";
import type { AgentStatus } from "../agent/status_types.ts";
import { Lab, type LabProcess, netnsUnavailable, readLines } from "./lab.ts";

/** Demo options. */
export interface DemoOptions {
  version: 2 | 3;
  interval: string;
  keepLogs: boolean;
}

const VIP = "10.99.0.50";
const R = [
  { name: "r1", addr: "10.99.0.1", mac: "02:00:00:99:00:01", priority: 150 },
  { name: "r2", addr: "10.99.0.2", mac: "02:00:00:99:00:02", priority: 100 },
] as const;

const t0 = performance.now();
function say(msg: string): void {
  const s = ((performance.now() - t0) / 1000).toFixed(3).padStart(7);
  console.log(`[${s}s] ${msg}`);
}

function configYaml(r: (typeof R)[number], opts: DemoOptions, dir: string): string {
  return `# haagent demo router ${r.name}
global:
  router_id: ${r.name}
  control: ${dir}/${r.name}.sock
  pid_file: ${dir}/${r.name}.pid
  vrrp_version: ${opts.version}
vrrp_instances:
  VI_DEMO:
    interface: eth0
    vrid: 50
    priority: ${r.priority}
    advert_interval: ${opts.interval}
    virtual_ipaddresses: [${VIP}/24]
`;
}

async function hasVip(lab: Lab, ns: string): Promise<boolean> {
  const out = await lab.tryExec(ns, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
  return out.stdout.includes(` ${VIP}/`);
}

async function neighMac(lab: Lab): Promise<string> {
  const out = await lab.tryExec("c", ["ip", "neigh", "show", VIP, "dev", "eth0"]);
  return /lladdr ([0-9a-f:]+)/.exec(out.stdout)?.[1] ?? "none";
}

async function status(dir: string, name: string): Promise<AgentStatus | null> {
  try {
    return await controlRequest(`${dir}/${name}.sock`, { cmd: "status" }, 2000) as AgentStatus;
  } catch {
    return null;
  }
}

async function until(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 2): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (await fn()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return NaN;
}

interface PingTrack {
  proc: LabProcess;
  replies: { seq: number; at: number }[];
}

function startPing(lab: Lab, intervalS: number): PingTrack {
  const proc = lab.spawn("c", ["ping", "-n", "-i", String(intervalS), VIP], { stdout: "piped" });
  const track: PingTrack = { proc, replies: [] };
  void readLines(proc.child.stdout, [], (line) => {
    const m = /icmp_seq=(\d+)/.exec(line);
    if (m) track.replies.push({ seq: Number(m[1]), at: performance.now() });
  });
  return track;
}

function pingGap(track: PingTrack, from: number): { gapMs: number; lost: number } {
  const after = track.replies.filter((r) => r.at >= from);
  let gapMs = 0, lost = 0;
  for (let i = 1; i < after.length; i++) {
    const a = after[i - 1]!, b = after[i]!;
    if (b.at - a.at > gapMs) gapMs = b.at - a.at;
    lost += Math.max(0, b.seq - a.seq - 1);
  }
  return { gapMs, lost };
}

function pipeLog(name: string, proc: LabProcess, lines: string[]): void {
  void readLines(proc.child.stderr, lines, (line) => {
    if (/ -> |ERROR|refused/.test(line)) say(`  ${name}| ${line.replace(/^\S+ /, "")}`);
  });
}

/** Runs the demo; returns the exit code. */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const why = netnsUnavailable();
  if (why !== null) {
    console.error(`haagent demo: ${why}`);
    return 1;
  }
  const dir = await Deno.makeTempDir({ prefix: "haagent-demo-" });
  await using lab = await Lab.create("dmo");
  const logs: Record<string, string[]> = { r1: [], r2: [] };
  const agents: Record<string, LabProcess> = {};
  const onSignal = () => {
    lab.cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    say(`building the topology (namespaces ${lab.ns("*")}): bridge, r1, r2, client`);
    await lab.addBridge("sw");
    for (const r of R) {
      await lab.addNs(r.name);
      await lab.plug(r.name, "eth0", "sw", { mac: r.mac, addrs: [`${r.addr}/24`] });
    }
    await lab.addNs("c");
    await lab.plug("c", "eth0", "sw", { mac: "02:00:00:99:00:64", addrs: ["10.99.0.100/24"] });
    const self = selfCommand();
    const start = (r: (typeof R)[number]) => {
      const file = `${dir}/${r.name}.yaml`;
      Deno.writeTextFileSync(file, configYaml(r, opts, dir));
      const p = lab.spawn(r.name, [...self, "--config", file], { stderr: "piped" });
      pipeLog(r.name, p, logs[r.name]!);
      agents[r.name] = p;
    };
    say(
      `starting haagent on r1 (priority 150) and r2 (priority 100): VRRPv${opts.version}, ` +
        `adverts every ${opts.interval}, VIP ${VIP}`,
    );
    const tStart = performance.now();
    start(R[0]);
    start(R[1]);
    const tElect = await until(() => hasVip(lab, "r1"), 30_000, 10);
    if (Number.isNaN(tElect)) throw new Error("no router took the VIP within 30 s");
    say(`r1 holds ${VIP}, ${(performance.now() - tStart).toFixed(0)} ms after start`);
    await until(async () => (await status(dir, "r2"))?.instances[0]?.state === "BACKUP", 5000, 20);
    for (const r of R) {
      const st = await status(dir, r.name);
      const i = st?.instances[0];
      say(
        `  ${r.name}: ${i?.state ?? "?"} priority ${i?.effectivePriority ?? "?"} master ${
          i?.masterAddress ?? "?"
        }`,
      );
    }

    const intervalS = 0.01;
    const ping = startPing(lab, intervalS);
    await until(() => Promise.resolve(ping.replies.length > 20), 5000, 20);
    say(
      `client pings ${VIP} every ${intervalS * 1000} ms; its neighbour entry: ${await neighMac(
        lab,
      )} (r1)`,
    );

    say("killing r1: SIGKILL to haagent (no goodbye) and its link down");
    const tKill = performance.now();
    agents.r1!.kill("SIGKILL");
    await lab.exec("r1", ["ip", "link", "set", "eth0", "down"]);
    const [vipMs, neighMs] = await Promise.all([
      until(() => hasVip(lab, "r2"), 20_000),
      until(async () => (await neighMac(lab)) === R[1].mac, 20_000),
    ]);
    await new Promise((r) => setTimeout(r, 300));
    // From just before the kill, so the last reply before it starts the gap.
    const gap = pingGap(ping, tKill - 50);
    say(
      `r2 took ${VIP} after ${vipMs.toFixed(0)} ms; the client's neighbour entry moved to ` +
        `${R[1].mac} after ${neighMs.toFixed(0)} ms`,
    );
    say(`client ping gap ${gap.gapMs.toFixed(0)} ms (${gap.lost} replies lost)`);

    say("bringing r1 back (link up, haagent restarted): it preempts with priority 150");
    await lab.exec("r1", ["ip", "link", "set", "eth0", "up"]);
    const tBack = performance.now();
    start(R[0]);
    // r1 still holds the VIP its killed agent left behind; the new agent removes it at start.
    const backMs = await until(
      async () => (await status(dir, "r1"))?.instances[0]?.state === "MASTER",
      30_000,
      5,
    );
    const r2Has = await hasVip(lab, "r2");
    const r1Has = await hasVip(lab, "r1");
    say(
      `r1 is MASTER again ${backMs.toFixed(0)} ms after its restart; ${VIP} on r1: ${r1Has}, ` +
        `on r2: ${r2Has}`,
    );
    await new Promise((r) => setTimeout(r, 300));
    const gap2 = pingGap(ping, tBack);
    say(
      `client ping gap during the preemption ${
        gap2.gapMs.toFixed(0)
      } ms (${gap2.lost} replies lost)`,
    );

    say("stopping both agents with SIGTERM (priority-0 advert, VIPs removed)");
    for (const r of R) agents[r.name]!.kill("SIGTERM");
    await Promise.all(R.map((r) => agents[r.name]!.child.status));
    const left = (await hasVip(lab, "r1")) || (await hasVip(lab, "r2"));
    say(left ? "a VIP was left behind!" : "no VIP left on either router");
    ping.proc.kill("SIGINT");
    console.log(
      `\nsummary: election ${tElect.toFixed(0)} ms, failover: VIP ${vipMs.toFixed(0)} ms, ` +
        `client neighbour ${neighMs.toFixed(0)} ms, ping gap ${gap.gapMs.toFixed(0)} ms`,
    );
    return left || Number.isNaN(vipMs) ? 1 : 0;
  } catch (e) {
    console.error(`haagent demo failed: ${(e as Error).message}`);
    for (const [name, lines] of Object.entries(logs)) {
      console.error(`--- ${name} log (last 20 lines)\n${lines.slice(-20).join("\n")}`);
    }
    return 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    if (opts.keepLogs) {
      for (const [name, lines] of Object.entries(logs)) {
        await Deno.writeTextFile(`${dir}/${name}.log`, lines.join("\n") + "\n");
      }
      console.log(`logs kept in ${dir}`);
    } else {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    say("deleting the namespaces");
  }
}
