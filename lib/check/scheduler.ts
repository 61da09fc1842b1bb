/**
 * Runs one checker on a schedule with keepalived's retry semantics and rise/fall hysteresis.
 *
 * Semantics (keepalived 2.2.7, check_tcp.c tcp_epilog / check_misc.c):
 * - The first round starts `warmupMs * random()` after `start()`; each later round starts
 *   `delayLoopMs` after the previous round ended (not a fixed rate, so rounds never overlap).
 * - A round is one attempt plus, while the checker is up, up to `retry` retries spaced
 *   `delayBeforeRetryMs` apart; the round fails only when every try failed. A checker that is
 *   down does not retry: one failed attempt is a failed round (keepalived does the same).
 * - On top, `fall` consecutive failed rounds take an up checker down and `rise` consecutive
 *   successful rounds bring a down checker up (rise = fall = 1 is plain keepalived).
 * - A checker starts up unless `alpha` (or `initiallyUp: false`).
 * - A weight reported by the checker (misc_dynamic, FILE_CHECK) that changes while up is
 *   reported as a transition with `up: true` and the new weight.
 * - log_all_failures: every failed attempt while up is reported (`onFailedAttempt`), not only
 *   the state change; HTTP fast_recovery: the round after the first, and a round after a
 *   successful one while down, start at once.
 * - At most one attempt is in flight. Each attempt also gets a watchdog (`attemptBoundMs`, by
 *   default the kind's own timeouts plus slack): when it fires the attempt is aborted and counted
 *   failed, but the next attempt still waits for the stuck one to settle.
 *
 * @module
 */
import type { Clock, Timer } from "../runtime/clock.ts";
import { riseFallInit, type RiseFallState, riseFallStep } from "./rise_fall.ts";
import type { Checker, CheckOutcome, CheckSpec } from "./types.ts";

/** A change of a checker's state (or of its weight while up). */
export interface CheckTransition {
  up: boolean;
  /** e.g. "HTTP 503 from 10.0.0.11:80/health after 3 tries". */
  reason: string;
  weight?: number;
}

/** Counters of one runner. */
export interface CheckStats {
  runs: number;
  failures: number;
  lastDurationMs: number;
  /** Attempts whose watchdog fired. */
  watchdogs: number;
}

/** Options of a runner. */
export interface CheckRunnerOptions {
  /** Random source in [0, 1) for the warmup spread (tests inject one). */
  random?: () => number;
  /** Initial state; default `!spec.alpha`. */
  initiallyUp?: boolean;
  /** Hard bound on one attempt; default from the spec (see `attemptBoundMs`). */
  attemptBoundMs?: number;
  /**
   * Told of every failed attempt while the checker is up, retries included, when the spec has
   * `logAllFailures` (keepalived log_all_failures); `attempt` counts from 1.
   */
  onFailedAttempt?: (reason: string, attempt: number) => void;
}

/** The default hard bound on one attempt of `spec`. */
function attemptBoundMs(spec: CheckSpec): number {
  switch (spec.type) {
    case "MISC_CHECK":
      return spec.miscTimeoutMs + 3000;
    case "HTTP_GET":
    case "SSL_GET":
      return (spec.totalTimeoutMs ?? 2 * spec.connectTimeoutMs) * Math.max(1, spec.urls.length) +
        1000;
    case "SMTP_CHECK":
      return 4 * spec.connectTimeoutMs + 1000;
    default:
      return spec.connectTimeoutMs + 1000;
  }
}

/** Schedules one checker and reports transitions. */
export class CheckRunner implements Disposable {
  readonly #spec: CheckSpec;
  readonly #checker: Checker;
  readonly #clock: Clock;
  readonly #onTransition: (t: CheckTransition) => void;
  readonly #random: () => number;
  readonly #boundMs: number;
  #state: RiseFallState;
  #retriesUsed = 0;
  #weight: number | undefined;
  #timer: Timer | null = null;
  #watchdog: Timer | null = null;
  #ac: AbortController | null = null;
  #inFlight = false;
  #startWhenSettled = false;
  #disposed = false;
  #started = false;
  #last: CheckOutcome | null = null;
  #rounds = 0;
  readonly #onFailedAttempt: ((reason: string, attempt: number) => void) | null;
  readonly #stats: CheckStats = { runs: 0, failures: 0, lastDurationMs: 0, watchdogs: 0 };

  constructor(
    spec: CheckSpec,
    checker: Checker,
    clock: Clock,
    onTransition: (t: CheckTransition) => void,
    opts: CheckRunnerOptions = {},
  ) {
    this.#spec = spec;
    this.#checker = checker;
    this.#clock = clock;
    this.#onTransition = onTransition;
    this.#random = opts.random ?? Math.random;
    this.#boundMs = opts.attemptBoundMs ?? attemptBoundMs(spec);
    this.#state = riseFallInit(opts.initiallyUp ?? !spec.alpha);
    this.#onFailedAttempt = spec.logAllFailures ? opts.onFailedAttempt ?? null : null;
  }

