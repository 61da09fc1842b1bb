/**
 * Signals while the agent starts (issue 11 item 5), in namespaces: a SIGHUP during start-up
 * neither kills the agent (it used to exit 129 and leave its pid file and socket) nor is lost:
 * it is queued and the agent reloads once started; SIGTERM during start-up stops the agent as
 * soon as the start ends, with no file left. HUPs sent 0-50 ms after exec land before the Deno
 * runtime runs any of our code on a busy machine: the sweep reports how many did (the kernel's
 * default action ends the process then, and nothing of ours exists to be left behind).
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";
import { selfCommand } from "../../lib/runtime/self.ts";
import { readLines } from "../../lib/demo/lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`start signal tests skipped: ${why}`);
const ignore = why !== null;

const CONFIG = `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 61
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.61/24]
`;

/**
 * Whether `pid` runs haagent with a handler for `signal` (the SigCgt mask of /proc/PID/status).
 * Between fork and exec the child shows the test runner's handlers: the command line tells.
 */
function catches(pid: number, signal: number): boolean {
  try {
    const argv = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    if (!argv.includes("--config") || argv[0] === "ip") return false;
    const st = Deno.readTextFileSync(`/proc/${pid}/status`);
    const mask = BigInt("0x" + (/^SigCgt:\s*([0-9a-f]+)$/m.exec(st)?.[1] ?? "0"));
    return ((mask >> BigInt(signal - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

/** When the agent logged that it had started (its own clock), or null. */
function startedAt(log: string[]): number | null {
  const line = log.find((l) => l.includes("started:"));
  return line === undefined ? null : Date.parse(line.split(" ")[0]!);
}

/**
 * Runs `attempt` until the signal it sent landed before the agent had started (on a busy
 * machine the test may be too slow to catch the start-up), at most 5 times.
 */
async function duringStartUp(
  attempt: (n: number) => Promise<{ sentAt: number; log: string[] }>,
): Promise<void> {
  for (let n = 0; n < 5; n++) {
    const r = await attempt(n);
    const started = startedAt(r.log);
    if (started === null || r.sentAt < started) return;
    console.log(`attempt ${n}: the signal came ${r.sentAt - started} ms after the start: again`);
  }
  throw new Error("the test never sent its signal during start-up in 5 attempts");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts an agent on r1, sends `signal` when `when` says so, and follows it to its end. */
async function startAndSignal(
  lab: VrrpLab,
  n: number,
  when: { afterExecMs: number } | { onceCaught: true },
  signal: "SIGHUP" | "SIGTERM",
) {
  const file = `${lab.dir}/s${n}.yaml`;
  const pid = `${lab.dir}/s${n}.pid`;
  const sock = `${lab.dir}/s${n}.sock`;
  await Deno.writeTextFile(file, CONFIG);
  const p = lab.lab.spawn("r1", [
    ...selfCommand(),
    "--config",
    file,
    "--control",
    sock,
    "--pid-file",
    pid,
  ], { stderr: "piped" });
  const log: string[] = [];
  const reading = readLines(p.child.stderr, log);
  const t0 = performance.now();
  if ("afterExecMs" in when) {
    await new Promise((r) => setTimeout(r, when.afterExecMs));
  } else {
    // Deno installs its handlers for all three signals at the first listener, then files each
    // listener: a few microseconds during which a signal gets the default action. Let them pass.
    while (![1, 2, 15].every((s) => catches(p.pid, s)) && performance.now() - t0 < 20_000) {
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const caught = catches(p.pid, signal === "SIGHUP" ? 1 : 15);
  const sentAtMs = performance.now() - t0;
  const sentAt = Date.now();
  p.kill(signal);
  return { p, log, reading, caught, sentAtMs, sentAt, pid, sock };
}

Deno.test({
  name: "start signals: SIGHUP during start-up is queued and the agent reloads once started",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sh");
    await duringStartUp(async (n) => {
      const r = await startAndSignal(lab, n, { onceCaught: true }, "SIGHUP");
      assert(r.caught, "the agent never listened for SIGHUP");
      // It survives, reaches MASTER, and reloads once started.
      await waitFor(() => r.log.some((l) => l.includes("reloaded ")), 20_000).catch(async () => {
        r.p.kill("SIGKILL");
        const st = await r.p.child.status;
        throw new Error(
          `no reload after an early SIGHUP (${JSON.stringify(st)}, sent at ${r.sentAtMs} ms):\n` +
            r.log.join("\n"),
        );
      });
      const s = r.log.findIndex((l) => l.includes("started:"));
      const rl = r.log.findIndex((l) => l.includes("reloaded "));
      assert(s >= 0 && rl > s, `order of events:\n${r.log.join("\n")}`);
      await waitFor(() => r.log.some((l) => l.includes("-> MASTER")), 10_000);
      r.p.kill("SIGTERM");
      assertEquals((await r.p.child.status).code, 0);
      await r.reading;
      assert(!(await exists(r.pid)) && !(await exists(r.sock)), "pid file or socket left");
      return r;
    });
  },
});

Deno.test({
  name: "start signals: SIGTERM during start-up stops the agent once started, nothing left",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("st");
    await duringStartUp(async (n) => {
      const r = await startAndSignal(lab, n, { onceCaught: true }, "SIGTERM");
      assert(r.caught, r.log.join("\n"));
      const st = await r.p.child.status;
      await r.reading;
      assertEquals(st.code, 0, r.log.join("\n"));
      assert(!(await exists(r.pid)) && !(await exists(r.sock)), "pid file or socket left");
      assert(!(await lab.hasVip("r1", "10.77.0.61")), "VIP left");
      return r;
    });
  },
});

Deno.test({
  name: "start signals: SIGHUP 0-50 ms and up to 1.5 s after exec never kills our code",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("sw");
    const delays = [0, 10, 20, 30, 40, 50, 100, 200, 400, 800, 1500];
    const early: string[] = [];
    for (const [n, d] of delays.entries()) {
      const r = await startAndSignal(lab, n, { afterExecMs: d }, "SIGHUP");
      if (!r.caught) {
        // Before the runtime ran main.ts: the default action ends it, before any file exists.
        const st = await r.p.child.status;
        await r.reading;
        assertEquals(st.signal, "SIGHUP", `${d} ms: ${r.log.join("\n")}`);
        assert(!(await exists(r.pid)) && !(await exists(r.sock)), `${d} ms: files left`);
        early.push(`${d} ms (sent at ${r.sentAtMs.toFixed(0)} ms)`);
        continue;
      }
      await waitFor(
        () => r.log.some((l) => l.includes("-> MASTER") || l.includes("-> BACKUP")),
        20_000,
      ).catch(() => {
        throw new Error(`${d} ms: agent did not run after SIGHUP:\n${r.log.join("\n")}`);
      });
      r.p.kill("SIGTERM");
      const st = await r.p.child.status;
      await r.reading;
      assertEquals(st.code, 0, `${d} ms:\n${r.log.join("\n")}`);
      assert(r.log.some((l) => l.includes("reload")), `${d} ms: the SIGHUP was lost`);
      assert(!(await exists(r.pid)) && !(await exists(r.sock)), `${d} ms: files left`);
    }
    console.log(
      `SIGHUPs that arrived before the runtime ran main.ts: ${early.length} of ${delays.length}` +
        (early.length > 0 ? ` (${early.join(", ")})` : ""),
    );
    // How long the runtime takes to reach main.ts depends on the load (175-322 ms at load 1.6,
    // over 400 ms at 11, on 2 cores): reported, not asserted.
  },
});
