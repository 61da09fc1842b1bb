/**
 * The one event loop for file descriptors: an epoll set whose handlers all run synchronously on
 * the JS thread, so handlers do their I/O with MSG_DONTWAIT and read errno correctly. See
 * ENVIRONMENT.md "Deno" for why it has this shape.
 *
 * Two ways to wait, chosen before each wait:
 * - on the JS thread (`waitOnThread`, main thread only): a synchronous epoll_pwait2, with the Deno
 *   runtime's own epoll fd in the set and as its timeout the earliest of the runtime's timers'
 *   deadlines (ffi/runtime_wait.ts) and of the deadline sources' (`addDeadlines`: a clock's
 *   timers, to the nanosecond, with no timerfd to arm or read), one wake-up and one system call
 *   per event, as a C daemon has (epoll_wait and the sources' own fds without epoll_pwait2);
 * - on a helper thread: a single `nonblocking` epoll_wait, while the JS thread is back in the
 *   runtime's event loop. Used whenever the runtime has work of its own (its fd was readable,
 *   a timer of its is due, a signal interrupted the wait), for one wait, and always without
 *   `waitOnThread`. An eventfd wakes this wait for `close()`.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import { findRuntimeWait, type RuntimeWait } from "./runtime_wait.ts";
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  encodeEpollEvent,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLIN,
  EPOLLOUT,
  OFFSET,
  SIZEOF,
} from "./structs.ts";
/**
 * Told about a callback that threw (`what` names it, e.g. `handler for VRRP ipv4 on eth0`);
 * the caller logs it (rate-limited). ffi itself logs nothing.
 */
export type FailureReport = (what: string, error: unknown) => void;

/** The report used when none is given: one line on stderr. */
export const stderrFailure: FailureReport = (what, error) =>
  console.error(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);

/** Options for a Reactor. */
export interface ReactorOptions {
  /** Told when a handler throws (default: a line on stderr). */
  onFailure?: FailureReport;
  /** Events fetched per epoll_wait (default 64). */
  maxEvents?: number;
  /**
   * Wait on the JS thread when the runtime has nothing to do (see @module); only honoured on
   * the main thread, where one Reactor at a time may use it. Default false.
   */
  waitOnThread?: boolean;
}

/** How the Reactor's waits went: per kind of wait, and the rounds handed to the runtime. */
export interface ReactorWaits {
  /** Waits on the JS thread. */
  onThread: number;
  /** Waits on a helper thread (`nonblocking`). */
  onHelper: number;
  /** Waits on the JS thread that ended for the runtime (its fd, a timer, a signal). */
  forRuntime: number;
}

/**
 * Something with deadlines of its own (a clock) that waits honour: a wait on the JS thread with
 * epoll_pwait2 ends by its deadline; other waits leave it to wake them itself (a timerfd).
 */
export interface DeadlineSource {
  /**
   * Right before every wait. `precise`: the wait ends by the deadline answered (performance.now()
   * ms, Infinity for none) to the nanosecond, and the source needs no wake-up of its own;
   * otherwise it arranges its own (and the answer is ignored).
   */
  beforeWait(precise: boolean): number;
  /** After a precise wait: runs what is due. */
  expire(): void;
}

interface Watch {
  fd: number;
  token: number;
  onReady: () => void;
  label: string;
  quiet: boolean;
}

/** How a handler behaves (`Reactor.watch`). */
export interface WatchOptions {
  /**
   * The handler only does synchronous work (reads, sends, computes, sets timers) and leaves no
   * promise continuation behind; when it does start asynchronous work it says so with
   * `Reactor.busy()`. After a round of quiet handlers, a wait on the JS thread needs no pass of
   * the runtime's event loop first. Default false.
   */
  quiet?: boolean;
}

