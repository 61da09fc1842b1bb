/**
 * A `Clock` whose timers fire from a timerfd on a Reactor, to the microsecond. Deno's
 * `setTimeout` has millisecond granularity (a timer fires up to ~1 ms early or late), which is
 * most of the advert jitter at a 10 ms interval; this clock arms one CLOCK_MONOTONIC timerfd for
 * the earliest deadline of a binary heap, and runs due callbacks on the JS thread when the
 * Reactor sees it readable.
 *
 * When the Reactor waits on the JS thread with epoll_pwait2 and the earliest deadline is at most
 * PRECISE_MAX_MS away, the timerfd stays disarmed: the wait ends by that deadline itself
 * (`DeadlineSource`), so an advert at 10 ms costs no timer system call at all, and a backup's
 * received advert (its Master_Down_Timer moved later) none either. Further away the kernel would
 * let such a wait end up to 0.1 % of its timeout late (select_estimate_accuracy: 1 ms for a 1 s
 * advert), a timerfd not at all. Otherwise the timerfd is armed at most once per round of the
 * Reactor, right before it waits, and only when the earliest deadline changed: a master's advert costs one timerfd_settime, a
 * backup's received advert one too, and never an early wake-up. Only a timer set earlier than
 * the armed deadline while a wait runs on a helper thread arms at once.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";
import { type DeadlineSource, type FailureReport, type Reactor, stderrFailure } from "./reactor.ts";

const CLOCK_MONOTONIC = 1;
const TFD_NONBLOCK = 0o4000;
const TFD_CLOEXEC = 0o2000000;
/**
 * The furthest deadline (ms) a wait's own timeout keeps instead of the timerfd: the kernel lets
 * such a timeout end 0.1 % late, here at most 50 us, the default timer slack of any wait.
 */
const PRECISE_MAX_MS = 50;
/** A deadline this close (ms) counts as due: the timerfd and performance.now() are one clock. */
const DUE_SLACK_MS = 0.005;

interface Entry {
  at: number;
  seq: number;
  fn: (() => void) | null;
  quiet: boolean;
}

/** A pending timer; cancelling it (or disposing it) more than once is harmless. */
export interface ReactorTimer extends Disposable {
  cancel(): void;
}

/**
 * Timers on a Reactor's timerfd; `now()` is `performance.now()`. Dispose to close the fd.
 * It has the shape of lib/runtime/clock.ts's `Clock`.
 */
export class ReactorClock implements Disposable {
  #fd: number;
  #heap: Entry[] = [];
  #seq = 0;
  #cancelled = 0;
  /** The deadline the timerfd is armed for (Infinity when disarmed). */
  #armedAt = Infinity;
  #arms = 0;
  #watch: Disposable;
  readonly #hook: Disposable;
  readonly #reactor: Reactor;
  readonly #spec = new BigInt64Array(4);
  readonly #buf = new Uint8Array(8);
  readonly #onFailure: FailureReport;

