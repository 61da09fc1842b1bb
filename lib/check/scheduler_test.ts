import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { FakeClock } from "../runtime/clock.ts";
import { riseFallInit, riseFallStep } from "./rise_fall.ts";
import { CheckRunner, type CheckTransition } from "./scheduler.ts";
import { type Checker, type CheckOutcome, type CheckSpec, commonDefaults } from "./types.ts";

/** A checker whose attempts the test resolves by hand. */
class FakeChecker implements Checker {
  readonly kind = "FAKE";
  calls: number[] = [];
  pending: Array<{ resolve: (o: CheckOutcome) => void; signal: AbortSignal }> = [];
  inFlight = 0;
  maxInFlight = 0;
  /** When set, attempts resolve at once with this outcome. */
  auto: CheckOutcome | null = null;
  /** When true, an aborted attempt resolves with a failure (a well-behaved checker). */
  honourAbort = true;
  constructor(readonly clock: FakeClock) {}
  run(signal: AbortSignal): Promise<CheckOutcome> {
    this.calls.push(this.clock.now());
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const done = (o: CheckOutcome) => {
      this.inFlight--;
      return o;
    };
    if (this.auto !== null) return Promise.resolve(done(this.auto));
    return new Promise<CheckOutcome>((resolve) => {
      const entry = { resolve: (o: CheckOutcome) => resolve(done(o)), signal };
      this.pending.push(entry);
      if (this.honourAbort) {
        signal.addEventListener("abort", () => entry.resolve({ ok: false, reason: "aborted" }));
      }
    });
  }
  settle(o: CheckOutcome): void {
    const p = this.pending.shift();
    assert(p !== undefined, "no attempt pending");
    p.resolve(o);
  }
}

const ok: CheckOutcome = { ok: true, detail: "fine" };
const bad: CheckOutcome = { ok: false, reason: "HTTP 503 from 10.0.0.11:80/health" };
const flush = () => new Promise((r) => setTimeout(r, 0));

function spec(over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    ...commonDefaults("TCP_CHECK", 6000),
    connectTimeoutMs: 3000,
    retry: 2,
    delayBeforeRetryMs: 1000,
    type: "TCP_CHECK",
    ...over,
  } as CheckSpec;
}

function setup(s: CheckSpec, opts: { random?: () => number; initiallyUp?: boolean } = {}) {
  const clock = new FakeClock();
  const checker = new FakeChecker(clock);
  const events: CheckTransition[] = [];
  const runner = new CheckRunner(s, checker, clock, (t) => events.push(t), {
    random: () => 0.5,
    ...opts,
  });
  return { clock, checker, events, runner };
}

async function step(clock: FakeClock, ms: number) {
  clock.advance(ms);
  await flush();
}

Deno.test("rise/fall reducer", () => {
  let s = riseFallInit(true);
  let r = riseFallStep(s, false, 2, 3);
  assertEquals([r.state.up, r.changed], [true, false]);
  r = riseFallStep(r.state, false, 2, 3);
  r = riseFallStep(r.state, true, 2, 3); // a success resets the failure count
  r = riseFallStep(r.state, false, 2, 3);
  r = riseFallStep(r.state, false, 2, 3);
  assertEquals([r.state.up, r.changed], [true, false]);
  r = riseFallStep(r.state, false, 2, 3);
  assertEquals([r.state.up, r.changed], [false, true]);
  s = r.state;
  r = riseFallStep(s, true, 2, 3);
  assertEquals([r.state.up, r.changed], [false, false]);
  r = riseFallStep(r.state, true, 2, 3);
  assertEquals([r.state.up, r.changed], [true, true]);
  assertEquals(riseFallStep(riseFallInit(false), true, 0, 0).changed, true);
});

