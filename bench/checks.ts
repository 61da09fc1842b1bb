/**
 * How many TCP_CHECK and HTTP_GET checks per second one process sustains against local servers
 * on 127.0.0.1 (loopback only) with 1, 8 and 64 checks in flight, and the event-loop lag
 * meanwhile (lateness of a 10 ms timer, p50 / p99 / max). Kinds:
 * - tcp: the real TCP_CHECK (non-blocking FFI connect; on loopback the handshake is done when
 *   connect returns, so `poll` settles it without the Reactor);
 * - tcp-epoll: the same with `pollFirst: false`, every connect waits on the shared checker
 *   Reactor, as it does for a server across a real network;
 * - tcp-deno: the former path (`Deno.connect` + close under the same deadline);
 * - http: HTTP_GET against the fixture server.
 * The TCP server is an accept-and-close sink (ffi/tcp.ts TcpSink, backlog 4096) in a child
 * process (this file with --serve=PORT[,PORT...] [--host=ADDR]), HTTP the fixture server; neither shares this event
 * loop. Each worker yields to the macrotask queue at least once a millisecond, as checks
 * driven by timers would. Figures include this process's CPU (user + system, which on loopback
 * holds most of the kernel's TCP work for both ends) per 1,000 checks.
 *
 *   deno run -A bench/checks.ts [--seconds=5] [--parallel=1,8,64] [--kinds=tcp,tcp-epoll,tcp-deno,http]
 *
 * Prints figures; asserts nothing.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Reactor } from "../ffi/reactor.ts";
import { TcpSink } from "../ffi/tcp.ts";
import { CheckRunner, commonDefaults, makeChecker } from "../lib/check/mod.ts";
import { RealClock } from "../lib/runtime/clock.ts";
import { deadline } from "../lib/check/stream.ts";
import { TcpChecker } from "../lib/check/tcp.ts";
import { mustParseIp } from "../lib/net/ip.ts";
import type { Checker, CheckOutcome, CheckSpec } from "../lib/check/types.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    parallel: { type: "string", default: "1,8,64" },
    kinds: { type: "string", default: "tcp,tcp-epoll,tcp-deno,http" },
    serve: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    runners: { type: "string" },
    "delay-loop-ms": { type: "string", default: "100" },
  },
});

if (values.serve !== undefined) {
  // Sink mode: accept-and-close on each port; "accepted N" (total) once a second after "ready".
  const reactor = new Reactor();
  const sinks = values.serve.split(",").map((p) =>
    new TcpSink(reactor, mustParseIp(values.host).bytes, Number(p))
  );
  console.log("ready");
  setInterval(() => console.log(`accepted ${sinks.reduce((n, s) => n + s.accepted, 0)}`), 1000);
  await reactor.run();
  Deno.exit(0);
}
const seconds = Number(values.seconds);
const parallels = values.parallel.split(",").map(Number);
const kinds = values.kinds.split(",");
const server = new URL("../tests/integration/fixtures/check_server.ts", import.meta.url).pathname;

function start(mode: string, port: number): Deno.ChildProcess {
  const args = mode === "sink"
    ? ["run", "-A", "--no-check", new URL(import.meta.url).pathname, `--serve=${port}`]
    : ["run", "-A", server, mode, String(port)];
  return new Deno.Command("deno", {
    args,
    stdout: "piped",
    stderr: "null",
  }).spawn();
}

async function ready(p: Deno.ChildProcess): Promise<void> {
  const r = p.stdout.pipeThrough(new TextDecoderStream()).getReader();
  await r.read();
  r.releaseLock();
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const chan = new MessageChannel();
const waiting: Array<() => void> = [];
chan.port1.onmessage = () => waiting.shift()?.();
/** Lets timers and I/O run: a macrotask without setTimeout's millisecond granularity. */
function yieldNow(): Promise<void> {
  return new Promise((r) => {
    waiting.push(r);
    chan.port2.postMessage(0);
  });
}

/** utime and stime of this process, ms. */
function cpuMs(): { user: number; sys: number } {
  const f = Deno.readTextFileSync("/proc/self/stat");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return { user: Number(rest[11]) * 10, sys: Number(rest[12]) * 10 };
}

/** The former TCP_CHECK: Deno.connect and close under a deadline. */
class DenoConnectChecker implements Checker {
  readonly kind = "TCP/Deno";
  constructor(readonly address: string, readonly port: number, readonly timeoutMs: number) {}
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    using dl = deadline(signal, this.timeoutMs);
    try {
      const c = await Deno.connect({ hostname: this.address, port: this.port, signal: dl.signal });
      c.close();
      return { ok: true, detail: "connected" };
    } catch (e) {
      return { ok: false, reason: String(e) };
    }
  }
}

