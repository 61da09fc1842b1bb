/**
 * The one event loop for file descriptors: an epoll set waited on by a single `nonblocking`
 * epoll_wait (on a helper thread), with every handler run synchronously on the JS thread, so
 * handlers do their I/O with MSG_DONTWAIT and read errno correctly. An eventfd wakes the wait
 * for `close()`. See ENVIRONMENT.md "Deno" for why it has this shape.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import {
  decodeEpollEvent,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  encodeEpollEvent,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_DEL,
  EPOLLIN,
  EPOLLOUT,
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
}

interface Watch {
  fd: number;
  token: bigint;
  onReady: () => void;
  label: string;
}

const WAKE_TOKEN = 0n;
// After a wait returns, poll this many more times synchronously before waiting again: cheap
// when busy, bounded so timers and other tasks still run.
const DRAIN_ROUNDS = 8;

/** Runs readable- and writable-fd handlers on the JS thread from one epoll set. */
export class Reactor implements Disposable {
  #epfd: number;
  #efd: number;
  readonly #maxEvents: number;
  readonly #events: Uint8Array;
  readonly #byToken = new Map<bigint, Watch>();
  readonly #byFd = new Map<number, Watch>();
  #nextToken = 1n;
  #closed = false;
  #running = false;
  readonly #onFailure: FailureReport;

  /** Creates the epoll set (EPOLL_CLOEXEC) and its wake-up eventfd (non-blocking). */
  constructor(opts: ReactorOptions = {}) {
    this.#onFailure = opts.onFailure ?? stderrFailure;
    this.#maxEvents = opts.maxEvents ?? 64;
    this.#events = new Uint8Array(this.#maxEvents * SIZEOF.epoll_event);
    const c = libc();
    this.#epfd = c.epoll_create1(EPOLL_CLOEXEC);
    if (this.#epfd < 0) throw new SyscallError("epoll_create1", errno(), "Cannot create epoll");
    this.#efd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#efd < 0) {
      const e = errno();
      c.close(this.#epfd);
      throw new SyscallError("eventfd", e, "Cannot create the reactor's eventfd");
    }
    const ev = encodeEpollEvent({ events: EPOLLIN, data: WAKE_TOKEN });
    if (c.epoll_ctl(this.#epfd, EPOLL_CTL_ADD, this.#efd, ev) < 0) {
      const e = errno();
      this.#release();
      throw new SyscallError("epoll_ctl", e, "Cannot watch the reactor's eventfd");
    }
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
   * find out what happened itself (read, or getsockopt SO_ERROR).
   */
  watch(fd: number, onReadable: () => void, label: string, events: number = EPOLLIN): Disposable {
    if (this.#closed) throw new Error(`Cannot watch ${label}: the reactor is closed`);
    const token = this.#nextToken++;
    const ev = encodeEpollEvent({ events, data: token });
    if (libc().epoll_ctl(this.#epfd, EPOLL_CTL_ADD, fd, ev) < 0) {
      throw new SyscallError("epoll_ctl", errno(), `Cannot watch fd ${fd} (${label})`);
    }
    // The kernel drops a closed fd from the set by itself, so an fd number can come back.
    const stale = this.#byFd.get(fd);
    if (stale !== undefined) this.#byToken.delete(stale.token);
    const w: Watch = { fd, token, onReady: onReadable, label };
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
   * Runs the wait loop until `close()`: one `nonblocking` epoll_wait in flight at a time; the
   * ready handlers run synchronously on the JS thread; a handler that throws is logged and the
   * loop goes on. Rejects only if epoll itself fails.
   */
  async run(): Promise<void> {
    if (this.#running) throw new Error("The reactor is already running");
    if (this.#closed) return;
    this.#running = true;
    const c = libc();
    try {
      while (!this.#closed) {
        let n = await c.epoll_wait(this.#epfd, this.#events, this.#maxEvents, -1);
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

  #dispatch(n: number): void {
    const ready: bigint[] = [];
    for (let i = 0; i < n; i++) ready.push(decodeEpollEvent(this.#events, i).data);
    for (const token of ready) {
      if (this.#closed) return;
      if (token === WAKE_TOKEN) {
        libc().read(this.#efd, new Uint8Array(8), 8n);
        continue;
      }
      const w = this.#byToken.get(token);
      if (w === undefined) continue;
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
    this.#byToken.clear();
    this.#byFd.clear();
    if (this.#efd >= 0) libc().close(this.#efd);
    if (this.#epfd >= 0) libc().close(this.#epfd);
    this.#efd = -1;
    this.#epfd = -1;
  }
}