Deno.test("scheduler: warmup spread, then delay_loop after each round ends", async () => {
  const { clock, checker, runner } = setup(spec({ warmupMs: 4000 }), { random: () => 0.25 });
  runner.start();
  await step(clock, 999);
  assertEquals(checker.calls, []);
  await step(clock, 1);
  assertEquals(checker.calls, [1000]);
  await step(clock, 500); // the attempt takes 500 ms
  checker.settle(ok);
  await flush();
  await step(clock, 5999);
  assertEquals(checker.calls.length, 1);
  await step(clock, 1);
  assertEquals(checker.calls, [1000, 7500]);
  assertEquals(runner.stats.runs, 1);
  assertEquals(runner.stats.lastDurationMs, 500);
  runner.dispose();
});

Deno.test("scheduler: retry while up, fails only after all tries (keepalived)", async () => {
  const { clock, checker, events, runner } = setup(spec());
  runner.start();
  await step(clock, 0);
  checker.settle(bad);
  await flush();
  assertEquals(runner.up, true);
  await step(clock, 1000); // delay_before_retry
  assertEquals(checker.calls, [0, 1000]);
  checker.settle(bad);
  await flush();
  await step(clock, 1000);
  checker.settle(bad);
  await flush();
  assertEquals(runner.up, false);
  assertEquals(events, [{ up: false, reason: `${bad.reason} after 3 tries` }]);
  assertEquals(checker.calls, [0, 1000, 2000]);
  // While down: no retries; each failure waits delay_loop.
  await step(clock, 6000);
  checker.settle(bad);
  await flush();
  await step(clock, 5999);
  assertEquals(checker.calls, [0, 1000, 2000, 8000]);
  await step(clock, 1);
  checker.settle(ok);
  await flush();
  assertEquals(events[1], { up: true, reason: "fine" });
  assertEquals(runner.stats, { runs: 5, failures: 4, lastDurationMs: 0, watchdogs: 0 });
  runner.dispose();
});

Deno.test("scheduler: a success during retries keeps the checker up", async () => {
  const { clock, checker, events, runner } = setup(spec());
  runner.start();
  await step(clock, 0);
  checker.settle(bad);
  await flush();
  await step(clock, 1000);
  checker.settle(ok);
  await flush();
  assertEquals(runner.up, true);
  assertEquals(events, []);
  // The retry count was reset: the next round gets all its retries again.
  await step(clock, 6000);
  checker.settle(bad);
  await flush();
  await step(clock, 1000);
  checker.settle(bad);
  await flush();
  await step(clock, 1000);
  assertEquals(runner.up, true);
  checker.settle(bad);
  await flush();
  assertEquals(runner.up, false);
  runner.dispose();
});

Deno.test("scheduler: rise and fall on top of retries; alpha starts down", async () => {
  const { clock, checker, events, runner } = setup(
    spec({ retry: 0, rise: 2, fall: 2, alpha: true }),
  );
  checker.auto = ok;
  runner.start();
  await step(clock, 0);
  assertEquals(runner.up, false);
  await step(clock, 6000);
  assertEquals(runner.up, true);
  assertEquals(events, [{ up: true, reason: "fine" }]);
  checker.auto = bad;
  await step(clock, 6000);
  assertEquals(runner.up, true);
  await step(clock, 6000);
  assertEquals(runner.up, false);
  assertEquals(events[1], { up: false, reason: `${bad.reason} after 1 try, 2 rounds` });
  runner.dispose();
});

Deno.test("scheduler: weight changes while up are reported", async () => {
  const { clock, checker, events, runner } = setup(spec({ retry: 0 }));
  checker.auto = { ok: true, detail: "exit 12", weight: 10 };
  runner.start();
  await step(clock, 0);
  await step(clock, 6000); // same weight: no second event
  checker.auto = { ok: true, detail: "exit 22", weight: 20 };
  await step(clock, 6000);
  assertEquals(events, [
    { up: true, reason: "exit 12", weight: 10 },
    { up: true, reason: "exit 22", weight: 20 },
  ]);
  runner.dispose();
});