  /** Whether the checker is up now. */
  get up(): boolean {
    return this.#state.up;
  }

  /** The outcome of the latest attempt. */
  get lastResult(): CheckOutcome | null {
    return this.#last;
  }

  /** Counters (a live view). */
  get stats(): Readonly<CheckStats> {
    return this.#stats;
  }

  /** Whether an attempt is running. */
  get inFlight(): boolean {
    return this.#inFlight;
  }

  /** Starts the schedule: the first round after `warmupMs * random()`. Idempotent. */
  start(): void {
    if (this.#started || this.#disposed) return;
    this.#started = true;
    this.#schedule(this.#spec.warmupMs * this.#random());
  }

  /** Cancels the timer and aborts an attempt in flight; no transition is reported afterwards. */
  dispose(): void {
    this.#disposed = true;
    this.#timer?.cancel();
    this.#watchdog?.cancel();
    this.#ac?.abort();
    this.#timer = this.#watchdog = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  #schedule(delayMs: number): void {
    this.#timer?.cancel();
    this.#timer = this.#clock.setTimer(delayMs, () => {
      this.#timer = null;
      this.#attempt();
    });
  }

  #attempt(): void {
    if (this.#disposed) return;
    if (this.#inFlight) {
      // The previous attempt outlived its watchdog: start when it finally settles.
      this.#startWhenSettled = true;
      return;
    }
    this.#inFlight = true;
    const ac = new AbortController();
    this.#ac = ac;
    const t0 = this.#clock.now();
    let counted = false;
    const finish = (o: CheckOutcome) => {
      if (counted || this.#disposed) return;
      counted = true;
      this.#watchdog?.cancel();
      this.#watchdog = null;
      this.#stats.lastDurationMs = this.#clock.now() - t0;
      this.#onResult(o);
    };
    this.#watchdog = this.#clock.setTimer(this.#boundMs, () => {
      this.#watchdog = null;
      this.#stats.watchdogs++;
      ac.abort();
      finish({ ok: false, reason: `timeout after ${Math.round(this.#boundMs)} ms` });
    });
    let p: Promise<CheckOutcome>;
    try {
      p = this.#checker.run(ac.signal);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(finish, (e) => finish({ ok: false, reason: `checker error: ${String(e)}` }))
      .finally(() => {
        this.#inFlight = false;
        if (this.#ac === ac) this.#ac = null;
        if (this.#startWhenSettled && !this.#disposed) {
          this.#startWhenSettled = false;
          this.#attempt();
        }
      });
  }

  /**
   * keepalived's HTTP fast_recovery (check_http.c http_check_thread): no delay after the first
   * round, nor while down after a round in which no url failed.
   */
  #fastRecovery(o: CheckOutcome): boolean {
    const s = this.#spec;
    if ((s.type !== "HTTP_GET" && s.type !== "SSL_GET") || !s.fastRecovery) return false;
    return this.#rounds === 1 || (!this.#state.up && o.ok);
  }

  #onResult(o: CheckOutcome): void {
    this.#last = o;
    this.#stats.runs++;
    if (!o.ok) {
      this.#stats.failures++;
      if (this.#state.up) this.#onFailedAttempt?.(o.reason, this.#retriesUsed + 1);
      if (this.#state.up && this.#retriesUsed < this.#spec.retry) {
        this.#retriesUsed++;
        this.#schedule(this.#spec.delayBeforeRetryMs);
        return;
      }
    }
    const tries = this.#retriesUsed + 1;
    this.#retriesUsed = 0;
    const wasUp = this.#state.up;
    const step = riseFallStep(this.#state, o.ok, this.#spec.rise, this.#spec.fall);
    this.#state = step.state;
    this.#rounds++;
    this.#schedule(this.#fastRecovery(o) ? 0 : this.#spec.delayLoopMs);
    if (o.ok) {
      const weightChanged = o.weight !== undefined && o.weight !== this.#weight;
      if (o.weight !== undefined) this.#weight = o.weight;
      if (step.changed || (wasUp && weightChanged)) {
        const t: CheckTransition = { up: true, reason: o.detail };
        if (this.#weight !== undefined) t.weight = this.#weight;
        this.#onTransition(t);
      }
    } else if (step.changed) {
      const rounds = this.#spec.fall > 1 ? `, ${this.#spec.fall} rounds` : "";
      this.#onTransition({
        up: false,
        reason: `${o.reason} after ${tries} ${tries === 1 ? "try" : "tries"}${rounds}`,
      });
    }
  }
}
