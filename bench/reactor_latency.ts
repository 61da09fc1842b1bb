/**
 * Reactor latency and idle cost: the time from `sendto` (a timestamp in the payload) to the JS
 * handler for raw datagrams over loopback, and the CPU used while a Reactor waits with no
 * traffic. Prints figures; asserts nothing.
 *
 *   deno run -A bench/reactor_latency.ts [--packets=2000] [--idle-s=10] [--host]
 *
 * As root it re-runs itself in a private network namespace (`unshare -n`) so the traffic never
 * touches the host's loopback; `--host` skips that.
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { RawSocket } from "../ffi/socket.ts";
import { Reactor } from "../ffi/reactor.ts";

/** 127.0.0.1. */
const LOOPBACK = new Uint8Array([127, 0, 0, 1]);

const PROTO_EXPERIMENT = 253; // RFC 3692: for experimentation
const { values } = parseArgs({
  args: Deno.args,
  options: {
    packets: { type: "string", default: "2000" },
    "idle-s": { type: "string", default: "10" },
    host: { type: "boolean", default: false },
    inner: { type: "boolean", default: false },
  },
});
const packets = Number(values.packets);
const idleS = Number(values["idle-s"]);

if (!values.host && !values.inner && Deno.uid() === 0) {
  const self = new URL(import.meta.url).pathname;
  const script = `ip link set lo up && exec "$0" run -A "$1" --inner --packets="$2" --idle-s="$3"`;
  const r = await new Deno.Command("unshare", {
    args: ["-n", "sh", "-c", script, Deno.execPath(), self, String(packets), String(idleS)],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(r.code);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function cpuTicks(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

const fmtUs = (ms: number) => `${(ms * 1000).toFixed(0)} us`;

async function latency(gapMs: number): Promise<number[]> {
  using sock = RawSocket.open("ipv4", PROTO_EXPERIMENT);
  const reactor = new Reactor();
  const samples: number[] = [];
  let wake: (() => void) | null = null;
  using _w = reactor.watch(sock.fd, () => {
    for (let r = sock.recv(); r !== null; r = sock.recv()) {
      const now = performance.now();
      samples.push(now - new DataView(r.payload.buffer).getFloat64(0, true));
    }
    wake?.();
  }, "bench");
  const done = reactor.run();
  await new Promise((r) => setTimeout(r, 50));
  const payload = new Uint8Array(64);
  const view = new DataView(payload.buffer);
  for (let i = 0; i < packets; i++) {
    const got = new Promise<void>((r) => (wake = r));
    view.setFloat64(0, performance.now(), true);
    if (!sock.sendTo(payload, LOOPBACK)) throw new Error("EAGAIN on loopback");
    await got;
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
  }
  reactor.close();
  await done;
  return samples;
}

function report(name: string, samples: number[]): void {
  const s = samples.slice().sort((a, b) => a - b);
  console.log(
    `${name}: n=${s.length} p50 ${fmtUs(percentile(s, 50))}  p99 ${fmtUs(percentile(s, 99))}  ` +
      `max ${fmtUs(s[s.length - 1]!)}`,
  );
}

console.log(`reactor latency, sendto -> JS handler, ${packets} raw datagrams over loopback`);
console.log(
  `(${
    values.inner ? "private namespace" : "host namespace"
  }; prototype: p50 13 us, p99 0.18 ms, max < 1 ms)`,
);
await latency(0); // warm-up: JIT, page faults
report("back-to-back (next send right after the handler)", await latency(0));
report("spaced 1 ms (the wait thread is asleep in epoll_wait)", await latency(1));

{
  using sock = RawSocket.open("ipv4", PROTO_EXPERIMENT);
  const reactor = new Reactor();
  using _w = reactor.watch(sock.fd, () => {
    while (sock.recv() !== null) { /* drain */ }
  }, "idle");
  const done = reactor.run();
  await new Promise((r) => setTimeout(r, 100));
  const ticks0 = cpuTicks();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, idleS * 1000));
  const cpu = process.cpuUsage(cpu0);
  const ticks = cpuTicks() - ticks0;
  reactor.close();
  await done;
  console.log(
    `idle ${idleS} s with one watched socket: ${ticks} CPU ticks, ` +
      `${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU (prototype: 0 ticks in 10 s)`,
  );
  console.log(`RSS ${(Deno.memoryUsage().rss / 2 ** 20).toFixed(1)} MB`);
}
