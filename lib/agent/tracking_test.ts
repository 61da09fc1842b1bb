import { assertEquals } from "../../tests/helpers/assert.ts";
import { FakeClock } from "../runtime/clock.ts";
import { Logger } from "../runtime/log.ts";
import type { InstancePlan, Plan, ProcessPlan } from "./plan.ts";
import type { ProcInfo } from "./processes.ts";
import { TrackingRuntime } from "./tracking.ts";

const HAPROXY: ProcessPlan = {
  name: "haproxy",
  process: "haproxy",
  paramMatch: "exact",
  fullCommand: false,
  quorum: 1,
  weight: 0,
  forkDelayMs: 0,
  terminateDelayMs: 300,
};

function setup(weight: number | null) {
  const clock = new FakeClock();
  const procs: ProcInfo[] = [{ pid: 10, comm: "haproxy", argv: ["/usr/sbin/haproxy"] }];
  const changed: string[][] = [];
  const lines: string[] = [];
  const rt = new TrackingRuntime(
    clock,
    new Logger("t", { level: "debug", sink: (l) => lines.push(l), json: false }),
    (names) => changed.push(names),
    () => Promise.resolve([...procs]),
    () => [...procs],
  );
  const ip = {
    spec: { name: "VI_1", priority: 100 },
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [{ name: "haproxy", weight: weight ?? 0, reverse: false }],
  } as unknown as InstancePlan;
  const plan = {
    instances: [ip],
    scripts: {},
    processes: { haproxy: { ...HAPROXY, weight: weight ?? 0 } },
    processScanIntervalMs: 100,
    scriptUser: null,
  } as unknown as Plan;
  rt.apply(plan);
  const state = () => rt.compute(ip, () => true);
  return { clock, procs, changed, lines, rt, state };
}

/** Lets the fake scan's promise settle after a timer fired. */
const settle = () => new Promise((r) => setTimeout(r, 0));

Deno.test("tracking: a running process is up from the first (synchronous) count", () => {
  const t = setup(null);
  assertEquals(t.state(), { fault: false, reasons: [], priority: 100 });
  t.rt.stop();
});

Deno.test("tracking: weight 0 puts the instance in FAULT once the process is gone past terminate_delay", async () => {
  const t = setup(null);
  t.procs.length = 0;
  t.clock.advance(100);
  await settle();
  assertEquals(t.state()?.fault, false, "terminate_delay (300 ms) not yet over");
  for (let i = 0; i < 3; i++) {
    t.clock.advance(100);
    await settle();
  }
  assertEquals(t.state(), { fault: true, reasons: ["process haproxy is down"], priority: 100 });
  assertEquals(t.changed, [["VI_1"]]);
  t.procs.push({ pid: 11, comm: "haproxy", argv: ["haproxy"] });
  t.clock.advance(100);
  await settle();
  assertEquals(t.state()?.fault, false);
  t.rt.stop();
  t.clock.advance(1000);
  assertEquals(t.clock.pending, 0, "stop cancels the scan timer");
});

Deno.test("tracking: a positive weight adds to the priority while the process runs", async () => {
  const t = setup(20);
  assertEquals(t.state()?.priority, 120);
  t.procs.length = 0;
  for (let i = 0; i < 4; i++) {
    t.clock.advance(100);
    await settle();
  }
  assertEquals(t.state(), { fault: false, reasons: [], priority: 100 });
  t.rt.stop();
});

Deno.test("track files: a reload restarts the reads, it does not add a loop per reload", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/f`;
    await Deno.writeTextFile(file, "0x10\n");
    const clock = new FakeClock();
    const lines: string[] = [];
    const rt = new TrackingRuntime(
      clock,
      new Logger("t", { level: "debug", sink: (l) => lines.push(l), json: false }),
      () => {},
      () => Promise.resolve([]),
      () => [],
    );
    const ip = {
      spec: { name: "VI_1", priority: 100 },
      trackInterfaces: [],
      trackScripts: [],
      trackFiles: [{ path: file, weight: 2 }],
      trackProcesses: [],
    } as unknown as InstancePlan;
    const plan = {
      instances: [ip],
      scripts: {},
      processes: {},
      scriptUser: null,
    } as unknown as Plan;
    const settle = () => new Promise((r) => setTimeout(r, 50));
    for (let i = 0; i < 5; i++) rt.apply(plan);
    await settle();
    assertEquals(clock.pending, 1, "one read pending for one file");
    // strtol base 0, as keepalived: 0x10 is 16, times the weight 2.
    assertEquals(rt.compute(ip, () => true)?.priority, 132);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    assertEquals(clock.pending, 1);
    // Out of range: logged once, the last value kept.
    await Deno.writeTextFile(file, "99999999999\n");
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await settle();
    }
    assertEquals(rt.compute(ip, () => true)?.priority, 132);
    assertEquals(lines.filter((l) => l.includes("out of range")).length, 1);
    rt.stop();
    await settle();
    assertEquals(clock.pending, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("track scripts: one keepalived would not run is disabled, the instance goes on", async () => {
  const clock = new FakeClock();
  const lines: string[] = [];
  const rt = new TrackingRuntime(
    clock,
    new Logger("t", { level: "debug", sink: (l) => lines.push(l), json: false }),
    () => {},
    () => Promise.resolve([]),
    () => [],
    (sp) =>
      sp.command.startsWith("/missing")
        ? `${sp.command}: not found`
        : sp.command.startsWith("/unsafe")
        ? `refused by enable_script_security: ${sp.command} is writable by uid 1000`
        : null,
  );
  const script = (command: string) => ({
    name: "chk",
    command,
    intervalMs: 1000,
    timeoutMs: 1000,
    weight: 0,
    rise: 1,
    fall: 1,
    initFail: false,
    user: null,
  });
  const ip = {
    spec: { name: "VI_1", priority: 100 },
    trackInterfaces: [],
    trackScripts: [{ name: "chk", weight: 0, reverse: false }],
    trackFiles: [],
    trackProcesses: [],
  } as unknown as InstancePlan;
  const plan = (command: string) =>
    ({
      instances: [ip],
      scripts: { chk: script(command) },
      processes: {},
      scriptUser: null,
    }) as unknown as Plan;
  rt.apply(plan("/missing/chk.sh"));
  // Weight 0 would mean FAULT while it fails: disabled, it counts for nothing.
  assertEquals(rt.compute(ip, () => true), { fault: false, reasons: [], priority: 100 });
  assertEquals(rt.status(), [{
    kind: "script",
    name: "chk",
    up: false,
    detail: "disabled: /missing/chk.sh: not found",
  }]);
  assertEquals(clock.pending, 0, "a disabled script is never run");
  assertEquals(
    lines.filter((l) => l.includes("Disabling track script chk since not found/accessible")).length,
    1,
  );
  // A reload with the script in place tracks it again.
  rt.apply(plan("/bin/false"));
  assertEquals(clock.pending, 1);
  clock.advance(0);
  await new Promise((r) => setTimeout(r, 300));
  assertEquals(rt.compute(ip, () => true)?.fault, true);
  // Refused by the script security: disabled too, in keepalived's words for it.
  rt.apply(plan("/unsafe/chk.sh"));
  assertEquals(rt.compute(ip, () => true), { fault: false, reasons: [], priority: 100 });
  assertEquals(
    lines.filter((l) => l.includes("Disabling track script chk due to insecure")).length,
    1,
  );
  rt.stop();
});
