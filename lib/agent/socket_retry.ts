/**
 * When an instance cannot open its VRRP sockets for a reason of the process rather than of the
 * interface (out of file descriptors or memory, a capability missing), retry with back-off, and
 * give up once: the agent then cannot do its job, and asks the service manager for a restart
 * (`WATCHDOG=trigger`). Failures of the interface (gone, no address) are left to the link
 * events that already restart the instance.
 *
 * @module
 */
import { type ErrnoTable, SyscallError } from "../../ffi/errno.ts";
import type { Clock, Timer } from "../runtime/clock.ts";

/** errno names meaning "this process cannot open sockets", not "this interface is not ready". */
export const PROCESS_ERRNOS: readonly (keyof ErrnoTable)[] = [
  "EMFILE",
  "ENFILE",
  "ENOMEM",
  "ENOBUFS",
  "EPERM",
  "EACCES",
  "EAFNOSUPPORT",
  "EPROTONOSUPPORT",
];

/** Whether a socket failure is the process's (retry, then give up) rather than an interface's. */
export function isProcessFailure(e: unknown): boolean {
  return e instanceof SyscallError && (PROCESS_ERRNOS as readonly string[]).includes(e.code);
}

/** Options of SocketRetry. */
export interface SocketRetryOptions {
  /** Waits before each retry; after the last one fails the give-up is reported (default 1, 2, 4, 8 s). */
  delaysMs?: number[];
  /** Wait between retries after the give-up (default 30 s). */
  afterGiveUpMs?: number;
  /** Retries `name` now; returns whether its sockets are open. */
  retry: (name: string) => boolean;
  /** `name` still fails after every retry (called once per failure streak). */
  giveUp: (name: string, why: string, attempts: number) => void;
}

interface Streak {
  attempts: number;
  why: string;
  timer: Timer | null;
  gaveUp: boolean;
  /** A retry is running: its own failure is reported through failed() before it returns. */
  retrying: boolean;
}

/** Back-off retries of instances whose sockets could not be opened. */
export class SocketRetry implements Disposable {
  readonly #clock: Clock;
  readonly #delaysMs: number[];
  readonly #afterGiveUpMs: number;
  readonly #retry: (name: string) => boolean;
  readonly #giveUp: SocketRetryOptions["giveUp"];
  readonly #streaks = new Map<string, Streak>();

  constructor(clock: Clock, opts: SocketRetryOptions) {
    this.#clock = clock;
    this.#delaysMs = opts.delaysMs ?? [1000, 2000, 4000, 8000];
    this.#afterGiveUpMs = opts.afterGiveUpMs ?? 30_000;
    this.#retry = opts.retry;
    this.#giveUp = opts.giveUp;
  }

  /**
   * Instance `name` could not open its sockets because of `error`; returns whether a retry was
   * scheduled (false for interface failures). A failure during a retry continues the streak.
   */
  failed(name: string, error: unknown): boolean {
    if (!isProcessFailure(error)) return false;
    const why = (error as Error).message;
    const s = this.#streaks.get(name);
    if (s === undefined) {
      this.#streaks.set(name, { attempts: 0, why, timer: null, gaveUp: false, retrying: false });
    } else {
      s.why = why;
      if (s.retrying) return true;
    }
    this.#schedule(name);
    return true;
  }

  /** Names with a retry pending. */
  get pending(): string[] {
    return [...this.#streaks.keys()];
  }

  /** Stops retrying `name` (removed or restarted by a reload). */
  forget(name: string): void {
    this.#streaks.get(name)?.timer?.cancel();
    this.#streaks.delete(name);
  }

  #schedule(name: string): void {
    const s = this.#streaks.get(name);
    if (s === undefined || s.timer !== null) return;
    const delay = s.gaveUp
      ? this.#afterGiveUpMs
      : this.#delaysMs[Math.min(s.attempts, this.#delaysMs.length - 1)]!;
    s.timer = this.#clock.setTimer(delay, () => {
      s.timer = null;
      s.attempts++;
      s.retrying = true;
      let ok = false;
      try {
        ok = this.#retry(name);
      } catch (e) {
        s.why = (e as Error)?.message ?? String(e);
      }
      s.retrying = false;
      if (this.#streaks.get(name) !== s) return;
      if (ok) {
        this.#streaks.delete(name);
        return;
      }
      if (!s.gaveUp && s.attempts >= this.#delaysMs.length) {
        s.gaveUp = true;
        this.#giveUp(name, s.why, s.attempts + 1);
      }
      this.#schedule(name);
    });
  }

  /** Cancels every retry. */
  [Symbol.dispose](): void {
    for (const s of this.#streaks.values()) s.timer?.cancel();
    this.#streaks.clear();
  }
}
