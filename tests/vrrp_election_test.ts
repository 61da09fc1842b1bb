/**
 * Elections on the in-memory network: N state machines, one fake clock, adverts delivered
 * with delay and loss. Every expected time is the RFC arithmetic (lib/vrrp/timers.ts).
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { type SimRouter, VrrpNet } from "./helpers/vrrp_net.ts";
import { masterDownIntervalMs, skewTimeMs } from "../lib/vrrp/timers.ts";
import { computeTracking, ScriptTracker } from "../lib/vrrp/tracking.ts";
import { rng } from "./helpers/rng.ts";

const MDI_V2_100 = masterDownIntervalMs(2, 100, 100); // 3609.375
const MDI_V2_200 = masterDownIntervalMs(2, 200, 100); // 3218.75

function near(actual: number | undefined, expected: number, tolMs = 1, what = "time"): void {
  assert(
    actual !== undefined && Math.abs(actual - expected) <= tolMs,
    `${what}: expected ${expected} ms ± ${tolMs}, got ${actual}`,
  );
}

/** Time of the last advert from `from` delivered to `to` at or before `beforeMs`. */
function lastDelivery(net: VrrpNet, from: string, to: string, beforeMs = Infinity): number {
  const ds = net.delivered.filter((d) => d.from === from && d.to === to && d.atMs <= beforeMs);
  const last = ds[ds.length - 1];
  assert(last !== undefined, `no delivery ${from} -> ${to}`);
  return last.atMs;
}

function names(rs: SimRouter[]): string[] {
  return rs.map((r) => r.name);
}

Deno.test("election: the highest priority wins after its Master_Down_Interval, others stay BACKUP", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("a", { priority: 100 });
  net.add("b", { priority: 200 });
  net.add("c", { priority: 150 });
  net.start();
  net.run(60_000);
  assertEquals(names(net.masters()), ["b"]);
  assertEquals(net.transitionsTo("b", "MASTER"), [MDI_V2_200]);
  assertEquals(net.transitionsTo("a", "MASTER"), []);
  assertEquals(net.transitionsTo("c", "MASTER"), []);
  assertEquals(net.dualMasters, []);
  assertEquals(net.errors, []);
});

Deno.test("election: equal priorities tie on the primary address; the loser steps down on the first advert", () => {
  const net = new VrrpNet({ delayMs: 2 });
  net.add("low", { priority: 100, primaryAddress: new Uint8Array([10, 0, 0, 1]) });
  net.add("high", { priority: 100, primaryAddress: new Uint8Array([10, 0, 0, 9]) });
  net.start();
  net.run(60_000);
  // Both timers fire at 3609.375 ms; each hears the other 2 ms later; the lower address yields.
  assertEquals(net.transitionsTo("low", "MASTER"), [MDI_V2_100]);
  assertEquals(net.transitionsTo("low", "BACKUP"), [0, MDI_V2_100 + 2]);
  assertEquals(names(net.masters()), ["high"]);
  assertEquals(net.maxDualMasterMs(), 2);
  assertEquals(net.errors, []);
});

Deno.test("startup timing: the only router becomes MASTER after exactly Master_Down_Interval", () => {
  const v2 = new VrrpNet();
  v2.add("r", { priority: 100 });
  v2.start();
  v2.run(10_000);
  near(v2.transitionsTo("r", "MASTER")[0], 3609.375, 1, "v2 1 s prio 100");
  const v3 = new VrrpNet();
  v3.add("r", { priority: 100, version: 3, advertIntervalCs: 10 });
  v3.start();
  v3.run(10_000);
  near(v3.transitionsTo("r", "MASTER")[0], 360.9375, 1, "v3 10 cs prio 100");
});

Deno.test("failover: a killed master is replaced Master_Down_Interval after its last advert", () => {
  for (const [version, intervalCs] of [[2, 100], [3, 10], [3, 100]] as const) {
    const net = new VrrpNet({ delayMs: 3 });
    net.add("a", { priority: 200, version, advertIntervalCs: intervalCs });
    net.add("b", { priority: 100, version, advertIntervalCs: intervalCs });
    net.start();
    net.run(20_000 + 123);
    net.kill("a");
    net.run(10_000);
    const last = lastDelivery(net, "a", "b");
    near(
      net.transitionsTo("b", "MASTER")[0],
      last + masterDownIntervalMs(version, 100, intervalCs),
      1,
      `v${version} ${intervalCs} cs`,
    );
    assertEquals(net.dualMasters, []);
  }
});

