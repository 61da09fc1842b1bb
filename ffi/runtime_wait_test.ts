import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { UnixDatagramSocket } from "./unix_dgram.ts";
import { Reactor } from "./reactor.ts";
import { ReactorClock } from "./timer.ts";
import { findRuntimeWait } from "./runtime_wait.ts";

/** A Reactor waiting on the JS thread and its clock, running while `body` runs. */
async function withReactorClock(
  body: (r: Reactor, clock: ReactorClock) => Promise<void>,
): Promise<Reactor> {
  const r = new Reactor({ waitOnThread: true, onFailure: () => {} });
  const clock = new ReactorClock(r, () => {});
  const done = r.run();
  try {
    await body(r, clock);
  } finally {
    clock[Symbol.dispose]();
    r.close();
    await done;
  }
  return r;
}

/**
 * A Reactor waiting on the JS thread, running while `body` runs, with a quiet timer every
 * 300 ms (an agent's adverts): between two ticks the Reactor holds the thread, and what the
 * runtime has must wake it.
 */
function onThread(body: (r: Reactor) => Promise<void>): Promise<Reactor> {
  return withReactorClock(async (r, clock) => {
    const tick = () => void clock.setTimer(300, tick, { quiet: true });
    tick();
    await new Promise((res) => setTimeout(res, 700)); // past a helper round, on the thread
    assert(r.waitsOnThread, "this thread's runtime fd was not found");
    await body(r);
  });
}

/**
 * A Worker that sends `count` datagrams, one every `everyMs`, to the abstract unix socket
 * `name` (a sender on another thread: nothing of the main thread's runtime is involved).
 */
function sender(name: string, count: number, everyMs: number): Worker {
  const mod = new URL("./unix_dgram.ts", import.meta.url).href;
  const code = `import { UnixDatagramSocket } from "${mod}";
    const s = UnixDatagramSocket.open(); let n = 0;
    const id = setInterval(() => { s.sendTo("${name}", new Uint8Array([1]));
      if (++n === ${count}) { clearInterval(id); s.close(); postMessage("done"); } }, ${everyMs});`;
  return new Worker(`data:application/typescript,${encodeURIComponent(code)}`, {
    type: "module",
  });
}

/** An abstract unix datagram socket to receive a sender's datagrams. */
function receiver(): { name: string; sock: UnixDatagramSocket } {
  const name = `@haagent-rt-${Deno.pid}-${Math.floor(Math.random() * 1e9)}`;
  const sock = UnixDatagramSocket.open();
  sock.bind(name);
  return { name, sock };
}

Deno.test("runtime wait: the main thread's runtime has an epoll fd; a turn runs queued work", async () => {
  const rt = await findRuntimeWait();
  assert(rt !== null);
  assert(Deno.readLinkSync(`/proc/self/fd/${rt.fd}`) === "anon_inode:[eventpoll]");
  let ran = false;
  queueMicrotask(() => ran = true);
  await rt.turn();
  assert(ran);
  rt.close();
});

Deno.test("runtime wait: timers of the runtime fire on time while the Reactor holds the thread", async () => {
  const r = await onThread(async () => {
    const t0 = performance.now();
    await new Promise((res) => setTimeout(res, 120));
    const late = performance.now() - t0 - 120;
    // Due on time within the runtime's millisecond timers (a loaded machine adds some).
    assert(late < 60, `setTimeout(120) fired ${late.toFixed(1)} ms late`);
    let ticks = 0;
    await new Promise<void>((res) => {
      const id = setInterval(() => {
        if (++ticks === 3) {
          clearInterval(id);
          res();
        }
      }, 40);
    });
    const total = performance.now() - t0;
    // Without the timers' deadlines the wait would run to the next 300 ms tick each time.
    assert(total < 120 + 3 * 40 + 150, `three 40 ms intervals took ${total.toFixed(0)} ms`);
  });
  assert(r.waits.onThread > 0, JSON.stringify(r.waits));
  assert(r.waits.forRuntime > 0, JSON.stringify(r.waits));
});

Deno.test("runtime wait: the runtime's I/O, children and signals wake the Reactor's wait", async () => {
  const r = await onThread(async () => {
    let t0 = performance.now();
    const text = await Deno.readTextFile("/proc/self/status");
    assert(text.includes("VmRSS"));
    assert(performance.now() - t0 < 1000, "a file read waited for the Reactor");
    t0 = performance.now();
    const out = await new Deno.Command("sh", { args: ["-c", "sleep 0.1; echo done"] }).output();
    assertEquals(new TextDecoder().decode(out.stdout), "done\n");
    assert(performance.now() - t0 < 1000, "a child's exit waited for the Reactor");
    const got = Promise.withResolvers<void>();
    const on = () => got.resolve();
    Deno.addSignalListener("SIGUSR2", on);
    try {
      t0 = performance.now();
      new Deno.Command("kill", { args: ["-USR2", String(Deno.pid)] }).spawn();
      await got.promise;
      assert(performance.now() - t0 < 1000, "a signal waited for the Reactor");
    } finally {
      Deno.removeSignalListener("SIGUSR2", on);
    }
  });
  assert(r.waits.onThread > 0, JSON.stringify(r.waits));
});

