/**
 * Issue 11 item 1: a reload of a large file must not stall the VRRP loop. r1 runs haagent as
 * master (VRRPv3, 100 ms adverts) with 1,000 virtual servers x 10 real servers, imported from
 * keepalived.conf; r2 runs haagent as its backup. r1 reloads three times (each time with every
 * real server's weight changed, so the load-balancer side has work too). Asserted:
 * - the backup never takes over: no MASTER state on r2, no advert from r2;
 * - no gap between r1's adverts reaches r2's master-down interval (3 x 100 ms + skew = 361 ms);
 * - the VRRP thread (r1's main thread, sampled every 5 ms from /proc/PID/task/PID/schedstat)
 *   spends at most two advert intervals (200 ms) on a CPU between two of its adverts: the
 *   reload's work is not done on it (21 ms measured on a quiet machine, up to 103 ms with the
 *   machine 100 % busy, when the VRRP thread does garbage-collection work that V8's helper
 *   threads at nice 10 get no CPU for). Time waiting for a CPU does not count: on a busy
 *   2-core machine other processes delay adverts (gaps of 200-280 ms were seen in CI) without
 *   the agent blocking its own loop; the report says how each gap was spent.
 * With the file parsed on the VRRP thread (the loader thread disabled) this fails all three:
 * worst gap 714 ms, of which the VRRP thread ran 635 ms; the backup sent 10 adverts as master.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type Agent, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";
import { type BigConfig, bigHaagentYaml } from "../helpers/big_config.ts";

const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`reload stall test skipped: ${why}`);

const VIP = "10.77.0.51";
const RELOADS = 3;
/** r2's master-down interval: 3 x 100 ms + (256 - 100) x 100 / 256 ms. */
const MASTER_DOWN_MS = 300 + (256 - 100) * 100 / 256;
/** The most CPU the VRRP thread may use between two adverts: two advert intervals. */
const MAX_RUN_BETWEEN_ADVERTS_MS = 200;

const BIG: BigConfig = {
  router: "r1",
  priority: 150,
  vrid: 51,
  vip: `${VIP}/24`,
  version: 3,
  advertIntervalMs: 100,
  services: 1000,
  servers: 10,
  variant: 0,
};

const SMALL = `global:
  router_id: r2
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 100
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP}/24]
`;

function reloadsLogged(a: Agent): number {
  return a.log.filter((l) => l.includes("reloaded ")).length;
}

/** The main thread's time on a CPU and waiting for one (ns, cumulative), at wall time tS. */
interface ThreadSample {
  tS: number;
  runNs: number;
  waitNs: number;
}

