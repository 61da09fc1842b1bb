import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";
import { EFD_CLOEXEC, EFD_NONBLOCK } from "./structs.ts";
import { Reactor } from "./reactor.ts";

/** An eventfd as a test fd: `signal()` makes it readable, `drain()` reads it to EAGAIN. */
class TestFd implements Disposable {
  readonly fd: number;
  constructor() {
    this.fd = libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.fd < 0) throw new SyscallError("eventfd", errno(), "test eventfd");
  }
  signal(): void {
    const one = new Uint8Array(8);
    one[0] = 1;
    libc().write(this.fd, one, 8n);
  }
  drain(): number {
    const b = new Uint8Array(8);
    return Number(libc().read(this.fd, b, 8n)) === 8
      ? Number(new DataView(b.buffer).getBigUint64(0, true))
      : 0;
  }
  [Symbol.dispose](): void {
    libc().close(this.fd);
  }
}

/** Reports handler failures into `lines` as "WHAT failed: MESSAGE". */
function quiet(lines: string[] = []): (what: string, e: unknown) => void {
  return (what, e) => lines.push(`${what} failed: ${(e as Error).message}`);
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

async function exitsWithin(code: string, ms: number): Promise<boolean> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const status = await child.status;
  clearTimeout(timer);
  return status.success;
}

