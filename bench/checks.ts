/**
 * How many TCP_CHECK and HTTP_GET checks per second one agent process sustains against local
 * servers on 127.0.0.1 (loopback only), and the event-loop lag meanwhile (lateness of a 10 ms
 * timer, p50 / p99). The servers run in a child process so they do not share this event loop.
 *
 *   deno run -A bench/checks.ts [seconds=5] [concurrency=64]
 *
 * Prints figures; asserts nothing.
 *
 * @module
 */
import { commonDefaults, makeChecker } from "../lib/check/mod.ts";
import type { CheckSpec } from "../lib/check/types.ts";

const seconds = Number(Deno.args[0] ?? 5);
const concurrency = Number(Deno.args[1] ?? 64);
const server = new URL("../tests/integration/fixtures/check_server.ts", import.meta.url).pathname;

function start(mode: string, port: number): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: ["run", "-A", server, mode, String(port)],
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

async function measure(name: string, spec: CheckSpec, port: number) {
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
  const t0 = performance.now();
  const end = performance.now() + seconds * 1000;
  const ac = new AbortController();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    const c = makeChecker(spec, { address: "127.0.0.1", port });
    while (performance.now() < end) {
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
  console.log(
    `${name.padEnd(9)} ${(ok / took).toFixed(0).padStart(6)} checks/s ok, ${failed} failed` +
      `${reason ? ` (${reason})` : ""}; concurrency ${concurrency}; ` +
      `10 ms timer lateness p50 ${quantile(lags, 0.5).toFixed(2)} ms, ` +
      `p99 ${quantile(lags, 0.99).toFixed(2)} ms, max ${Math.max(...lags).toFixed(1)} ms; ` +
      `RSS ${(Deno.memoryUsage().rss / 1048576).toFixed(0)} MB`,
  );
}

const tcp = start("tcp", 7301);
const http = start("http", 7302);
try {
  await ready(tcp);
  await ready(http);
  const base = { ...commonDefaults("TCP_CHECK"), connectTimeoutMs: 2000 };
  await measure("TCP_CHECK", { ...base, type: "TCP_CHECK" }, 7301);
  await measure("HTTP_GET", {
    ...base,
    type: "HTTP_GET",
    urls: [{ path: "/health", statusCodes: [] }],
    httpProtocol: "1.0",
    enableSni: false,
    verifyCert: false,
  }, 7302);
} finally {
  tcp.kill("SIGKILL");
  http.kill("SIGKILL");
  await tcp.status;
  await http.status;
}
