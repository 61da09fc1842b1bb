/**
 * keepalived's checker process against haagent's, on a real IPVS kernel (run it in the qemu
 * guest): the same `--servers` real servers, each with a TCP_CHECK every `--delay-loop-s`, in one
 * virtual server. The real servers are 10.211.x.y:18000, made local by a `local` route on lo,
 * where an accept-and-close sink (bench/checks.ts --serve) counts connections. For each agent:
 * start, wait `--warmup-s`, then over `--window-s` read its CPU (utime + stime from /proc, all
 * of keepalived's processes or the haagent process) and the checks/s the sink saw; then stop it
 * and clear IPVS. TCG makes absolute figures slow: compare the ratio. Prints figures.
 *
 *   deno run -A tests/vm/run.ts -- deno run -A --no-check bench/checker_vs_keepalived.ts \
 *     [--servers=200] [--delay-loop-s=1] [--warmup-s=8] [--window-s=30]
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    servers: { type: "string", default: "200" },
    "delay-loop-s": { type: "string", default: "1" },
    "warmup-s": { type: "string", default: "8" },
    "window-s": { type: "string", default: "30" },
  },
});
const servers = Number(values.servers);
const delayLoopS = Number(values["delay-loop-s"]);
const warmupMs = Number(values["warmup-s"]) * 1000;
const windowMs = Number(values["window-s"]) * 1000;
const PORT = 18000;
const root = new URL("../", import.meta.url).pathname;
const TICKS_PER_S = 100;

function rs(i: number): string {
  return `10.211.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

async function sh(args: string[]): Promise<string> {
  const o = await new Deno.Command(args[0]!, { args: args.slice(1), stderr: "piped" }).output();
  if (!o.success) {
    throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(o.stderr).trim()}`);
  }
  return new TextDecoder().decode(o.stdout);
}

function cpuMs(pid: number): number {
  try {
    const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Direct children of `pid` (keepalived's checker child). */