Deno.test("scheduler: never more than one attempt in flight; watchdog bounds a stuck one", async () => {
  const { clock, checker, events, runner } = setup(spec({ retry: 0, delayLoopMs: 100 }));
  checker.honourAbort = false; // a badly behaved checker that ignores abort
  runner.start();
  await step(clock, 0);
  // Watchdog = connect timeout 3000 + 1000.
  await step(clock, 4000);
  assertEquals(runner.up, false);
  assertEquals(events, [{ up: false, reason: "timeout after 4000 ms after 1 try" }]);
  assertEquals(runner.stats.watchdogs, 1);
  assert(checker.pending[0]!.signal.aborted);
  // delay_loop passes many times over, yet no second attempt starts while the first hangs.
  for (let i = 0; i < 50; i++) await step(clock, 100);
  assertEquals(checker.calls.length, 1);
  assertEquals(checker.maxInFlight, 1);
  checker.settle(ok); // the stuck attempt finally returns: ignored, the next one starts
  await flush();
  assertEquals(checker.calls.length, 2);
  assertEquals(runner.up, false);
  checker.settle(ok);
  await flush();
  assertEquals(runner.up, true);
  runner.dispose();
});

Deno.test("scheduler: dispose aborts the attempt in flight and stops the timer", async () => {
  const { clock, checker, events, runner } = setup(spec());
  runner.start();
  await step(clock, 0);
  const sig = checker.pending[0]!.signal;
  runner.dispose();
  assert(sig.aborted);
  await flush();
  await step(clock, 100_000);
  assertEquals(checker.calls.length, 1);
  assertEquals(events, []);
  assertEquals(clock.pending, 0);
});

Deno.test("scheduler: log_all_failures reports every failed attempt while up, retries included", async () => {
  const clock = new FakeClock();
  const checker = new FakeChecker(clock);
  checker.auto = bad;
  const failed: [string, number][] = [];
  const quiet: [string, number][] = [];
  const runner = new CheckRunner(spec({ logAllFailures: true }), checker, clock, () => {}, {
    onFailedAttempt: (r, n) => failed.push([r, n]),
  });
  const other = new CheckRunner(spec(), new FakeChecker(clock), clock, () => {}, {
    onFailedAttempt: (r, n) => quiet.push([r, n]),
  });
  runner.start();
  other.start();
  await step(clock, 0);
  await step(clock, 1000);
  await step(clock, 1000); // the third try fails: down
  assertEquals(failed.map((f) => f[1]), [1, 2, 3]);
  assertEquals(failed[0]![0], bad.reason);
  await step(clock, 6000); // down: failures are no longer reported (keepalived: checker->is_up)
  assertEquals(failed.length, 3);
  assertEquals(quiet, [], "without log_all_failures nothing is reported");
  runner.dispose();
  other.dispose();
});

Deno.test("scheduler: HTTP fast_recovery checks again at once after the first round and while rising", async () => {
  const clock = new FakeClock();
  const checker = new FakeChecker(clock);
  checker.auto = ok;
  const s = { ...spec({ rise: 3 }), type: "HTTP_GET", urls: [], fastRecovery: true } as CheckSpec;
  const events: CheckTransition[] = [];
  const runner = new CheckRunner(s, checker, clock, (t) => events.push(t), { initiallyUp: false });
  runner.start();
  for (let i = 0; i < 4; i++) await step(clock, 0);
  // Rounds 1, 2 and 3 back to back (first round; then down after a success), up after the third.
  assertEquals(checker.calls, [0, 0, 0]);
  assertEquals(events.map((e) => e.up), [true]);
  await step(clock, 5999);
  assertEquals(checker.calls.length, 3, "up: delay_loop again");
  await step(clock, 1);
  assertEquals(checker.calls.length, 4);
  runner.dispose();
  const plain = setup({ ...spec({ rise: 3 }), type: "HTTP_GET", urls: [] } as CheckSpec, {
    initiallyUp: false,
  });
  plain.checker.auto = ok;
  plain.runner.start();
  for (let i = 0; i < 4; i++) await step(plain.clock, 0);
  assertEquals(plain.checker.calls, [0], "without fast_recovery: one round per delay_loop");
  plain.runner.dispose();
});