// Tokens are the low 32 bits of epoll_event.data (the high ones are 0), read as numbers: no
// BigInt per event. A watch takes the next one (4 billion watches before they would repeat).
const WAKE_TOKEN = 0;
/** The runtime's epoll fd, while it is in the set. */
const RUNTIME_TOKEN = 0xffff_ffff;
// After a wait on a helper thread returns, poll this many more times synchronously before
// waiting again: cheap when busy, bounded so timers and other tasks still run.
const DRAIN_ROUNDS = 8;
/**
 * How often the runtime gets a round of its own while the Reactor waits on the JS thread: a
 * bound for what its fd and tracked timers do not show (a timer set before tracking began). The
 * round runs at the first wake-up after this, and a wait ends for it alone only at
 * RUNTIME_ROUND_MAX_MS: a wake-up of its own only when nothing else woke the thread meanwhile.
 */
const RUNTIME_ROUND_MS = 5000;
const RUNTIME_ROUND_MAX_MS = 10_000;
/**
 * How often the runtime's event loop gets a pass while only quiet handlers run: a bound for a
 * quiet handler that left a continuation after all. Like the round: at the first wake-up after
 * TURN_MS, at TURN_MAX_MS by itself.
 */
const TURN_MS = 1000;
const TURN_MAX_MS = 2000;

/** Runs readable- and writable-fd handlers on the JS thread from one epoll set. */
export class Reactor implements Disposable {
  #epfd: number;
  #efd: number;
  readonly #maxEvents: number;
  readonly #events: Uint8Array;
  readonly #eventsView: DataView;
  readonly #ready: Uint32Array;
  readonly #byToken = new Map<number, Watch>();
  readonly #byFd = new Map<number, Watch>();
  #nextToken = 1;
  #closed = false;
  #running = false;
  readonly #onFailure: FailureReport;
  /** The runtime of this thread, when waits may run on the JS thread (found by `run()`). */
  #runtime: RuntimeWait | null = null;
  readonly #wantThread: boolean;
  #runtimeInSet = false;
  /** The runtime has work: the next wait runs on a helper thread. */
  #runtimeBusy = true;
  #lastRuntimeRoundMs = 0;
  /** A handler of this round may have left promise continuations: the next wait turns first. */
  #roundBusy = true;
  #lastTurnMs = 0;
  readonly #waits: ReactorWaits = { onThread: 0, onHelper: 0, forRuntime: 0 };
  readonly #beforeWait = new Set<() => void>();
  readonly #onFallback = new Set<() => void>();
  readonly #deadlines = new Set<DeadlineSource>();
  /** epoll_pwait2 is there (glibc and kernel): waits on the JS thread end to the nanosecond. */
  #precise = false;
  /** epoll_pwait2's timeout: struct timespec as 32-bit words (little-endian; sec < 2^32). */
  readonly #timespec = new Uint32Array(4);
  readonly #timespecBytes = new Uint8Array(this.#timespec.buffer);
  #helperWaiting = false;