Deno.test("preemption: a higher priority router returning takes over after its own Master_Down_Interval", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("a", { priority: 200 });
  net.add("b", { priority: 100 });
  net.start();
  net.run(10_000);
  net.kill("a");
  net.run(10_000);
  assertEquals(names(net.masters()), ["b"]);
  net.restart("a");
  net.run(10_000);
  near(net.transitionsTo("a", "MASTER")[1], 20_000 + MDI_V2_200, 1, "a back");
  near(net.transitionsTo("b", "BACKUP")[1], 20_000 + MDI_V2_200 + 1, 1, "b yields");
  assertEquals(names(net.masters()), ["a"]);
  assert(net.maxDualMasterMs() <= 1);
});

Deno.test("nopreempt: a recovered higher-priority router stays BACKUP", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("a", { priority: 200, preempt: false });
  net.add("b", { priority: 100, preempt: false });
  net.start();
  net.run(10_000);
  assertEquals(names(net.masters()), ["a"]);
  net.kill("a");
  net.run(10_000);
  net.restart("a");
  net.run(120_000);
  assertEquals(names(net.masters()), ["b"]);
  assertEquals(net.transitionsTo("a", "MASTER").length, 1);
  assertEquals(net.dualMasters, []);
});

Deno.test("preempt_delay: the higher router waits preempt_delay from the first lower advert", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("a", { priority: 200, preemptDelayMs: 10_000 });
  net.add("b", { priority: 100 });
  net.start("b");
  net.run(10_000);
  net.start("a");
  net.run(60_000);
  const first = net.delivered.find((d) => d.to === "a")!.atMs;
  // Lower adverts arrive every second; the last one inside [first, first + 10 s) re-arms
  // the down timer, the next is discarded.
  const lastAccepted = first + 9_000;
  near(net.transitionsTo("a", "MASTER")[0], lastAccepted + MDI_V2_200, 1, "a preempts");
  assert(net.transitionsTo("a", "MASTER")[0]! > first + 10_000, "not before the delay");
  assertEquals(names(net.masters()), ["a"]);
});

Deno.test("owner 255: MASTER at once, even over a running master; never adjusted", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("owner", { priority: 255 });
  net.add("b", { priority: 254 });
  net.start("b");
  net.run(10_000);
  assertEquals(names(net.masters()), ["b"]);
  net.start("owner");
  assertEquals(net.transitionsTo("owner", "MASTER"), [10_000]);
  assertEquals(net.actionTypes("owner", 10_000, 10_000), [
    "send-advert:255",
    "add-vips",
    "announce",
    "state",
  ]);
  net.run(1);
  assertEquals(names(net.masters()), ["owner"]);
  net.router("owner").inst.setEffectivePriority(1);
  net.run(60_000);
  assertEquals(net.router("owner").inst.effectivePriority, 255);
  assertEquals(names(net.masters()), ["owner"]);
  assertEquals(net.maxDualMasterMs(), 1);
});

Deno.test("priority-0 handover: a backup takes over Skew_Time after the shutdown advert", () => {
  for (const [version, intervalCs] of [[2, 100], [3, 10]] as const) {
    const net = new VrrpNet({ delayMs: 1 });
    net.add("a", { priority: 200, version, advertIntervalCs: intervalCs });
    net.add("b", { priority: 100, version, advertIntervalCs: intervalCs });
    net.start();
    net.run(10_000);
    net.router("a").inst.shutdown();
    net.run(10_000);
    near(
      net.transitionsTo("b", "MASTER")[0],
      10_000 + 1 + skewTimeMs(version, 100, intervalCs),
      1,
      `v${version}`,
    );
    assertEquals(net.router("b").inst.stats().priorityZeroReceived, 1);
    assertEquals(net.dualMasters, []);
  }
});

