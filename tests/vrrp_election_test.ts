/**
 * Elections on the in-memory network: N state machines, one fake clock, adverts delivered
 * with delay and loss. Every expected time is the RFC arithmetic (lib/vrrp/timers.ts).
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { type SimRouter, VrrpNet } from "./helpers/vrrp_net.ts";
import { masterDownIntervalMs, skewTimeMs } from "../lib/vrrp/timers.ts";
import { computeTracking, ScriptTracker } from "../lib/vrrp/tracking.ts";

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
  net.router("a").inst.setFault(true, "eth0 down");
  assertEquals(net.actionTypes("a", 10_000), ["send-advert:0", "remove-vips", "state"]);
  net.run(10_000);
  near(net.transitionsTo("b", "MASTER")[0], 10_001 + skewTimeMs(2, 100, 100));
  assertEquals(net.router("a").state, "FAULT");
  net.router("a").inst.setFault(false, "eth0 up");
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