/** The Reactor's tests, waiting on a helper thread or (`waitOnThread`) on the JS thread. */
function suite(waitOnThread: boolean): void {
  const mode = waitOnThread ? " (waits on the JS thread)" : "";

  Deno.test(`reactor${mode}: a readable fd calls its handler on the JS thread; close ends run()`, async () => {
    using a = new TestFd();
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    const got = deferred<number>();
    r.watch(a.fd, () => got.resolve(a.drain()), "a");
    const done = r.run();
    assert(r.running);
    setTimeout(() => a.signal(), 50);
    assertEquals(await within(got.promise, 5000, "handler"), 1);
    r.close();
    r.close();
    await within(done, 5000, "run() after close");
    assertEquals(r.running, false);
  });

  Deno.test(`reactor${mode}: handlers that throw are logged and the loop goes on`, async () => {
    using a = new TestFd();
    using b = new TestFd();
    const lines: string[] = [];
    const r = new Reactor({ onFailure: quiet(lines), waitOnThread });
    let aCalls = 0;
    r.watch(a.fd, () => {
      aCalls++;
      a.drain();
      throw new Error("boom");
    }, "thrower");
    const got = deferred();
    r.watch(b.fd, () => {
      b.drain();
      got.resolve();
    }, "b");
    const done = r.run();
    a.signal();
    await new Promise((res) => setTimeout(res, 50));
    a.signal();
    await new Promise((res) => setTimeout(res, 50));
    b.signal();
    await within(got.promise, 5000, "second handler");
    r.close();
    await within(done, 5000, "run()");
    assertEquals(aCalls, 2);
    assert(lines.some((l) => l.includes("handler for thrower failed") && l.includes("boom")));
  });

  Deno.test(`reactor${mode}: watch while waiting, and unwatch stops calls`, async () => {
    using a = new TestFd();
    using b = new TestFd();
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    const done = r.run();
    await new Promise((res) => setTimeout(res, 30)); // the wait is now in flight
    let aCalls = 0;
    const wa = r.watch(a.fd, () => {
      aCalls++;
      a.drain();
    }, "a");
    a.signal();
    await new Promise((res) => setTimeout(res, 100));
    assertEquals(aCalls, 1);
    wa[Symbol.dispose]();
    wa[Symbol.dispose]();
    a.signal(); // stays readable, but nobody listens
    const got = deferred();
    r.watch(b.fd, () => {
      b.drain();
      got.resolve();
    }, "b");
    b.signal();
    await within(got.promise, 5000, "b");
    assertEquals(aCalls, 1);
    assertEquals(r.size, 1);
    r.close();
    await done;
  });

  Deno.test(`reactor${mode}: a handler may close the reactor`, async () => {
    using a = new TestFd();
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    r.watch(a.fd, () => r.close(), "closer");
    const done = r.run();
    a.signal();
    await within(done, 5000, "run()");
    assertThrows(() => r.watch(a.fd, () => {}, "late"), Error, "closed");
  });

  Deno.test(`reactor${mode}: errors and idempotence`, async () => {
    using a = new TestFd();
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    r.watch(a.fd, () => {}, "a");
    const e = assertThrows(() => r.watch(a.fd, () => {}, "again"), SyscallError, "again");
    assertEquals((e as SyscallError).code, "EEXIST");
    assertEquals(
      (assertThrows(() => r.watch(987654, () => {}, "nofd"), SyscallError) as SyscallError).code,
      "EBADF",
    );
    r.close();
    r.close();
    await within(r.run(), 1000, "run() after close");
    // A reactor that never ran is released by close() and keeps nothing alive.
    const r2 = new Reactor({ onFailure: quiet(), waitOnThread });
    r2[Symbol.dispose]();
    assertEquals(r2.running, false);
  });

  Deno.test(`reactor${mode}: run() twice is refused`, async () => {
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    const done = r.run();
    let threw = false;
    try {
      await r.run();
    } catch (e) {
      threw = e instanceof Error && e.message.includes("already running");
    }
    assert(threw);
    r.close();
    await done;
  });

  Deno.test(`reactor${mode}: a closed-then-reused fd number does not reach the old handler`, async () => {
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    const a = new TestFd();
    let oldCalls = 0;
    const old = r.watch(a.fd, () => oldCalls++, "old");
    a[Symbol.dispose](); // the kernel drops it from the epoll set
    using b = new TestFd(); // very likely the same number
    const got = deferred();
    r.watch(b.fd, () => {
      b.drain();
      got.resolve();
    }, "new");
    old[Symbol.dispose](); // must not remove the new registration
    const done = r.run();
    b.signal();
    await within(got.promise, 5000, "new handler");
    assertEquals(oldCalls, 0);
    r.close();
    await done;
  });

  Deno.test(`reactor${mode}: a busy fd does not starve timers`, async () => {
    using a = new TestFd();
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    let calls = 0;
    r.watch(a.fd, () => calls++, "never drained"); // stays readable: level-triggered
    a.signal();
    const done = r.run();
    await within(new Promise((res) => setTimeout(res, 50)), 5000, "a 50 ms timer");
    r.close();
    await done;
    assert(calls > 10, `only ${calls} calls`);
  });

  Deno.test(`reactor${mode}: a running reactor keeps the process alive until close()`, async () => {
    const mod = new URL("./reactor.ts", import.meta.url).href;
    const closes = `import { Reactor } from "${mod}";
    const r = new Reactor({ waitOnThread: ${waitOnThread} }); const done = r.run(); setTimeout(() => r.close(), 100); await done;`;
    const never =
      `import { Reactor } from "${mod}"; void new Reactor({ waitOnThread: ${waitOnThread} }).run();`;
    assert(await exitsWithin(closes, 15_000), "the process did not exit after close()");
    assert(!(await exitsWithin(never, 3_000)), "a running reactor should keep the process alive");
  });

  Deno.test(`reactor${mode}: watchWritable reports writability; watch still means readable`, async () => {
    using a = new TestFd(); // an eventfd is writable at once, readable only once signalled
    const r = new Reactor({ onFailure: quiet(), waitOnThread });
    const done = r.run();
    let readable = 0;
    const wr = r.watch(a.fd, () => readable++, "readable");
    await new Promise((res) => setTimeout(res, 50));
    assertEquals(readable, 0);
    wr[Symbol.dispose]();
    const got = deferred();
    const ww = r.watchWritable(a.fd, () => got.resolve(), "writable");
    await within(got.promise, 5000, "writable handler");
    ww[Symbol.dispose]();
    assertEquals(r.size, 0);
    r.close();
    await done;
  });
}

suite(false);
suite(true);