/** Samples a thread's schedstat every 5 ms until stopped. */
function sampleThread(pid: number): { stop(): Promise<ThreadSample[]> } {
  const out: ThreadSample[] = [];
  let on = true;
  const loop = (async () => {
    while (on) {
      try {
        const f = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/schedstat`).split(" ");
        out.push({
          tS: (performance.timeOrigin + performance.now()) / 1000,
          runNs: Number(f[0]),
          waitNs: Number(f[1]),
        });
      } catch { /* the agent is gone: the assertions say so */ }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    stop: async () => {
      on = false;
      await loop;
      return out;
    },
  };
}

/**
 * The most the thread can have run and waited between times a and b (s): the difference of
 * the last sample at or before a and the first at or after b (an upper bound when the sampler
 * was late), in ms; null when the samples do not bracket [a, b].
 */
function between(samples: ThreadSample[], a: number, b: number) {
  let lo: ThreadSample | undefined, hi: ThreadSample | undefined;
  for (const s of samples) {
    if (s.tS <= a) lo = s;
    if (s.tS >= b && hi === undefined) hi = s;
  }
  if (lo === undefined || hi === undefined) return null;
  return { runMs: (hi.runNs - lo.runNs) / 1e6, waitMs: (hi.waitNs - lo.waitNs) / 1e6 };
}

Deno.test({
  name: "reload of 1,000 x 10 virtual servers beside a backup at 100 ms: no takeover",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("rs");
    const files: string[] = [];
    for (let v = 0; v <= RELOADS; v++) {
      files.push(await bigHaagentYaml({ ...BIG, variant: v }, lab.dir));
    }
    const r1 = lab.startHaagent("r1", files[0]!);
    await lab.waitState(r1, "MASTER", 60_000);
    const r2 = lab.startHaagent("r2", SMALL);
    await lab.waitState(r2, "BACKUP", 20_000);
    // Only r2 is polled during the reloads: r1's status is large (10,000 real servers).
    const r2States = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = (await lab.status(r2))?.instances[0]?.state;
        if (s !== undefined) r2States.add(s);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const cap = await lab.capture();
    const pid = (await Deno.readTextFile(`${lab.dir}/r1.pid`)).trim();
    const sampler = sampleThread(Number(pid));
    await new Promise((r) => setTimeout(r, 1000));
    for (let k = 1; k <= RELOADS; k++) {
      await Deno.writeTextFile(`${lab.dir}/r1.yaml`, files[k]!);
      await lab.lab.exec(null, ["kill", "-HUP", pid]);
      await waitFor(() => reloadsLogged(r1) >= k, 60_000, 20);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const adverts = await cap.stop();
    const samples = await sampler.stop();
    polling = false;
    await poller;
    const mine = adverts.filter((a) => a.src === ROUTERS.r1.addr4 && a.vrid === 51);
    // The worst gap, and the interval in which the VRRP thread ran longest, with what the thread
    // did in each: ran, waited for a CPU, slept (nothing to do, or woken late).
    let worst = { ms: 0, i: 0 }, busiest = { runMs: 0, i: 0 };
    const during = (i: number) => between(samples, mine[i - 1]!.t, mine[i]!.t);
    for (let i = 1; i < mine.length; i++) {
      const ms = (mine[i]!.t - mine[i - 1]!.t) * 1000;
      if (ms > worst.ms) worst = { ms, i };
      const d = during(i);
      if (d !== null && d.runMs > busiest.runMs) busiest = { runMs: d.runMs, i };
    }
    const describe = (i: number) => {
      const ms = (mine[i]!.t - mine[i - 1]!.t) * 1000, d = during(i);
      return `${ms.toFixed(1)} ms between adverts` +
        (d === null ? " (not sampled)" : `: the VRRP ` +
          `thread ran ${d.runMs.toFixed(1)} ms, waited for a CPU ${d.waitMs.toFixed(1)} ms, ` +
          `slept ${Math.max(0, ms - d.runMs - d.waitMs).toFixed(1)} ms`);
    };
    const fromR2 = adverts.filter((a) => a.src === ROUTERS.r2.addr4 && a.priority > 0);
    const loadavg = (await Deno.readTextFile("/proc/loadavg")).trim();
    const report = `${RELOADS} reloads of 1,000 x 10: ${mine.length} adverts from r1; worst gap ` +
      `${worst.i > 0 ? describe(worst.i) : "-"}; most CPU between two adverts ` +
      `${busiest.i > 0 ? describe(busiest.i) : "-"}; adverts from r2: ${fromR2.length}; r2 ` +
      `states seen: ${[...r2States].join(", ")}; ${samples.length} samples; loadavg ${loadavg}`;
    console.log(report);
    const reloadLines = r1.log.filter((l) => l.includes("reload"));
    assertEquals(reloadsLogged(r1), RELOADS, reloadLines.join("\n"));
    assert(mine.length > 0, "r1's adverts were captured");
    assertEquals(fromR2.length, 0, `r2 sent adverts as master\n${r2.log.slice(-20).join("\n")}`);
    assertEquals([...r2States], ["BACKUP"], "the backup never left BACKUP");
    assert(samples.length > 100, `the VRRP thread was sampled ${samples.length} times`);
    assert(
      worst.ms < MASTER_DOWN_MS,
      `r1's adverts stopped for r2's master-down interval: ${report}`,
    );
    assert(
      busiest.runMs <= MAX_RUN_BETWEEN_ADVERTS_MS,
      `the VRRP thread ran more than ${MAX_RUN_BETWEEN_ADVERTS_MS} ms between adverts: ${report}`,
    );
  },
});