Deno.test("lost adverts: 1 or 2 lost cause no failover, 3 lost do", () => {
  for (const lost of [1, 2, 3]) {
    const net = new VrrpNet({ delayMs: 1 });
    net.add("a", { priority: 200 });
    net.add("b", { priority: 100 });
    net.start();
    net.run(10_000);
    net.dropNextFrom("a", lost);
    net.run(20_000);
    const took = net.transitionsTo("b", "MASTER");
    if (lost < 3) {
      assertEquals(took, [], `${lost} lost`);
      continue;
    }
    const lastBefore = lastDelivery(net, "a", "b", 10_000);
    near(took[0], lastBefore + MDI_V2_100, 1, "3 lost");
    // a's next advert (at most one interval later) makes b yield.
    assertEquals(names(net.masters()), ["a"]);
    assert(net.maxDualMasterMs() <= 1000 + 1, `dual ${net.maxDualMasterMs()} ms`);
  }
});

Deno.test("v3: a backup adopts the master's interval for its Master_Down_Interval", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("a", { priority: 200, version: 3, advertIntervalCs: 20 });
  net.add("b", { priority: 100, version: 3, advertIntervalCs: 100 });
  net.start();
  net.run(10_000);
  assertEquals(net.router("b").inst.masterAdverIntCs, 20);
  net.kill("a");
  net.run(5_000);
  near(
    net.transitionsTo("b", "MASTER")[0],
    lastDelivery(net, "a", "b") + masterDownIntervalMs(3, 100, 20),
    1,
  );
  // As master, b advertises its own interval again.
  assertEquals(net.router("b").inst.masterAdverIntCs, 100);
});

Deno.test("a lower-priority master steps down as soon as the higher one answers (RFC 9568)", () => {
  const net = new VrrpNet({ delayMs: 5 });
  net.add("a", { priority: 200 });
  net.add("b", { priority: 100 });
  let partitioned = false;
  net.loss = () => partitioned;
  net.start();
  net.run(4_500);
  partitioned = true;
  net.run(3_800); // b takes over during the partition
  assertEquals(names(net.vipHolders()), ["a", "b"]);
  partitioned = false; // healed at 8.3 s, just after a's 8.21875 s advert
  const healAt = net.clock.now();
  net.run(5_000);
  const firstFromB = net.delivered.find((d) => d.from === "b" && d.atMs > healAt)!;
  const firstFromA = net.delivered.find((d) => d.from === "a" && d.atMs > healAt)!;
  // b's advert reached a first; a answered at once, and b yielded one delay later,
  // before a's own timer would have sent anything.
  assert(firstFromB.atMs < firstFromA.atMs);
  assertEquals(firstFromA.atMs, firstFromB.atMs + 5);
  assertEquals(net.transitionsTo("b", "BACKUP").at(-1), firstFromB.atMs + 5);
  assert(firstFromB.atMs + 5 < 9_218.75, "faster than a's next scheduled advert");
  assertEquals(names(net.masters()), ["a"]);
});

Deno.test("FAULT: a master entering FAULT sends priority 0; the backup takes over in Skew_Time", () => {
  const net = new VrrpNet({ delayMs: 1 });
  net.add("a", { priority: 200 });
  net.add("b", { priority: 100 });
  net.start();
  net.run(10_000);
  net.router("a").inst.setFault("link", true, "eth0 down");
  assertEquals(net.actionTypes("a", 10_000), ["send-advert:0", "remove-vips", "state"]);
  net.run(10_000);
  near(net.transitionsTo("b", "MASTER")[0], 10_001 + skewTimeMs(2, 100, 100));
  assertEquals(net.router("a").state, "FAULT");
  net.router("a").inst.setFault("link", false, "eth0 up");
  net.run(10_000);
  near(net.transitionsTo("a", "MASTER")[1], 20_000 + MDI_V2_200);
  assertEquals(names(net.masters()), ["a"]);
  assertEquals(net.dualMasters.length, 1);
  assertEquals(net.errors, []);
});

