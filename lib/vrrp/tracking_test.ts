import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { computeTracking, ScriptTracker, type TrackedItem } from "./tracking.ts";

const item = (name: string, weight: number, up: boolean): TrackedItem => ({
  kind: "script",
  name,
  weight,
  up,
});

Deno.test("computeTracking: negative weights apply while down, positive while up", () => {
  assertEquals(computeTracking(100, []), { fault: false, reasons: [], effectivePriority: 100 });
  assertEquals(computeTracking(100, [item("a", -20, true)]).effectivePriority, 100);
  assertEquals(computeTracking(100, [item("a", -20, false)]).effectivePriority, 80);
  assertEquals(computeTracking(100, [item("a", 30, true)]).effectivePriority, 130);
  assertEquals(computeTracking(100, [item("a", 30, false)]).effectivePriority, 100);
  assertEquals(
    computeTracking(100, [item("a", 30, true), item("b", -50, false), item("c", -5, true)])
      .effectivePriority,
    80,
  );
});

Deno.test("computeTracking: clamps to 1..254; owner 255 is never adjusted", () => {
  assertEquals(computeTracking(100, [item("a", -200, false)]).effectivePriority, 1);
  assertEquals(computeTracking(200, [item("a", 100, true)]).effectivePriority, 254);
  assertEquals(computeTracking(255, [item("a", -100, false)]).effectivePriority, 255);
  assertEquals(computeTracking(254, [item("a", 10, true)]).effectivePriority, 254);
});

Deno.test("computeTracking: weight 0 down means FAULT, with one reason per object", () => {
  const r = computeTracking(100, [
    { kind: "interface", name: "eth1", weight: 0, up: false },
    item("chk", 0, false),
    item("ok", 0, true),
  ]);
  assert(r.fault);
  assertEquals(r.reasons, ["interface eth1 is down", "script chk is down"]);
  assertEquals(r.effectivePriority, 100);
  assert(computeTracking(255, [item("x", 0, false)]).fault);
  assertThrows(() => computeTracking(0, []), RangeError);
});

Deno.test("ScriptTracker: the first result decides; then rise/fall consecutive results", () => {
  const t = new ScriptTracker({ rise: 2, fall: 3 });
  assert(t.up && !t.decided);
  assertEquals(t.record(false), true);
  assert(!t.up && t.decided);
  assertEquals(t.record(true), false);
  assertEquals(t.record(false), false);
  assertEquals(t.record(true), false);
  assertEquals(t.record(true), true);
  assert(t.up);
  t.record(false);
  t.record(false);
  t.record(true);
  t.record(false);
  t.record(false);
  assert(t.up, "a success in between restarts the fall count");
  assertEquals(t.record(false), true);
  assert(!t.up);
});

Deno.test("ScriptTracker: first success confirms up without a change", () => {
  const t = new ScriptTracker({ rise: 5, fall: 5 });
  assertEquals(t.record(true), false);
  assert(t.up && t.decided);
});

Deno.test("ScriptTracker: init_fail starts down and needs `rise` successes", () => {
  const t = new ScriptTracker({ rise: 3, fall: 1, initFail: true });
  assert(!t.up && t.decided);
  t.record(true);
  t.record(true);
  assert(!t.up);
  assertEquals(t.record(true), true);
  assertEquals(t.record(false), true);
  assertThrows(() => new ScriptTracker({ rise: 0, fall: 1 }), RangeError);
  assertThrows(() => new ScriptTracker({ rise: 1, fall: 1.5 }), RangeError);
});