  /** `onFailure` is told when a timer callback throws (default: a line on stderr). */
  constructor(reactor: Reactor, onFailure: FailureReport = stderrFailure) {
    this.#onFailure = onFailure;
    this.#reactor = reactor;
    const c = libc();
    this.#fd = c.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (this.#fd < 0) throw new SyscallError("timerfd_create", errno(), "Cannot create a timer");
    try {
      this.#watch = reactor.watch(this.#fd, () => this.#fire(), "timerfd", undefined, {
        quiet: true,
      });
    } catch (e) {
      c.close(this.#fd);
      throw e;
    }
    const source: DeadlineSource = {
      beforeWait: (precise) => this.#beforeWait(precise),
      expire: () => this.#run(),
    };
    this.#hook = reactor.addDeadlines(source);
  }

  /** Monotonic milliseconds (fractional). */
  now(): number {
    return performance.now();
  }

  /** How many times the timerfd was armed or disarmed (timerfd_settime calls). */
  get arms(): number {
    return this.#arms;
  }

  /** How many timers are pending (cancelled ones excluded). */
  get pending(): number {
    return this.#heap.length - this.#cancelled;
  }

  /**
   * Runs `fn` once after `delayMs` (clamped to >= 0). `quiet`: `fn` leaves no promise
   * continuation behind (see `WatchOptions.quiet` of the Reactor).
   */
  setTimer(delayMs: number, fn: () => void, opts: { quiet?: boolean } = {}): ReactorTimer {
    const entry: Entry = {
      at: this.now() + Math.max(0, delayMs),
      seq: this.#seq++,
      fn,
      quiet: opts.quiet === true,
    };
    this.#push(entry);
    // The Reactor arms before its next wait; one already running on a helper thread must be
    // cut short.
    if (entry.at < this.#armedAt && this.#reactor.helperWaiting) this.#arm();
    const cancel = () => {
      if (entry.fn === null) return;
      entry.fn = null;
      this.#cancelled++;
      // Cancelled entries wait in the heap until they reach the top; compact if they pile up.
      if (this.#cancelled > 64 && this.#cancelled * 2 > this.#heap.length) this.#compact();
    };
    return { cancel, [Symbol.dispose]: cancel };
  }

  #fire(): void {
    libc().read(this.#fd, this.#buf, 8n);
    this.#armedAt = Infinity;
    this.#run();
  }

  /**
   * Before a wait: a precise one ends by a deadline at most PRECISE_MAX_MS away (answered; the
   * timerfd is disarmed if it was armed, a system call only at that change); otherwise the
   * timerfd is armed for it (Infinity answered).
   */
  #beforeWait(precise: boolean): number {
    this.#dropCancelled();
    const at = this.#heap.length > 0 ? this.#heap[0]!.at : Infinity;
    if (precise && at - this.now() <= PRECISE_MAX_MS) {
      if (this.#armedAt !== Infinity && this.#fd >= 0) this.#settime(Infinity);
      return at;
    }
    this.#arm();
    return Infinity;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && this.#heap[0]!.fn === null) {
      this.#pop();
      this.#cancelled--;
    }
  }

  /** Runs the timers due now. */
  #run(): void {
    if (this.#heap.length === 0) return;
    const limit = this.now() + DUE_SLACK_MS;
    // Only what was due when the timerfd fired runs now: a callback that sets a zero-delay
    // timer gets it on the next turn, so a busy chain cannot starve the Reactor.
    while (this.#heap.length > 0 && this.#heap[0]!.at <= limit) {
      const e = this.#pop();
      const fn = e.fn;
      if (fn === null) {
        this.#cancelled--;
        continue;
      }
      e.fn = null;
      if (!e.quiet) this.#reactor.busy();
      try {
        fn();
      } catch (err) {
        this.#onFailure("timer callback", err);
      }
    }
  }

  /**
   * Arms the timerfd for the earliest live deadline (relative, nanoseconds), or disarms it; no
   * system call when that deadline is the one armed.
   */
  #arm(): void {
    this.#dropCancelled();
    if (this.#fd < 0) return;
    const at = this.#heap.length > 0 ? this.#heap[0]!.at : Infinity;
    if (at === this.#armedAt) return;
    this.#settime(at);
  }

  /** timerfd_settime for deadline `at` (Infinity disarms). */
  #settime(at: number): void {
    const s = this.#spec;
    s.fill(0n);
    if (at !== Infinity) {
      // A zero it_value disarms, so a deadline already passed is armed 1 ns ahead.
      const ns = Math.max(1, Math.round((at - this.now()) * 1e6));
      s[2] = BigInt(Math.floor(ns / 1e9));
      s[3] = BigInt(ns % 1e9);
    }
    this.#arms++;
    if (libc().timerfd_settime(this.#fd, 0, new Uint8Array(s.buffer), null) !== 0) {
      throw new SyscallError("timerfd_settime", errno(), "Cannot arm the timer");
    }
    this.#armedAt = at;
  }

  #compact(): void {
    this.#heap = this.#heap.filter((e) => e.fn !== null);
    this.#cancelled = 0;
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  #push(e: Entry): void {
    const h = this.#heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  #pop(): Entry {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.#down(0);
    }
    return top;
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }

  /** Stops watching and closes the timerfd; pending timers never fire. */
  [Symbol.dispose](): void {
    if (this.#fd < 0) return;
    this.#hook[Symbol.dispose]();
    this.#watch[Symbol.dispose]();
    libc().close(this.#fd);
    this.#fd = -1;
    this.#heap = [];
    this.#cancelled = 0;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
