/**
 * What lets the Reactor wait for its file descriptors on the JS thread itself (a synchronous
 * epoll_wait) without starving the Deno runtime that shares the thread. A wait through a
 * `nonblocking` FFI call costs a hop to a runtime helper thread and back for every event
 * (measured here: 3.2x the CPU of a wait on the JS thread); waiting on the JS thread blocks the
 * runtime's own event loop instead, so the Reactor must know when the runtime has work:
 * - its I/O, signals, child processes, finished helper-thread jobs, Worker messages and V8's
 *   own tasks all make the runtime's epoll fd readable: that fd joins the Reactor's epoll set
 *   (`fd`), and when it is readable the Reactor hands the thread back for a round;
 * - its timers (setTimeout / setInterval) make nothing readable: their deadlines are tracked
 *   here (`nextTimerMs`), by wrapping the global timer functions of this thread once;
 * - promise continuations and messages already queued run in a `turn()` (one pass of the
 *   runtime's event loop through a MessageChannel, ~10 us, no system call) before each wait.
 * The runtime's epoll fd is the one that holds a socket this thread's runtime has just
 * registered (`runtimeEpollFd`; every runtime of the process has its own set, and the main
 * thread's is not always the lowest fd: `deno test` runs tests on a thread of their own). Only
 * the main thread of an isolate is supported (`findRuntimeWait` answers null in a Worker).
 *
 * @module
 */

/** The runtime of this thread as the Reactor sees it. */
export interface RuntimeWait {
  /** The runtime's epoll fd (readable when the runtime has events to handle). */
  readonly fd: number;
  /** Runs one pass of the runtime's event loop: queued continuations, messages, ready ops. */
  turn(): Promise<void>;
  /** The earliest deadline of a pending runtime timer (performance.now() ms), or Infinity. */
  nextTimerMs(): number;
  /** Stops the MessageChannel (the timer wrappers stay: other code may hold their ids). */
  close(): void;
}

/**
 * This thread's runtime, or null when it cannot be found (in a Worker, or when its epoll fd
 * cannot be told apart): the Reactor then waits on a helper thread.
 */
export async function findRuntimeWait(): Promise<RuntimeWait | null> {
  if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
    return null;
  }
  const fd = await runtimeEpollFd();
  if (fd === null) return null;
  installTimerTracking();
  let channel: MessageChannel | null = null;
  let waiting: (() => void) | null = null;
  return {
    fd,
    turn() {
      if (channel === null) {
        channel = new MessageChannel();
        channel.port2.onmessage = () => {
          const w = waiting;
          waiting = null;
          w?.();
        };
      }
      const ch = channel;
      return new Promise<void>((resolve) => {
        waiting = resolve;
        ch.port1.postMessage(null);
      });
    },
    nextTimerMs: earliestTimerMs,
    close() {
      channel?.port1.close();
      channel?.port2.close();
      channel = null;
      waiting?.();
      waiting = null;
    },
  };
}

/** The socket inode of the unix socket bound at `path`, from /proc/self/net/unix. */
function unixSocketInode(path: string): string | null {
  for (const line of Deno.readTextFileSync("/proc/self/net/unix").split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[7] === path) return f[6]!;
  }
  return null;
}

/** The epoll fds of the process whose interest list holds the file with inode `inode`. */
function epollsWatching(inode: string): { fd: number; list: string }[] {
  const hex = BigInt(inode).toString(16);
  const out: { fd: number; list: string }[] = [];
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${fd}`) !== "anon_inode:[eventpoll]") continue;
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
      const tfds = info.split("\n").filter((l) => l.startsWith("tfd:"));
      if (tfds.some((l) => new RegExp(`\\sino:${hex}\\s`).test(`${l} `))) {
        out.push({ fd, list: tfds.map((l) => l.replace(/\s+/g, " ")).sort().join("\n") });
      }
    } catch { /* closed meanwhile */ }
  }
  return out;
}

/**
 * This thread's runtime's epoll fd: a unix listener is opened on this thread with an accept
 * pending, so the runtime registers its socket in its own epoll set; the epoll fd whose interest
 * list holds that socket's inode is the runtime's (several only when they are one set, dup'ed:
 * the same list). Null when none is found or they differ, or the listener cannot be made.
 */
async function runtimeEpollFd(): Promise<number | null> {
  let dir: string | null = null;
  let listener: Deno.Listener | null = null;
  let accepting: Promise<unknown> | null = null;
  try {
    dir = Deno.makeTempDirSync({ prefix: "haagent-rt-" });
    const path = `${dir}/probe`;
    listener = Deno.listen({ transport: "unix", path });
    accepting = listener.accept().catch(() => {});
    await new Promise((r) => setTimeout(r, 0));
    const inode = unixSocketInode(path);
    if (inode === null) return null;
    const found = epollsWatching(inode);
    if (found.length === 0 || found.some((f) => f.list !== found[0]!.list)) return null;
    return Math.min(...found.map((f) => f.fd));
  } catch {
    return null;
  } finally {
    try {
      listener?.close();
    } catch { /* closed */ }
    await accepting;
    if (dir !== null) {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch { /* gone */ }
    }
  }
}

/** Pending runtime timers of this thread: id -> due (performance.now() ms). */
const timersDue = new Map<number, number>();
let tracking = false;

/** The earliest pending runtime timer, or Infinity. */
function earliestTimerMs(): number {
  let min = Infinity;
  for (const due of timersDue.values()) if (due < min) min = due;
  return min;
}

type TimerFn = (...args: unknown[]) => void;

/**
 * Wraps setTimeout, setInterval, clearTimeout and clearInterval of this thread so that every
 * pending timer's deadline is known; the ids and behaviour stay the runtime's. Idempotent.
 */
function installTimerTracking(): void {
  if (tracking) return;
  tracking = true;
  const g = globalThis as unknown as Record<string, unknown>;
  const setT = g.setTimeout as (fn: TimerFn, ms?: number, ...a: unknown[]) => number;
  const setI = g.setInterval as (fn: TimerFn, ms?: number, ...a: unknown[]) => number;
  const clearT = g.clearTimeout as (id?: number) => void;
  const clearI = g.clearInterval as (id?: number) => void;
  const delay = (ms: unknown) => Math.max(0, Number(ms) || 0);
  g.setTimeout = function (fn: unknown, ms?: number, ...args: unknown[]): number {
    if (typeof fn !== "function") return setT(fn as TimerFn, ms, ...args);
    const id: number = setT(
      (...a: unknown[]) => {
        timersDue.delete(id);
        (fn as TimerFn)(...a);
      },
      ms,
      ...args,
    );
    timersDue.set(id, performance.now() + delay(ms));
    return id;
  };
  g.setInterval = function (fn: unknown, ms?: number, ...args: unknown[]): number {
    if (typeof fn !== "function") return setI(fn as TimerFn, ms, ...args);
    const every = delay(ms);
    const id: number = setI(
      (...a: unknown[]) => {
        timersDue.set(id, performance.now() + every);
        (fn as TimerFn)(...a);
      },
      ms,
      ...args,
    );
    timersDue.set(id, performance.now() + every);
    return id;
  };
  g.clearTimeout = function (id?: number): void {
    if (id !== undefined) timersDue.delete(id);
    clearT(id);
  };
  g.clearInterval = function (id?: number): void {
    if (id !== undefined) timersDue.delete(id);
    clearI(id);
  };
}