Deno.test("tracking: a failing script with weight -60 hands the VIPs over, recovery takes them back", () => {
  const net = new VrrpNet({ delayMs: 1 });
  const a = net.add("a", { priority: 150 });
  net.add("b", { priority: 100 });
  const chk = new ScriptTracker({ rise: 2, fall: 2 });
  const apply = (ok: boolean) => {
    if (!chk.record(ok)) return;
    const t = computeTracking(150, [{ kind: "script", name: "chk", weight: -60, up: chk.up }]);
    a.inst.setEffectivePriority(t.effectivePriority);
  };
  net.start();
  for (let i = 0; i < 10; i++) {
    net.run(1_000);
    apply(true);
  }
  assertEquals(names(net.masters()), ["a"]);
  apply(false);
  assertEquals(a.inst.effectivePriority, 150);
  apply(false); // at 10 s: priority 90, below b's 100
  assertEquals(a.inst.effectivePriority, 90);
  net.run(10_000);
  assertEquals(names(net.masters()), ["b"]);
  // b discards a's priority-90 adverts and takes over after its down interval.
  near(net.transitionsTo("b", "MASTER")[0], lastDelivery(net, "a", "b", 10_000) + MDI_V2_100);
  apply(true);
  apply(true); // at 20 s: back to 150
  net.run(10_000);
  // The down timer armed by b's last advert (at priority 90) runs on: RFC 5798 recomputes
  // Master_Down_Interval only when the timer is next set.
  near(
    net.transitionsTo("a", "MASTER")[1],
    lastDelivery(net, "b", "a", 20_000) + masterDownIntervalMs(2, 90, 100),
  );
  assertEquals(names(net.masters()), ["a"]);
  assertEquals(net.errors, []);
});

function debug(net: VrrpNet, a: string, b: string, sinceMs: number): string {
  const ds = net.delivered.filter((d) =>
    d.atMs >= sinceMs && ((d.from === a && d.to === b) || (d.from === b && d.to === a))
  );
  const rs = [...net.routers.values()].map((r) =>
    `${r.name} prio ${r.inst.effectivePriority} ${r.state} alive ${r.alive} addr ${r.address}`
  );
  const acts = net.actions.filter((x) =>
    x.atMs >= sinceMs - 1000 && (x.router === a || x.router === b)
  )
    .map((x) => `${x.atMs} ${x.router} ${JSON.stringify(x.action)}`);
  return `\n${rs.join("\n")}\n${ds.map((d) => JSON.stringify(d)).join("\n")}\n${acts.join("\n")}`;
}

interface ChaosSummary {
  failovers: number;
  dualPeriods: number;
  longestDualMs: number;
  longestNoMasterMs: number;
  dropped: number;
  delivered: number;
}

/**
 * Three routers (v3, 100 ms), random delays 0..20 ms, random loss bursts and partitions,
 * kills, restarts and faults. After every 1 ms step:
 * - safety: two VIP holders for longer than one advert interval + the maximum delay are
 *   allowed only if a packet between them was dropped within that window;
 * - liveness: while some router is up and not faulty, the VRID is never without a master for
 *   longer than the largest Master_Down_Interval + the maximum delay;
 * - VIPs are held exactly by the routers in MASTER state.
 * Then the network heals and exactly one master remains (the best one when all preempt).
 */