async function measure(name: string, make: () => Checker, parallel: number): Promise<void> {
  const lags: number[] = [];
  let stop = false;
  const tick = () => {
    const t = performance.now();
    setTimeout(() => {
      lags.push(performance.now() - t - 10);
      if (!stop) tick();
    }, 10);
  };
  tick();
  let ok = 0;
  let failed = 0;
  let reason = "";
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const end = performance.now() + seconds * 1000;
  const ac = new AbortController();
  await Promise.all(Array.from({ length: parallel }, async () => {
    const c = make();
    for (;;) {
      if (performance.now() >= end) break;
      await yieldNow();
      const r = await c.run(ac.signal);
      if (r.ok) ok++;
      else {
        failed++;
        reason = r.reason;
      }
    }
  }));
  stop = true;
  const took = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs();
  const user = cpu1.user - cpu0.user;
  const cpu = user + cpu1.sys - cpu0.sys;
  const n = ok + failed;
  console.log(
    `${name.padEnd(9)} x${String(parallel).padEnd(3)} ${(ok / took).toFixed(0).padStart(6)} ` +
      `checks/s, ${failed} failed${reason ? ` (${reason})` : ""}; ` +
      `CPU ${(cpu / n * 1000).toFixed(0)} us/check (user ${(user / n * 1000).toFixed(0)}), ` +
      `${(cpu / took / 10).toFixed(0)}% of a core; lag p50 ${quantile(lags, 0.5).toFixed(2)} ms, ` +
      `p99 ${quantile(lags, 0.99).toFixed(2)} ms, max ${Math.max(...lags).toFixed(1)} ms; ` +
      `RSS ${(Deno.memoryUsage().rss / 1048576).toFixed(0)} MB`,
  );
}

/**
 * Runner mode: `n` CheckRunners (TCP_CHECK, delay_loop `delayLoopMs`, warmup spread over one
 * delay_loop) on the real clock, as the agent schedules them; prints checks/s, CPU and the
 * lateness of a 10 ms timer for `seconds`.
 */
async function runners(n: number, delayLoopMs: number): Promise<void> {
  const spec: CheckSpec = {
    ...commonDefaults("TCP_CHECK", delayLoopMs),
    connectTimeoutMs: 1000,
    retry: 0,
    warmupMs: delayLoopMs,
    type: "TCP_CHECK",
  };
  const clock = new RealClock();
  const all = Array.from({ length: n }, () => {
    const r = new CheckRunner(
      spec,
      makeChecker(spec, { address: "127.0.0.1", port: 7301 }),
      clock,
      () => {},
    );
    r.start();
    return r;
  });
  await new Promise((r) => setTimeout(r, 2 * delayLoopMs + 500));
  const runs = () => all.reduce((s, r) => s + r.stats.runs, 0);
  const fails = () => all.reduce((s, r) => s + r.stats.failures, 0);
  const lags: number[] = [];
  let stop = false;
  const tick = () => {
    const t = performance.now();
    setTimeout(() => {
      lags.push(performance.now() - t - 10);
      if (!stop) tick();
    }, 10);
  };
  tick();
  const r0 = runs();
  const f0 = fails();
  const c0 = cpuMs();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  const took = (performance.now() - t0) / 1000;
  const c1 = cpuMs();
  const done = runs() - r0;
  const cpu = c1.user + c1.sys - c0.user - c0.sys;
  for (const r of all) r.dispose();
  console.log(
    `runners x${n}, delay_loop ${delayLoopMs} ms: ${(done / took).toFixed(0)} checks/s, ` +
      `${fails() - f0} failed; CPU ${(cpu / done * 1000).toFixed(0)} us/check (user ${
        ((c1.user - c0.user) / done * 1000).toFixed(0)
      }), ${(cpu / took / 10).toFixed(0)}% of a core; 10 ms timer lateness p50 ${
        quantile(lags, 0.5).toFixed(2)
      } ms, p99 ${quantile(lags, 0.99).toFixed(2)} ms, max ${Math.max(...lags).toFixed(1)} ms`,
  );
}

const tcp = start("sink", 7301);
const http = start("http", 7302);
try {
  await ready(tcp);
  await ready(http);
  const base = { ...commonDefaults("TCP_CHECK"), connectTimeoutMs: 2000 };
  const tcpSpec: CheckSpec = { ...base, type: "TCP_CHECK" };
  const httpSpec: CheckSpec = {
    ...base,
    type: "HTTP_GET",
    urls: [{ path: "/health", statusCodes: [] }],
    httpProtocol: "1.0",
    enableSni: false,
    verifyCert: false,
  };
  const lo = "127.0.0.1";
  console.log(`${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, ${seconds} s per row`);
  if (values.runners !== undefined) {
    for (const n of values.runners.split(",").map(Number)) {
      await runners(n, Number(values["delay-loop-ms"]));
    }
  }
  for (const p of parallels) {
    if (kinds.includes("tcp")) {
      await measure("TCP_CHECK", () => makeChecker(tcpSpec, { address: lo, port: 7301 }), p);
    }
    if (kinds.includes("tcp-epoll")) {
      const make = () =>
        new TcpChecker({ ...base }, { address: lo, port: 7301 }, { pollFirst: false });
      await measure("TCP/epoll", make, p);
    }
    if (kinds.includes("tcp-deno")) {
      await measure("TCP/Deno", () => new DenoConnectChecker(lo, 7301, 2000), p);
    }
    if (kinds.includes("http")) {
      await measure("HTTP_GET", () => makeChecker(httpSpec, { address: lo, port: 7302 }), p);
    }
  }
} finally {
  chan.port1.close(); // an open port keeps the process alive
  tcp.kill("SIGKILL");
  http.kill("SIGKILL");
  await tcp.status;
  await http.status;
}
