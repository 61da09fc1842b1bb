import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { Reactor } from "./reactor.ts";
import { ReactorClock } from "./timer.ts";

/** Reports callback failures into `lines` as "WHAT failed: MESSAGE". */
function quiet(lines: string[] = []): (what: string, e: unknown) => void {
  return (what, e) => lines.push(`${what} failed: ${(e as Error).message}`);
}

/**
 * Runs `body` with a running Reactor (waiting on a helper thread, or on the JS thread when
 * `onThread`) and its clock, closing both afterwards.
 */
async function withClock(
  onThread: boolean,
  body: (clock: ReactorClock) => Promise<void>,
  lines: string[] = [],
) {
  const reactor = new Reactor({ onFailure: quiet(lines), waitOnThread: onThread });
  const done = reactor.run();
  const clock = new ReactorClock(reactor, quiet(lines));
  try {
    await body(clock);
  } finally {
    clock[Symbol.dispose]();
    reactor.close();
    await done;
  }
}

for (const onThread of [false, true]) {
  const mode = onThread ? " (waits on the JS thread)" : "";
  Deno.test(`reactor clock${mode}: timers fire in deadline order, not before their deadline`, async () => {
    await withClock(onThread, async (clock) => {
      const fired: [string, number][] = [];
      const start = clock.now();
      const all = Promise.withResolvers<void>();
      const mark = (name: string, due: number) => () => {
        fired.push([name, clock.now() - start - due]);
        if (fired.length === 4) all.resolve();
      };
      clock.setTimer(30, mark("c", 30));
      clock.setTimer(10, mark("a", 10));
      clock.setTimer(20, mark("b", 20));
      clock.setTimer(20, mark("b2", 20));
      await all.promise;
      assertEquals(fired.map(([n]) => n), ["a", "b", "b2", "c"]);
      for (const [n, late] of fired) assert(late >= -0.01, `${n} fired ${-late} ms early`);
      assertEquals(clock.pending, 0);
    });
  });

  Deno.test(`reactor clock${mode}: a cancelled timer never fires; cancelling twice is harmless`, async () => {
    await withClock(onThread, async (clock) => {
      let fired = 0;
      const t = clock.setTimer(5, () => fired++);
      t.cancel();
      t.cancel();
      for (let i = 0; i < 200; i++) clock.setTimer(1000, () => fired++).cancel();
      const later = Promise.withResolvers<void>();
      clock.setTimer(20, () => later.resolve());
      await later.promise;
      assertEquals(fired, 0);
      assertEquals(clock.pending, 0);
    });
  });

  Deno.test(`reactor clock${mode}: a throwing callback is logged and the others still run`, async () => {
    const lines: string[] = [];
    await withClock(onThread, async (clock) => {
      const ran = Promise.withResolvers<void>();
      clock.setTimer(1, () => {
        throw new Error("boom");
      });
      clock.setTimer(1, () => ran.resolve());
      await ran.promise;
    }, lines);
    assert(
      lines.some((l) => l.includes("timer callback failed") && l.includes("boom")),
      lines.join("\n"),
    );
  });

  Deno.test(`reactor clock${mode}: a 10 ms chain keeps sub-millisecond time (median lateness)`, async () => {
    await withClock(onThread, async (clock) => {
      const late: number[] = [];
      const done = Promise.withResolvers<void>();
      let due = clock.now() + 10;
      const tick = () => {
        late.push(clock.now() - due);
        if (late.length === 50) return done.resolve();
        due += 10;
        clock.setTimer(due - clock.now(), tick);
      };
      clock.setTimer(10, tick);
      await done.promise;
      late.sort((a, b) => a - b);
      assert(late[0]! >= -0.01, `fired ${-late[0]!} ms early`);
      // Generous: setTimeout's median here is about 0.5 ms off; the timerfd's about 0.05 ms.
      assert(late[25]! < 0.5, `median lateness ${late[25]} ms`);
    });
  });
}