function chaos(seed: number, durationMs: number): ChaosSummary {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const intervalCs = 10;
  const maxDelayMs = 20;
  const net = new VrrpNet();
  net.delayMs = () => rand() * maxDelayMs;
  const nodes = ["r1", "r2", "r3"];
  const allPreempt = rand() < 0.5;
  for (const node of nodes) {
    net.add(node, {
      version: 3,
      advertIntervalCs: intervalCs,
      priority: pick([100, 100, 150, 200, 254, 255]),
      preempt: allPreempt || rand() < 0.5,
      preemptDelayMs: pick([0, 0, 0, 500, 2000]),
    });
  }
  let lossProb = 0;
  const partitions = new Set<string>();
  const faulty = new Set<string>();
  const pairOf = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);
  net.loss = (p) => partitions.has(pairOf(p.from, p.to)) || rand() < lossProb;
  const windowMs = intervalCs * 10 + maxDelayMs;
  const maxMdi = Math.max(
    ...[...net.routers.values()].map((r) =>
      masterDownIntervalMs(3, r.inst.effectivePriority, intervalCs)
    ),
  );
  const summary: ChaosSummary = {
    failovers: 0,
    dualPeriods: 0,
    longestDualMs: 0,
    longestNoMasterMs: 0,
    dropped: 0,
    delivered: 0,
  };
  let noMasterSince: number | null = null;
  const check = () => {
    const now = net.clock.now();
    for (const r of net.routers.values()) {
      assertEquals(r.hasVips, r.state === "MASTER", `seed ${seed} ${r.name} at ${now}`);
      if (!r.alive) assert(!r.hasVips, `seed ${seed}: dead ${r.name} holds VIPs`);
    }
    const holders = net.vipHolders();
    for (const a of holders) {
      for (const b of holders) {
        const since = Math.max(a.vipsSinceMs, b.vipsSinceMs);
        if (a.name >= b.name || now - since <= windowMs) continue;
        const lastDrop = net.lastDropBetween(a.name, b.name);
        assert(
          lastDrop >= now - windowMs,
          `seed ${seed}: ${a.name} and ${b.name} both MASTER since ${since} at ${now} ` +
            `with no loss between them since ${lastDrop}` +
            debug(net, a.name, b.name, now - windowMs),
        );
      }
    }
    const eligible = [...net.routers.values()].some((r) => r.alive && !faulty.has(r.name));
    if (holders.length === 0 && eligible) {
      noMasterSince ??= now;
      const gap = now - noMasterSince;
      summary.longestNoMasterMs = Math.max(summary.longestNoMasterMs, gap);
      assert(gap <= maxMdi + maxDelayMs, `seed ${seed}: no master for ${gap} ms at ${now}`);
    } else {
      noMasterSince = null;
    }
  };

  net.start();
  let nextEventAt = 0;
  for (let t = 0; t < durationMs; t++) {
    if (t >= nextEventAt) {
      nextEventAt = t + 20 + rand() * 800;
      const node = pick(nodes);
      const r = net.router(node);
      switch (pick(["loss", "loss", "partition", "heal", "kill", "restart", "fault"])) {
        case "loss":
          lossProb = pick([0, 0, 0.05, 0.3, 0.9]);
          break;
        case "partition":
          partitions.add(pairOf(node, pick(nodes.filter((n) => n !== node))));
          break;
        case "heal":
          partitions.clear();
          break;
        case "kill":
          if (r.alive) net.kill(node);
          break;
        case "restart":
          if (!r.alive) {
            net.restart(node);
            noMasterSince = null; // a new candidate starts its own Master_Down_Timer
          }
          break;
        case "fault":
          if (faulty.has(node)) {
            faulty.delete(node);
            r.inst.setFault("link", false, "link up");
            noMasterSince = null;
          } else {
            faulty.add(node);
            r.inst.setFault("link", true, "link down");
          }
          break;
      }
    }
    net.run(1);
    check();
  }

  // Heal everything and let it settle.
  lossProb = 0;
  partitions.clear();
  for (const node of nodes) {
    const r = net.router(node);
    if (faulty.delete(node)) r.inst.setFault("link", false, "healed");
    if (!r.alive) net.restart(node);
  }
  net.runChecked(20_000, 1, check);
  const masters = net.masters();
  assertEquals(masters.length, 1, `seed ${seed}: ${masters.map((m) => m.name)}`);
  if (allPreempt) {
    // With preemption everywhere the highest priority ends up master (equal priorities do not
    // preempt each other, RFC 5798 6.4.2, so any router of the highest priority will do).
    const top = Math.max(...[...net.routers.values()].map((r) => r.inst.effectivePriority));
    assertEquals(masters[0]!.inst.effectivePriority, top, `seed ${seed}`);
  }
  assertEquals(net.errors, [], `seed ${seed}`);
  summary.failovers =
    net.actions.filter((a) => a.action.type === "state" && a.action.to === "MASTER")
      .length;
  summary.dualPeriods = net.dualMasters.length;
  summary.longestDualMs = net.maxDualMasterMs();
  summary.dropped = net.dropped.length;
  summary.delivered = net.delivered.length;
  return summary;
}

Deno.test("randomised: 3 routers under loss, delay, kills, restarts and faults (seeded)", () => {
  const totals = { failovers: 0, dualPeriods: 0, longestDualMs: 0, longestNoMasterMs: 0 };
  const seeds = 30;
  for (let seed = 1; seed <= seeds; seed++) {
    const s = chaos(seed, 60_000);
    totals.failovers += s.failovers;
    totals.dualPeriods += s.dualPeriods;
    totals.longestDualMs = Math.max(totals.longestDualMs, s.longestDualMs);
    totals.longestNoMasterMs = Math.max(totals.longestNoMasterMs, s.longestNoMasterMs);
  }
  assert(totals.failovers > seeds * 10, "the run must actually exercise failovers");
  assert(totals.dualPeriods > 0, "and loss must actually cause some split brain");
  console.log(`randomised: ${seeds} seeds x 60 s simulated: ${JSON.stringify(totals)}`);
});