Deno.test("runtime wait: a quiet handler's continuations run when it says busy(), else within a second", async () => {
  const { name, sock } = receiver();
  try {
    await onThread(async (r) => {
      let sayBusy = true;
      let resolve: () => void = () => {};
      r.watch(
        sock.fd,
        () => {
          while (sock.recv() !== null) resolve();
          if (sayBusy) r.busy();
        },
        "quiet",
        undefined,
        { quiet: true },
      );
      for (const busy of [true, false]) {
        sayBusy = busy;
        const p = new Promise<void>((res) => resolve = res);
        const t0 = performance.now();
        const w = sender(name, 1, 10);
        await p;
        const took = performance.now() - t0;
        w.terminate();
        // busy(): at once (the Worker's start is most of it); quiet: at the next turn, <= 1 s.
        const bound = busy ? 1000 : 2500;
        assert(took < bound, `continuation after ${took.toFixed(0)} ms (busy() ${busy})`);
      }
    });
  } finally {
    sock.close();
  }
});

Deno.test("reactor clock: a backup's down timer moved later by each advert: one arm per advert, no early wake", async () => {
  const { name, sock } = receiver();
  try {
    await withReactorClock(async (r, clock) => {
      // Adverts from another thread every 10 ms; each moves the Master_Down_Timer 150 ms on.
      let fired = 0;
      let adverts = 0;
      let down = clock.setTimer(150, () => fired++, { quiet: true });
      r.watch(
        sock.fd,
        () => {
          while (sock.recv() !== null) adverts++;
          down.cancel();
          down = clock.setTimer(150, () => fired++, { quiet: true });
        },
        "adverts",
        undefined,
        { quiet: true },
      );
      const w = sender(name, 60, 10);
      const finished = new Promise((res) => w.onmessage = res);
      await new Promise((res) => setTimeout(res, 300)); // the Worker starts, adverts flow
      const arms0 = clock.arms;
      const waits0 = r.waits.onThread;
      const adverts0 = adverts;
      await finished;
      w.terminate();
      const arms = clock.arms - arms0;
      const waits = r.waits.onThread - waits0;
      const n = adverts - adverts0;
      assertEquals(fired, 0, "the down timer fired while adverts came");
      assert(n >= 10, `${n} adverts`);
      assert(arms <= n + 2, `${arms} timerfd_settime calls for ${n} adverts`);
      // One wait per advert, not one more per stale deadline.
      assert(waits <= n + 5, `${waits} waits for ${n} adverts`);
      await new Promise((res) => setTimeout(res, 250));
      assertEquals(fired, 1);
    });
  } finally {
    sock.close();
  }
});

Deno.test("reactor clock on the JS thread: a 10 ms chain needs no timerfd (epoll_pwait2's timeout), on time", async () => {
  await withReactorClock(async (r, clock) => {
    await new Promise((res) => setTimeout(res, 700)); // past a helper round, on the thread
    assert(r.waitsOnThread, "this thread's runtime fd was not found");
    const arms0 = clock.arms;
    const late: number[] = [];
    const chain = Promise.withResolvers<void>();
    let due = clock.now() + 10;
    const tick = () => {
      late.push(clock.now() - due);
      if (late.length === 100) return chain.resolve();
      due += 10;
      clock.setTimer(due - clock.now(), tick, { quiet: true });
    };
    clock.setTimer(10, tick, { quiet: true });
    await chain.promise;
    const arms = clock.arms - arms0;
    // A runtime round (a wait on a helper thread) may arm it once and the next wait disarm it.
    assert(arms <= 4, `${arms} timerfd_settime calls for 100 timers`);
    late.sort((a, b) => a - b);
    assert(late[0]! >= -0.01, `fired ${-late[0]!} ms early`);
    assert(late[50]! < 0.5, `median lateness ${late[50]} ms`);
  });
});

Deno.test("reactor clock on the JS thread: a 30 ms down timer moved by each advert: no timerfd, no early fire", async () => {
  const { name, sock } = receiver();
  try {
    await withReactorClock(async (r, clock) => {
      let fired = 0;
      let adverts = 0;
      let lastAdvertMs = clock.now();
      const early: number[] = [];
      const onDown = () => {
        fired++;
        if (clock.now() - lastAdvertMs < 29.99) early.push(30 - (clock.now() - lastAdvertMs));
      };
      let down = clock.setTimer(1000, onDown, { quiet: true });
      r.watch(
        sock.fd,
        () => {
          while (sock.recv() !== null) adverts++;
          lastAdvertMs = clock.now();
          down.cancel();
          down = clock.setTimer(30, onDown, { quiet: true });
        },
        "adverts",
        undefined,
        { quiet: true },
      );
      const w = sender(name, 60, 10);
      const finished = new Promise((res) => w.onmessage = res);
      await new Promise((res) => setTimeout(res, 300)); // the Worker starts, adverts flow
      assert(r.waitsOnThread, "this thread's runtime fd was not found");
      const arms0 = clock.arms;
      const adverts0 = adverts;
      await finished;
      w.terminate();
      const arms = clock.arms - arms0;
      const n = adverts - adverts0;
      assert(n >= 10, `${n} adverts`);
      // A gap of 30 ms between adverts (a busy machine) lets it fire, but never early.
      assertEquals(early, [], "the down timer fired before 30 ms without an advert");
      assert(arms <= 4, `${arms} timerfd_settime calls for ${n} adverts`);
      const before = fired;
      await new Promise((res) => setTimeout(res, 100));
      assertEquals(fired, before + 1);
    });
  } finally {
    sock.close();
  }
});