  /** Creates the epoll set (EPOLL_CLOEXEC) and its wake-up eventfd (non-blocking). */
  constructor(opts: ReactorOptions = {}) {
    this.#onFailure = opts.onFailure ?? stderrFailure;
    this.#maxEvents = opts.maxEvents ?? 64;
    this.#events = new Uint8Array(this.#maxEvents * SIZEOF.epoll_event);
    this.#eventsView = new DataView(this.#events.buffer);
    this.#ready = new Uint32Array(this.#maxEvents);
    const c = libc();
    this.#epfd = c.epoll_create1(EPOLL_CLOEXEC);
    if (this.#epfd < 0) throw new SyscallError("epoll_create1", errno(), "Cannot create epoll");
    this.#efd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#efd < 0) {
      const e = errno();
      c.close(this.#epfd);
      throw new SyscallError("eventfd", e, "Cannot create the reactor's eventfd");
    }
    const ev = encodeEpollEvent({ events: EPOLLIN, data: BigInt(WAKE_TOKEN) });
    if (c.epoll_ctl(this.#epfd, EPOLL_CTL_ADD, this.#efd, ev) < 0) {
      const e = errno();
      this.#release();
      throw new SyscallError("epoll_ctl", e, "Cannot watch the reactor's eventfd");
    }
    this.#wantThread = opts.waitOnThread === true;
  }

  /** Whether waits on the JS thread were asked for (`waitOnThread`). */
  get wantsWaitOnThread(): boolean {
    return this.#wantThread;
  }

  /**
   * Whether waits may run on the JS thread (`waitOnThread` was asked and is possible here; known
   * once `run()` has started).
   */
  get waitsOnThread(): boolean {
    return this.#runtime !== null;
  }

  /** Whether a wait is running on a helper thread now (the JS thread is free meanwhile). */
  get helperWaiting(): boolean {
    return this.#helperWaiting;
  }

  /**
   * Calls `fn` right before every wait (a clock arms its timer there, once per round, for
   * whatever the handlers of the round changed). Dispose to stop.
   */
  onBeforeWait(fn: () => void): Disposable {
    this.#beforeWait.add(fn);
    return { [Symbol.dispose]: () => this.#beforeWait.delete(fn) };
  }

  /**
   * Calls `fn` when waits that ran on the JS thread move to a helper thread for good (the
   * runtime's epoll fd could not be watched). Dispose to stop.
   */
  onFallback(fn: () => void): Disposable {
    this.#onFallback.add(fn);
    return { [Symbol.dispose]: () => this.#onFallback.delete(fn) };
  }

  /**
   * Adds a source of deadlines (a clock): every wait asks it first (`beforeWait`), and a precise
   * wait on the JS thread ends by its deadline and then lets it run what is due. Dispose to stop.
   */
  addDeadlines(src: DeadlineSource): Disposable {
    this.#deadlines.add(src);
    return { [Symbol.dispose]: () => this.#deadlines.delete(src) };
  }

  /** Runs the before-wait hooks; the earliest deadline of the sources when `precise`. */
  #runBeforeWait(precise: boolean): number {
    for (const fn of this.#beforeWait) {
      try {
        fn();
      } catch (e) {
        this.#onFailure("a before-wait hook", e);
      }
    }
    let due = Infinity;
    for (const src of this.#deadlines) {
      try {
        const at = src.beforeWait(precise);
        if (at < due) due = at;
      } catch (e) {
        this.#onFailure("a deadline source", e);
      }
    }
    return precise ? due : Infinity;
  }

  #expire(): void {
    for (const src of this.#deadlines) {
      if (this.#closed) return;
      try {
        src.expire();
      } catch (e) {
        this.#onFailure("a deadline source", e);
      }
    }
  }

  /**
   * A quiet handler (or timer) started asynchronous work: before the next wait on the JS thread
   * the runtime's event loop gets a pass, so that promise continuations run.
   */
  busy(): void {
    this.#roundBusy = true;
  }

  /** How many waits ran where (a copy). */
  get waits(): ReactorWaits {
    return { ...this.#waits };
  }

  /** Whether `run()` is looping. */
  get running(): boolean {
    return this.#running;
  }

  /** How many file descriptors are watched. */
  get size(): number {
    return this.#byToken.size;
  }

  /**
   * Calls `onReadable` on the JS thread whenever `fd` is readable (level-triggered); the
   * handler reads until EAGAIN. Disposing the result stops watching. `events` (default EPOLLIN)
   * picks other epoll events; EPOLLERR and EPOLLHUP are always reported, so a handler must
   * find out what happened itself (read, or getsockopt SO_ERROR). See `WatchOptions.quiet`.
   */
  watch(
    fd: number,
    onReadable: () => void,
    label: string,
    events: number = EPOLLIN,
    opts: WatchOptions = {},
  ): Disposable {
    if (this.#closed) throw new Error(`Cannot watch ${label}: the reactor is closed`);
    const token = this.#nextToken++;
    const ev = encodeEpollEvent({ events, data: BigInt(token) });
    if (libc().epoll_ctl(this.#epfd, EPOLL_CTL_ADD, fd, ev) < 0) {
      throw new SyscallError("epoll_ctl", errno(), `Cannot watch fd ${fd} (${label})`);
    }
    // The kernel drops a closed fd from the set by itself, so an fd number can come back.
    const stale = this.#byFd.get(fd);
    if (stale !== undefined) this.#byToken.delete(stale.token);
    const w: Watch = { fd, token, onReady: onReadable, label, quiet: opts.quiet === true };
    this.#byToken.set(token, w);
    this.#byFd.set(fd, w);
    return { [Symbol.dispose]: () => this.#unwatch(w) };
  }

  /**
   * Calls `onWritable` on the JS thread whenever `fd` is writable, or has an error or hangup
   * (level-triggered: dispose the result once done, e.g. when a non-blocking connect settled).
   */
  watchWritable(fd: number, onWritable: () => void, label: string): Disposable {
    return this.watch(fd, onWritable, label, EPOLLOUT);
  }

  #unwatch(w: Watch): void {
    if (this.#byToken.get(w.token) !== w) return;
    this.#byToken.delete(w.token);
    if (this.#byFd.get(w.fd) !== w) return;
    this.#byFd.delete(w.fd);
    if (this.#epfd < 0) return;
    // ENOENT / EBADF: the fd was closed first, and the kernel already forgot it.
    libc().epoll_ctl(this.#epfd, EPOLL_CTL_DEL, w.fd, encodeEpollEvent({ events: 0, data: 0n }));
  }

  /**
   * Runs the wait loop until `close()`: one wait at a time (see @module for where); the ready
   * handlers run synchronously on the JS thread; a handler that throws is logged and the loop
   * goes on. Rejects only if epoll itself fails.
   */
  async run(): Promise<void> {
    if (this.#running) throw new Error("The reactor is already running");
    if (this.#closed) return;
    this.#running = true;
    const c = libc();
    if (this.#wantThread) this.#runtime = await findRuntimeWait();
    this.#precise = this.#runtime !== null && c.epoll_pwait2 !== null;
    this.#lastRuntimeRoundMs = performance.now();
    try {
      while (!this.#closed) {
        const rt = this.#runtime;
        if (rt !== null && !this.#runtimeBusy) {
          // What the runtime has queued runs first: the wait below holds the thread.
          if (this.#roundBusy || performance.now() - this.#lastTurnMs >= TURN_MS) {
            await rt.turn();
            this.#roundBusy = false;
            this.#lastTurnMs = performance.now();
            if (this.#closed) break;
          }
          const now = performance.now();
          const timerDue = rt.nextTimerMs();
          if (timerDue <= now || this.#lastRuntimeRoundMs + RUNTIME_ROUND_MS <= now) {
            this.#runtimeBusy = true; // a round of its own: its timers fire there
            this.#waits.forRuntime++;
            continue;
          }
          // The turn above ran less than TURN_MS ago; a round and a turn that fall due during the
          // wait run after it, whatever ends it (see RUNTIME_ROUND_MS, TURN_MS).
          const until = Math.min(
            timerDue,
            this.#lastRuntimeRoundMs + RUNTIME_ROUND_MAX_MS,
            this.#lastTurnMs + TURN_MAX_MS,
          );
          this.#watchRuntime(true);
          const precise = this.#precise;
          const due = this.#runBeforeWait(precise);
          this.#waits.onThread++;
          let n: number;
          if (precise) {
            const left = Math.min(due, until) - performance.now();
            const ns = left > 0 ? Math.round(left * 1e6) : 0;
            const t = this.#timespec;
            t[0] = Math.floor(ns / 1e9);
            t[2] = ns % 1e9;
            n = c.epoll_pwait2!(
              this.#epfd,
              this.#events,
              this.#maxEvents,
              this.#timespecBytes,
              null,
            );
          } else {
            n = c.epoll_wait_now(this.#epfd, this.#events, this.#maxEvents, Math.ceil(until - now));
          }
          if (n < 0) {
            const e = errno();
            if (precise && e === Errno.ENOSYS) {
              // A kernel older than 5.11: the sources wake themselves from now on.
              this.#precise = false;
              continue;
            }
            if (e !== Errno.EINTR) {
              throw new SyscallError("epoll_wait", e, "Cannot wait for events");
            }
            // A signal: the runtime's handler has something for its listeners.
            this.#runtimeBusy = true;
          } else if (n > 0) {
            this.#dispatch(n);
          }
          // The sources' timers after the fds of the same instant (a BACKUP hears an advert
          // before its Master_Down_Timer ends).
          if (precise && due !== Infinity) this.#expire();
          // n === 0: a runtime timer, a runtime round or a turn is due (the next round sees).
          if (this.#runtimeBusy) this.#waits.forRuntime++;
          continue;
        }
        this.#watchRuntime(false);
        this.#runBeforeWait(false);
        this.#waits.onHelper++;
        this.#helperWaiting = true;
        let n: number;
        try {
          n = await c.epoll_wait(this.#epfd, this.#events, this.#maxEvents, -1);
        } finally {
          this.#helperWaiting = false;
        }
        // The runtime had the thread while this wait ran.
        this.#runtimeBusy = false;
        this.#roundBusy = true;
        this.#lastRuntimeRoundMs = performance.now();
        if (this.#closed) break;
        if (n < 0) {
          // errno of a nonblocking call is another thread's: ask again synchronously.
          n = c.epoll_wait_now(this.#epfd, this.#events, this.#maxEvents, 0);
          if (n < 0) {
            const e = errno();
            if (e === Errno.EINTR) continue;
            throw new SyscallError("epoll_wait", e, "Cannot wait for events");
          }
        }
        this.#dispatch(n);
        for (let i = 0; i < DRAIN_ROUNDS && !this.#closed; i++) {
          const m = c.epoll_wait_now(this.#epfd, this.#events, this.#maxEvents, 0);
          if (m <= 0) break;
          this.#dispatch(m);
        }
      }
    } finally {
      this.#running = false;
      this.#closed = true;
      this.#release();
    }
  }

  /** Puts the runtime's epoll fd in the set (waits on the JS thread) or takes it out. */
  #watchRuntime(on: boolean): void {
    const rt = this.#runtime;
    if (rt === null || on === this.#runtimeInSet) return;
    const ev = encodeEpollEvent({ events: EPOLLIN, data: BigInt(RUNTIME_TOKEN) });
    if (libc().epoll_ctl(this.#epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, rt.fd, ev) < 0) {
      const e = errno();
      // The runtime's fd cannot be watched: wait on a helper thread from now on.
      this.#runtime = null;
      rt.close();
      this.#onFailure(
        "watching the runtime's epoll fd",
        new SyscallError("epoll_ctl", e, `fd ${rt.fd}`),
      );
      for (const fn of this.#onFallback) {
        try {
          fn();
        } catch (err) {
          this.#onFailure("a fallback hook", err);
        }
      }
      return;
    }
    this.#runtimeInSet = on;
  }

  #dispatch(n: number): void {
    // The tokens first: a handler may watch and unwatch.
    const ready = this.#ready;
    const v = this.#eventsView;
    for (let i = 0; i < n; i++) {
      ready[i] = v.getUint32(i * SIZEOF.epoll_event + OFFSET.epoll_event.data, true);
    }
    for (let i = 0; i < n; i++) {
      const token = ready[i]!;
      if (this.#closed) return;
      if (token === WAKE_TOKEN) {
        libc().read(this.#efd, new Uint8Array(8), 8n);
        continue;
      }
      if (token === RUNTIME_TOKEN) {
        this.#runtimeBusy = true;
        continue;
      }
      const w = this.#byToken.get(token);
      if (w === undefined) continue;
      if (!w.quiet) this.#roundBusy = true;
      try {
        w.onReady();
      } catch (e) {
        this.#onFailure(`handler for ${w.label}`, e);
      }
    }
  }

  /** Wakes the waiter through the eventfd and stops; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A wait on the JS thread is not running while this runs: only a helper's needs waking.
    if (this.#running) {
      const one = new Uint8Array(8);
      one[0] = 1;
      libc().write(this.#efd, one, 8n);
    } else {
      this.#release();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #release(): void {
    this.#beforeWait.clear();
    this.#onFallback.clear();
    this.#deadlines.clear();
    this.#runtime?.close();
    this.#runtime = null;
    this.#byToken.clear();
    this.#byFd.clear();
    if (this.#efd >= 0) libc().close(this.#efd);
    if (this.#epfd >= 0) libc().close(this.#epfd);
    this.#efd = -1;
    this.#epfd = -1;
  }
}