function children(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const s = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(s.slice(s.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

function keepalivedConf(): string {
  const rsBlocks = Array.from({ length: servers }, (_, i) =>
    `  real_server ${rs(i)} ${PORT} {
    weight 1
    TCP_CHECK {
      connect_timeout 1
      retry 0
    }
  }`).join("\n");
  return `global_defs {
  router_id kv
}
virtual_server 10.210.0.1 80 {
  delay_loop ${delayLoopS}
  lb_algo rr
  lb_kind NAT
  protocol TCP
${rsBlocks}
}
`;
}

function haagentYaml(): string {
  const lines = [
    "virtual_servers:",
    "  - address: 10.210.0.1:80",
    "    protocol: TCP",
    "    scheduler: rr",
    `    delay_loop: ${delayLoopS}s`,
    "    real_servers:",
  ];
  for (let i = 0; i < servers; i++) {
    lines.push(
      `      - address: ${rs(i)}:${PORT}`,
      "        checks: [{ type: TCP_CHECK, connect_timeout: 1s, retry: 0 }]",
    );
  }
  return lines.join("\n") + "\n";
}

/** The sink's running total, from its "accepted N" lines. */
class Sink {
  total = 0;
  readonly proc: Deno.ChildProcess;
  readonly ready: Promise<void>;
  constructor() {
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        `${root}bench/checks.ts`,
        `--serve=${PORT}`,
        "--host=0.0.0.0",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.proc = proc;
    let ok!: () => void;
    this.ready = new Promise((r) => (ok = r));
    (async () => {
      let rest = "";
      for await (const c of proc.stdout.pipeThrough(new TextDecoderStream())) {
        rest += c;
        const parts = rest.split("\n");
        rest = parts.pop() ?? "";
        for (const l of parts) {
          if (l === "ready") ok();
          const m = /^accepted (\d+)$/.exec(l);
          if (m) this.total = Number(m[1]);
        }
      }
    })().catch(() => {});
  }
}

interface Figures {
  name: string;
  cpuMs: number;
  checksPerS: number;
  rssMb: number;
}

async function measure(
  name: string,
  sink: Sink,
  start: () => Deno.ChildProcess,
  pids: (p: Deno.ChildProcess) => number[],
): Promise<Figures> {
  const p = start();
  try {
    await new Promise((r) => setTimeout(r, warmupMs));
    const ps = pids(p);
    const c0 = ps.reduce((s, x) => s + cpuMs(x), 0);
    const a0 = sink.total;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs));
    const c1 = ps.reduce((s, x) => s + cpuMs(x), 0);
    const a1 = sink.total;
    const t1 = performance.now();
    const rss = ps.reduce((s, x) => s + rssMb(x), 0);
    const ipvs = (await sh(["ipvsadm", "-Ln"])).split("\n").filter((l) => l.includes("->"))
      .length - 1;
    console.log(
      `${name}: pids ${ps.join(",")}, IPVS real servers ${ipvs}, ` +
        `${((a1 - a0) / ((t1 - t0) / 1000)).toFixed(1)} checks/s, ` +
        `CPU ${(c1 - c0).toFixed(0)} ms in ${((t1 - t0) / 1000).toFixed(0)} s, RSS ${
          rss.toFixed(0)
        } MB`,
    );
    return {
      name,
      cpuMs: c1 - c0,
      checksPerS: (a1 - a0) / ((t1 - t0) / 1000),
      rssMb: rss,
    };
  } finally {
    try {
      p.kill("SIGTERM");
    } catch { /* gone */ }
    const timer = setTimeout(() => {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await p.status;
    clearTimeout(timer);
    await sh(["ipvsadm", "-C"]).catch(() => "");
  }
}

async function main(): Promise<void> {
  await sh(["ip", "link", "set", "lo", "up"]);
  await sh(["ip", "route", "replace", "local", "10.211.0.0/16", "dev", "lo"]);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/keepalived.conf`, keepalivedConf());
  await Deno.writeTextFile(`${dir}/ha.yaml`, haagentYaml());
  const sink = new Sink();
  await sink.ready;
  console.log(
    `checker vs keepalived: ${servers} real servers, TCP_CHECK, delay_loop ${delayLoopS} s, ` +
      `window ${windowMs / 1000} s after ${warmupMs / 1000} s; ${Deno.osRelease()}`,
  );
  const results: Figures[] = [];
  try {
    results.push(
      await measure("keepalived --check", sink, () =>
        new Deno.Command("keepalived", {
          args: [
            "-n",
            "-l",
            // No -D: with it keepalived logs every successful check, to the serial console in
            // the guest, which costs it more CPU than the checks.
            "--check",
            "-f",
            `${dir}/keepalived.conf`,
            "-p",
            `${dir}/ka.pid`,
            "-r",
            `${dir}/ka-vrrp.pid`,
            "-c",
            `${dir}/ka-check.pid`,
          ],
          stdout: "null",
          stderr: "null",
        }).spawn(), (p) => [p.pid, ...children(p.pid)]),
    );
    results.push(
      await measure("haagent", sink, () =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--no-check",
            `${root}main.ts`,
            "--config",
            `${dir}/ha.yaml`,
            "--control",
            `${dir}/ha.sock`,
            "--pid-file",
            `${dir}/ha.pid`,
          ],
          stdout: "null",
          stderr: "null",
        }).spawn(), (p) => [p.pid]),
    );
  } finally {
    sink.proc.kill("SIGKILL");
    await sink.proc.status;
  }
  const [k, h] = results;
  if (k !== undefined && h !== undefined) {
    const perK = k.cpuMs / Math.max(1e-9, k.checksPerS * windowMs / 1000);
    const perH = h.cpuMs / Math.max(1e-9, h.checksPerS * windowMs / 1000);
    console.log(
      `CPU per check: keepalived ${(perK * 1000).toFixed(0)} us, haagent ${
        (perH * 1000).toFixed(0)
      } us; haagent / keepalived = ${(perH / perK).toFixed(2)} (CPU ${
        (h.cpuMs / Math.max(1, k.cpuMs)).toFixed(2)
      }x at ${h.checksPerS.toFixed(0)} vs ${k.checksPerS.toFixed(0)} checks/s)`,
    );
  }
}

await main();
