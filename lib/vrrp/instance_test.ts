import { assert, assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { FakeClock } from "../runtime/clock.ts";
import { type Action, type InstanceOptions, VrrpInstance } from "./instance.ts";

const ME = new Uint8Array([10, 0, 0, 5]);
const LOWER_IP = new Uint8Array([10, 0, 0, 4]);
const HIGHER_IP = new Uint8Array([10, 0, 0, 6]);

function setup(over: Partial<InstanceOptions> & { noAddress?: boolean } = {}) {
  const clock = new FakeClock();
  const actions: Action[] = [];
  const opts: InstanceOptions = {
    name: "VI_1",
    vrid: 51,
    version: 2,
    family: "ipv4",
    priority: 100,
    advertIntervalCs: 100,
    initialState: "BACKUP",
    preempt: true,
    preemptDelayMs: 0,
    primaryAddress: ME,
    ...over,
  };
  if (over.noAddress) delete opts.primaryAddress;
  const inst = new VrrpInstance(opts, clock, (a) => actions.push(a));
  const take = () => actions.splice(0).map(show);
  return { clock, inst, take };
}

function show(a: Action): string {
  switch (a.type) {
    case "send-advert":
      return `advert:${a.priority}`;
    case "state":
      return `${a.from}->${a.to}`;
    default:
      return a.type;
  }
}

const MASTER_ENTRY = ["advert:100", "add-vips", "announce", "BACKUP->MASTER"];

Deno.test("owner (255) starts as MASTER at once: advert, add-vips, announce, state", () => {
  const { clock, inst, take } = setup({ priority: 255 });
  inst.start();
  assertEquals(take(), ["advert:255", "add-vips", "announce", "INIT->MASTER"]);
  assertEquals(inst.state, "MASTER");
  assertEquals(inst.masterAddress, ME);
  clock.advance(999);
  assertEquals(take(), []);
  clock.advance(1);
  assertEquals(take(), ["advert:255"]);
  inst.setEffectivePriority(100);
  assertEquals(inst.effectivePriority, 255);
  clock.advance(1000);
  assertEquals(take(), ["advert:255"]);
});

Deno.test("non-owner starts BACKUP (even with state MASTER) and takes over after Master_Down_Interval", () => {
  for (const initialState of ["BACKUP", "MASTER"] as const) {
    const { clock, inst, take } = setup({ initialState });
    inst.start();
    assertEquals(take(), ["INIT->BACKUP"]);
    clock.advance(3609);
    assertEquals(inst.state, "BACKUP");
    clock.advance(0.375);
    assertEquals(take(), MASTER_ENTRY);
    assertEquals(clock.now(), 3609.375);
  }
});

Deno.test("v3 backup timing: 10 cs, priority 100 -> 360.9375 ms", () => {
  const { clock, inst, take } = setup({ version: 3, advertIntervalCs: 10 });
  inst.start();
  take();
  clock.advance(360.9);
  assertEquals(inst.state, "BACKUP");
  clock.advance(0.0375);
  assertEquals(inst.state, "MASTER");
  assertEquals(take(), MASTER_ENTRY);
  clock.advance(100);
  assertEquals(take(), ["advert:100"]);
});

Deno.test("BACKUP: adverts of priority >= ours reset the timer; v3 adopts the master's interval", () => {
  const { clock, inst, take } = setup({ version: 3, advertIntervalCs: 100 });
  inst.start();
  take();
  clock.advance(3000);
  for (let i = 0; i < 10; i++) {
    clock.advance(500);
    inst.receive({ priority: 150, maxAdverIntCs: 50, src: HIGHER_IP });
  }
  assertEquals(inst.state, "BACKUP");
  assertEquals(inst.masterAdverIntCs, 50);
  assertEquals(inst.masterAddress, HIGHER_IP);
  // v3 Master_Down_Interval is now 3 * 500 + 156 * 500 / 256 = 1804.6875 ms.
  clock.advance(1804);
  assertEquals(inst.state, "BACKUP");
  clock.advance(0.6875);
  assertEquals(inst.state, "MASTER");
  assertEquals(inst.masterAdverIntCs, 100);
  assertEquals(take(), MASTER_ENTRY);
});

Deno.test("BACKUP: v2 never adopts the advertised interval", () => {
  const { clock, inst } = setup();
  inst.start();
  inst.receive({ priority: 150, maxAdverIntCs: 300, src: HIGHER_IP });
  assertEquals(inst.masterAdverIntCs, 100);
  clock.advance(3609.375);
  assertEquals(inst.state, "MASTER");
});

Deno.test("BACKUP: equal priority resets the timer (no preemption on equal priority)", () => {
  const { clock, inst } = setup();
  inst.start();
  for (let i = 0; i < 20; i++) {
    clock.advance(1000);
    inst.receive({ priority: 100, maxAdverIntCs: 100, src: LOWER_IP });
  }
  assertEquals(inst.state, "BACKUP");
});

Deno.test("BACKUP: lower priority is discarded with preempt, accepted with nopreempt", () => {
  const pre = setup();
  pre.inst.start();
  const nopre = setup({ preempt: false });
  nopre.inst.start();
  for (let i = 0; i < 3; i++) {
    pre.clock.advance(1000);
    nopre.clock.advance(1000);
    pre.inst.receive({ priority: 50, maxAdverIntCs: 100, src: HIGHER_IP });
    nopre.inst.receive({ priority: 50, maxAdverIntCs: 100, src: HIGHER_IP });
  }
  // Started at 0, discarded adverts do not reset: master at 3609.375.
  pre.clock.advance(609.375);
  assertEquals(pre.inst.state, "MASTER");
  nopre.clock.advance(3609);
  assertEquals(nopre.inst.state, "BACKUP");
  nopre.clock.advance(1);
  assertEquals(nopre.inst.state, "MASTER");
});

Deno.test("BACKUP: a priority-0 advert sets the timer to Skew_Time", () => {
  const { clock, inst, take } = setup();
  inst.start();
  take();
  clock.advance(2000);
  inst.receive({ priority: 0, maxAdverIntCs: 100, src: HIGHER_IP });
  clock.advance(609);
  assertEquals(inst.state, "BACKUP");
  clock.advance(0.375);
  assertEquals(take(), MASTER_ENTRY);
  assertEquals(inst.stats().priorityZeroReceived, 1);
});

Deno.test("BACKUP: preempt_delay tolerates a lower master for the delay, then preempts", () => {
  const { clock, inst } = setup({ priority: 200, preemptDelayMs: 10_000 });
  inst.start();
  // A lower-priority master advertising every second from t = 1 s.
  let tookOverAt = -1;
  for (let t = 1; t <= 30; t++) {
    clock.advance(1000);
    if (inst.state === "MASTER") {
      tookOverAt = tookOverAt < 0 ? t : tookOverAt;
      continue;
    }
    inst.receive({ priority: 100, maxAdverIntCs: 100, src: LOWER_IP });
  }
  // First lower advert at 1 s opens a 10 s window: the one at 10 s still resets the timer,
  // the one at 11 s is discarded, so MASTER at 10 s + 3.21875 s.
  assert(tookOverAt === 14, `took over at ${tookOverAt} s`);
  assertEquals(inst.state, "MASTER");
});

Deno.test("BACKUP: preempt_delay window restarts after a higher-priority master", () => {
  const { clock, inst } = setup({ priority: 200, preemptDelayMs: 5_000 });
  inst.start();
  for (let t = 0; t < 4; t++) {
    clock.advance(1000);
    inst.receive({ priority: 100, maxAdverIntCs: 100, src: LOWER_IP });
  }
  clock.advance(1000);
  inst.receive({ priority: 250, maxAdverIntCs: 100, src: HIGHER_IP });
  // New window from 6 s to 11 s: lower adverts until then keep us BACKUP.
  for (let t = 6; t <= 10; t++) {
    clock.advance(1000);
    inst.receive({ priority: 100, maxAdverIntCs: 100, src: LOWER_IP });
  }
  assertEquals(inst.state, "BACKUP");
  clock.advance(1000);
  inst.receive({ priority: 100, maxAdverIntCs: 100, src: LOWER_IP });
  // The 11 s advert is discarded; the 10 s one armed the timer: 10 s + 3218.75 ms.
  clock.advance(2218);
  assertEquals(inst.state, "BACKUP");
  clock.advance(1);
  assertEquals(inst.state, "MASTER");
});

function masterSetup(over: Partial<InstanceOptions> = {}) {
  const s = setup({ priority: 255, ...over });
  s.inst.start();
  s.take();
  return s;
}

Deno.test("MASTER: higher priority -> remove-vips, BACKUP; v3 adopts the interval", () => {
  const { clock, inst, take } = setup({ version: 3 });
  inst.start();
  clock.advance(3609.375);
  take();
  inst.receive({ priority: 101, maxAdverIntCs: 20, src: LOWER_IP });
  assertEquals(take(), ["remove-vips", "MASTER->BACKUP"]);
  assertEquals(inst.masterAdverIntCs, 20);
  assertEquals(inst.masterAddress, LOWER_IP);
  // Down interval 600 + 156 * 200 / 256 = 721.875 ms; no adverts while BACKUP.
  clock.advance(721);
  assertEquals(take(), []);
  clock.advance(1);
  assertEquals(take(), MASTER_ENTRY);
  assertEquals(inst.stats().releasedMaster, 1);
  assertEquals(inst.stats().becameMaster, 2);
});

Deno.test("MASTER: equal priority ties on the primary address", () => {
  const a = setup();
  a.inst.start();
  a.clock.advance(3609.375);
  a.take();
  a.inst.receive({ priority: 100, maxAdverIntCs: 100, src: LOWER_IP });
  assertEquals(a.take(), ["advert:100", "lower-priority"]);
  assertEquals(a.inst.state, "MASTER");
  a.inst.receive({ priority: 100, maxAdverIntCs: 100, src: HIGHER_IP });
  assertEquals(a.take(), ["remove-vips", "MASTER->BACKUP"]);
});

Deno.test("MASTER: lower priority -> advert at once and the Adver_Timer restarts (RFC 9568)", () => {
  const { clock, inst, take } = setup();
  inst.start();
  clock.advance(3609.375);
  take();
  clock.advance(400);
  inst.receive({ priority: 50, maxAdverIntCs: 100, src: HIGHER_IP });
  assertEquals(take(), ["advert:100", "lower-priority"]);
  clock.advance(999);
  assertEquals(take(), []);
  clock.advance(1);
  assertEquals(take(), ["advert:100"]);
});

Deno.test("MASTER: lower_prio_no_advert - no answer, the Adver_Timer keeps its phase", () => {
  const { clock, inst, take } = setup({ lowerPrioNoAdvert: true });
  inst.start();
  clock.advance(3609.375);
  take();
  clock.advance(400);
  inst.receive({ priority: 50, maxAdverIntCs: 100, src: HIGHER_IP });
  // keepalived still refreshes the neighbours (garp_lower_prio_repeat), nothing else.
  assertEquals(take(), ["lower-priority"]);
  clock.advance(600);
  assertEquals(take(), ["advert:100"]);
});

Deno.test("MASTER: higher_prio_send_advert - one advert, then BACKUP", () => {
  const plain = setup();
  plain.inst.start();
  plain.clock.advance(3609.375);
  plain.take();
  plain.inst.receive({ priority: 200, maxAdverIntCs: 100, src: LOWER_IP });
  assertEquals(plain.take(), ["remove-vips", "MASTER->BACKUP"]);
  const eager = setup({ higherPrioSendAdvert: true });
  eager.inst.start();
  eager.clock.advance(3609.375);
  eager.take();
  eager.inst.receive({ priority: 200, maxAdverIntCs: 100, src: LOWER_IP });
  assertEquals(eager.take(), ["advert:100", "remove-vips", "MASTER->BACKUP"]);
});

Deno.test("dont_track_primary: link down is no fault (trackLink false)", () => {
  const { inst, take } = setup({ trackLink: false });
  inst.start();
  take();
  inst.setLink({ kind: "ready", up: false, source: ME });
  assertEquals(inst.state, "BACKUP");
  assertEquals(inst.faults, []);
  // A missing interface still is.
  inst.setLink({ kind: "missing", deleted: true });
  assertEquals(inst.state, "FAULT");
  const tracked = setup();
  tracked.inst.start();
  tracked.inst.setLink({ kind: "ready", up: false, source: ME });
  assertEquals(tracked.inst.state, "FAULT");
});

Deno.test("MASTER: priority 0 -> advert at once", () => {
  const { inst, take } = masterSetup();
  inst.receive({ priority: 0, maxAdverIntCs: 100, src: HIGHER_IP });
  assertEquals(take(), ["advert:255"]);
  assertEquals(inst.state, "MASTER");
});

Deno.test("FAULT: MASTER sends priority 0 and removes VIPs; adverts ignored; clears to BACKUP", () => {
  const { clock, inst, take } = setup();
  inst.start();
  clock.advance(4000);
  take();
  inst.setFault("link", true, "eth0 down");
  assertEquals(take(), ["advert:0", "remove-vips", "MASTER->FAULT"]);
  assertEquals(clock.pending, 0);
  inst.receive({ priority: 0, maxAdverIntCs: 100, src: HIGHER_IP });
  clock.advance(10_000);
  assertEquals(take(), []);
  inst.setFault("link", true, "still down");
  assertEquals(take(), []);
  inst.setFault("link", false, "eth0 up");
  assertEquals(take(), ["FAULT->BACKUP"]);
  clock.advance(3609.375);
  assertEquals(take(), ["advert:100", "add-vips", "announce", "BACKUP->MASTER"]);
  const s = inst.stats();
  assertEquals(s.priorityZeroSent, 1);
  assertEquals(s.priorityZeroReceived, 1);
  assertEquals(s.becameMaster, 2);
  assertEquals(s.releasedMaster, 1);
});

Deno.test("FAULT: BACKUP -> FAULT cancels the down timer; owner leaves FAULT as MASTER", () => {
  const b = setup();
  b.inst.start();
  b.inst.setFault("track", true, "x");
  assertEquals(b.take(), ["INIT->BACKUP", "BACKUP->FAULT"]);
  b.clock.advance(60_000);
  assertEquals(b.inst.state, "FAULT");
  const o = masterSetup();
  o.inst.setFault("track", true, "x");
  o.inst.setFault("track", false, "y");
  assertEquals(o.take(), [
    "advert:0",
    "remove-vips",
    "MASTER->FAULT",
    "advert:255",
    "add-vips",
    "announce",
    "FAULT->MASTER",
  ]);
});

Deno.test("FAULT set before start: start goes straight to FAULT", () => {
  const { inst, take } = setup({ priority: 255 });
  inst.setFault("link", true, "eth0 down");
  inst.start();
  assertEquals(take(), ["INIT->FAULT"]);
});

Deno.test("shutdown: MASTER sends priority 0, removes VIPs, leaves no timer; restart works", () => {
  const { clock, inst, take } = setup();
  inst.start();
  clock.advance(5000);
  take();
  inst.shutdown();
  assertEquals(take(), ["advert:0", "remove-vips", "MASTER->INIT"]);
  assertEquals(clock.pending, 0);
  assertEquals(inst.masterAddress, null);
  inst.receive({ priority: 100, maxAdverIntCs: 100, src: HIGHER_IP });
  inst.shutdown();
  assertEquals(take(), []);
  inst.start();
  assertEquals(take(), ["INIT->BACKUP"]);
  inst.shutdown();
  assertEquals(take(), ["BACKUP->INIT"]);
  assertEquals(clock.pending, 0);
});

Deno.test("stats count adverts sent and received", () => {
  const { clock, inst } = masterSetup();
  clock.advance(10_000);
  inst.receive({ priority: 50, maxAdverIntCs: 100, src: HIGHER_IP });
  const s = inst.stats();
  assertEquals(s.advertsSent, 12);
  assertEquals(s.advertsReceived, 1);
});

Deno.test("a master gate holds a timer-driven takeover until it opens", () => {
  const { clock, inst, take } = setup();
  let open = false;
  inst.setMasterGate(() => open);
  inst.start();
  take();
  clock.advance(3609.375);
  assertEquals(inst.state, "BACKUP");
  assert(inst.wantsMaster);
  inst.forceMaster("group");
  assertEquals(take(), ["advert:100", "add-vips", "announce", "BACKUP->MASTER"]);
  inst.forceBackup("group");
  assertEquals(take(), ["remove-vips", "MASTER->BACKUP"]);
  open = true;
  clock.advance(3609.375);
  assertEquals(inst.state, "MASTER");
});

Deno.test("setEffectivePriority changes adverts and skew; rejects 0 and 255", () => {
  const { clock, inst, take } = setup();
  inst.setEffectivePriority(200);
  inst.start();
  take();
  clock.advance(3218.75);
  assertEquals(take(), ["advert:200", "add-vips", "announce", "BACKUP->MASTER"]);
  assertThrows(() => inst.setEffectivePriority(0), RangeError);
  assertThrows(() => inst.setEffectivePriority(255), RangeError);
});

Deno.test("constructor rejects values no config could mean", () => {
  const clock = new FakeClock();
  const base: InstanceOptions = {
    name: "x",
    vrid: 1,
    version: 2,
    family: "ipv4",
    priority: 100,
    advertIntervalCs: 100,
    initialState: "BACKUP",
    preempt: true,
    preemptDelayMs: 0,
    primaryAddress: ME,
  };
  const bad: Partial<InstanceOptions>[] = [
    { vrid: 0 },
    { vrid: 256 },
    { priority: 0 },
    { advertIntervalCs: 150 },
    { version: 3, advertIntervalCs: 4096 },
    { family: "ipv6" },
    { preemptDelayMs: -1 },
  ];
  for (const b of bad) {
    assertThrows(() => new VrrpInstance({ ...base, ...b }, clock, () => {}), RangeError);
  }
});

Deno.test("master: late timers do not slow the advert rate (due times keep their phase)", () => {
  const fake = new FakeClock();
  // Every timer fires 3 ms late, as a busy event loop would.
  const late = {
    now: () => fake.now(),
    setTimer: (ms: number, fn: () => void) => fake.setTimer(ms + 3, fn),
  };
  let adverts = 0;
  const inst = new VrrpInstance(
    {
      name: "VI_1",
      vrid: 51,
      version: 3,
      family: "ipv4",
      priority: 255,
      advertIntervalCs: 1,
      initialState: "MASTER",
      preempt: true,
      preemptDelayMs: 0,
      primaryAddress: ME,
    },
    late,
    (a) => {
      if (a.type === "send-advert") adverts++;
    },
  );
  inst.start();
  adverts = 0;
  fake.advance(10_000);
  // 10 ms adverts for 10 s: 1,000, not the 769 a restarted 13 ms timer would give.
  assert(adverts >= 995 && adverts <= 1000, `${adverts} adverts`);
  inst.shutdown();
});

Deno.test("backup: adverts an executor delivers before Master_Down_Timer's callback keep it backup", () => {
  const fake = new FakeClock();
  let waiting = 0;
  let inst: VrrpInstance | null = null;
  // The runner's clock: input waiting in the socket is read before any timer callback runs.
  const inputFirst = {
    now: () => fake.now(),
    setTimer: (ms: number, fn: () => void) =>
      fake.setTimer(ms, () => {
        for (; waiting > 0; waiting--) {
          inst!.receive({ priority: 150, maxAdverIntCs: 1, src: HIGHER_IP });
        }
        fn();
      }),
  };
  const states: string[] = [];
  inst = new VrrpInstance(
    {
      name: "VI_1",
      vrid: 51,
      version: 3,
      family: "ipv4",
      priority: 100,
      advertIntervalCs: 1,
      initialState: "BACKUP",
      preempt: true,
      preemptDelayMs: 0,
      primaryAddress: ME,
    },
    inputFirst,
    (a) => {
      if (a.type === "state") states.push(a.to);
    },
  );
  inst.start();
  // A stalled loop: an advert arrived but was not read before the timer expired.
  waiting = 1;
  fake.advance(40);
  assertEquals(inst.state, "BACKUP", "the waiting advert proved the master alive");
  fake.advance(40);
  assertEquals(inst.state, "MASTER", "with nothing waiting, the timer takes over");
  assertEquals(states, ["BACKUP", "MASTER"]);
  inst.shutdown();
});

Deno.test("setLink: missing, no source, down and ready are FAULT inputs; one transition out", () => {
  const { inst, take } = setup({ noAddress: true, interface: "eth9" });
  inst.setLink({ kind: "missing", deleted: false });
  inst.start();
  assertEquals(take(), ["INIT->FAULT"]);
  assertEquals(inst.faults, ['interface "eth9" does not exist']);
  inst.setLink({ kind: "no-source" });
  inst.setLink({ kind: "ready", up: false, source: ME });
  assertEquals(take(), []);
  assertEquals(inst.faults, ["interface eth9 down"]);
  inst.setLink({ kind: "ready", up: true, source: ME });
  assertEquals(take(), ["FAULT->BACKUP"]);
  assertEquals(inst.reason, "fault cleared: interface eth9 up");
  inst.setFault("track", true, "chk failing");
  inst.setLink({ kind: "missing", deleted: true });
  assertEquals(take(), ["BACKUP->FAULT"]);
  assertEquals(inst.faults, ["chk failing", 'interface "eth9" was deleted']);
  inst.setLink({ kind: "ready", up: true, source: ME });
  inst.setFault("track", false, "chk ok");
  assertEquals(take(), ["FAULT->BACKUP"]);
});

Deno.test("without a source address the machine waits in FAULT", () => {
  const { inst, take } = setup({ noAddress: true });
  inst.start();
  assertEquals(take(), ["INIT->FAULT"]);
  assertThrows(() => inst.setLink({ kind: "ready", up: true, source: new Uint8Array(16) }));
  inst.setLink({ kind: "ready", up: true, source: ME });
  assertEquals(take(), ["FAULT->BACKUP"]);
});

Deno.test("setBasePriority: a new priority applies at once; owners refuse", () => {
  const { clock, inst, take } = setup();
  inst.start();
  clock.advance(3609.375);
  take();
  inst.setBasePriority(120);
  assertEquals([inst.basePriority, inst.effectivePriority], [120, 120]);
  clock.advance(1000);
  assertEquals(take(), ["advert:120"]);
  assertThrows(() => inst.setBasePriority(255), RangeError);
  const o = masterSetup();
  assertThrows(() => o.inst.setBasePriority(100), RangeError);
});
