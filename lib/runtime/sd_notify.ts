/**
 * The service manager's notify protocol (sd_notify(3)), spoken directly on `$NOTIFY_SOCKET`:
 * `READY=1`, `RELOADING=1` with `MONOTONIC_USEC=`, `STOPPING=1`, a rate-limited `STATUS=` line,
 * `WATCHDOG=1` every `WATCHDOG_USEC / 2` from the caller's clock (the VRRP event loop: a stalled
 * loop stops the pings) and `WATCHDOG=trigger` when the agent knows it cannot do its job.
 *
 * `ServiceNotifier` is the logic (testable with a FakeClock and a captured `send`);
 * `serviceNotifierFromEnv` reads the environment and opens the datagram socket once, so a
 * process that runs out of file descriptors can still tell systemd.
 *
 * @module
 */
import { monotonicUsec, UnixDatagramSocket } from "../../ffi/unix_dgram.ts";
import type { Clock, Timer } from "./clock.ts";
import { type Logger, RateLimiter } from "./log.ts";

/** What the service manager put in the environment. */
export interface NotifyEnv {
  /** `$NOTIFY_SOCKET` (a file name or an "@abstract" name), or null when not under one. */
  socket: string | null;
  /** The watchdog period in microseconds, or null when the watchdog is off for this process. */
  watchdogUsec: number | null;
  /** Why a variable that is set was ignored (logged once at start). */
  ignored: string[];
}

/**
 * Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` as sd_notify(3) and
 * sd_watchdog_enabled(3) do: the watchdog applies only when `WATCHDOG_PID` is unset or names
 * `pid`; a socket that is neither a path nor an abstract name is ignored (with a reason).
 */
export function parseNotifyEnv(env: (name: string) => string | undefined, pid: number): NotifyEnv {
  const ignored: string[] = [];
  let socket: string | null = env("NOTIFY_SOCKET") ?? null;
  if (socket !== null && !socket.startsWith("/") && !socket.startsWith("@")) {
    ignored.push(`NOTIFY_SOCKET=${socket}: only unix socket paths and @abstract names are spoken`);
    socket = null;
  }
  let watchdogUsec: number | null = null;
  const usec = env("WATCHDOG_USEC");
  const wpid = env("WATCHDOG_PID");
  if (usec !== undefined) {
    const n = /^\d+$/.test(usec) ? Number(usec) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) {
      ignored.push(`WATCHDOG_USEC=${usec}: not a positive number of microseconds`);
    } else if (wpid !== undefined && wpid !== String(pid)) {
      // The watchdog is another process's (sd_watchdog_enabled returns 0): not an error.
    } else {
      watchdogUsec = n;
    }
  }
  if (socket === null && watchdogUsec !== null) {
    ignored.push("WATCHDOG_USEC is set but NOTIFY_SOCKET is not: no keep-alive can be sent");
    watchdogUsec = null;
  }
  return { socket, watchdogUsec, ignored };
}

/** Sends one notify message; false when it could not be queued. May throw (SyscallError). */
export type NotifySend = (message: string) => boolean;

/** Options of a ServiceNotifier. */
export interface ServiceNotifierOptions {
  send: NotifySend;
  /** `WATCHDOG_USEC`, or null: no keep-alive. */
  watchdogUsec: number | null;
  log: Logger;
  /** CLOCK_MONOTONIC in microseconds (for `MONOTONIC_USEC=`). */
  monotonicUsec: () => bigint;
  /** Least time between two `STATUS=` updates (default 1000 ms). */
  statusMinGapMs?: number;
  /** How often the summary is recomputed to catch changes nobody reported (default 2000 ms). */
  statusPollMs?: number;
  /** Releases the transport at disposal. */
  close?: () => void;
}

/** Counters of what was sent, for tests and `haagent status`. */
export interface NotifierStats {
  watchdogPings: number;
  statusUpdates: number;
  sendFailures: number;
}

/** The notify protocol's state: what was announced, the keep-alive and the status line. */
export class ServiceNotifier implements Disposable {
  readonly #send: NotifySend;
  readonly #watchdogUsec: number | null;
  readonly #log: Logger;
  readonly #monotonicUsec: () => bigint;
  readonly #statusMinGapMs: number;
  readonly #statusPollMs: number;
  readonly #close: () => void;
  readonly #failLog = new RateLimiter(60_000, 3);
  #clock: Clock | null = null;
  #summary: (() => string) | null = null;
  #watchdogTimer: Timer | null = null;
  #pollTimer: Timer | null = null;
  #statusTimer: Timer | null = null;
  #lastStatus: string | null = null;
  #lastStatusAt = -Infinity;
  #reloads = 0;
  #stopping = false;
  #triggered = false;
  #disposed = false;
  readonly stats: NotifierStats = { watchdogPings: 0, statusUpdates: 0, sendFailures: 0 };

  constructor(opts: ServiceNotifierOptions) {
    this.#send = opts.send;
    this.#watchdogUsec = opts.watchdogUsec;
    this.#log = opts.log;
    this.#monotonicUsec = opts.monotonicUsec;
    this.#statusMinGapMs = opts.statusMinGapMs ?? 1000;
    this.#statusPollMs = opts.statusPollMs ?? 2000;
    this.#close = opts.close ?? (() => {});
  }

  /** The keep-alive period (half of `WATCHDOG_USEC`), or null when there is no watchdog. */
  get watchdogPeriodMs(): number | null {
    return this.#watchdogUsec === null ? null : this.#watchdogUsec / 2000;
  }

  /**
   * Starts the keep-alive on `clock` (it must be the VRRP thread's event loop, so that a stalled
   * loop stops the pings) and the status line from `summary`. The first ping goes out at once.
   */
  attach(clock: Clock, summary: () => string): void {
    if (this.#clock !== null || this.#disposed) return;
    this.#clock = clock;
    this.#summary = summary;
    if (this.#watchdogUsec !== null) this.#ping();
    this.#pollTimer = clock.setTimer(this.#statusPollMs, () => this.#poll());
  }

  /** `READY=1` with the current status line: every instance has started (or a reload applied). */
  ready(): void {
    const status = this.#currentSummary();
    this.#emit(status === null ? "READY=1" : `READY=1\nSTATUS=${status}`);
    if (status !== null) this.#noteStatus(status);
  }

  /**
   * A reload begins: `RELOADING=1` with `MONOTONIC_USEC=` for the first of overlapping reloads;
   * `reloadDone()` sends `READY=1` when the last one has finished (applied or refused).
   */
  reloadBegin(): void {
    if (this.#reloads++ > 0 || this.#stopping) return;
    this.#emit(`RELOADING=1\nMONOTONIC_USEC=${this.#monotonicUsec()}`);
  }

  /** A reload has finished (see `reloadBegin`). */
  reloadDone(): void {
    if (this.#reloads === 0) return;
    if (--this.#reloads > 0 || this.#stopping) return;
    this.ready();
  }

  /** `STOPPING=1`: the agent is shutting down (the keep-alive goes on until disposal). */
  stopping(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#emit("STOPPING=1");
  }

  /** Something the summary shows changed: the status line is sent within the rate limit. */
  statusChanged(): void {
    if (this.#clock === null || this.#statusTimer !== null || this.#disposed) return;
    const wait = this.#lastStatusAt + this.#statusMinGapMs - this.#clock.now();
    if (wait <= 0) {
      this.#flushStatus();
      return;
    }
    this.#statusTimer = this.#clock.setTimer(wait, () => {
      this.#statusTimer = null;
      this.#flushStatus();
    });
  }

  /**
   * `WATCHDOG=trigger`: the agent cannot do its job (`reason` becomes the status line), so the
   * service manager acts as on a missed keep-alive (with Restart=on-failure: a restart). Sent
   * once; the keep-alive stops, so a manager that ignores the trigger still times out.
   */
  trigger(reason: string): void {
    if (this.#triggered || this.#disposed) return;
    this.#triggered = true;
    this.#watchdogTimer?.cancel();
    this.#watchdogTimer = null;
    this.#log.error(`asking the service manager for a restart (WATCHDOG=trigger): ${reason}`);
    this.#emit(`WATCHDOG=trigger\nSTATUS=${oneLine(reason)}`);
  }

  /** Whether `trigger` was called. */
  get triggered(): boolean {
    return this.#triggered;
  }

  #ping(): void {
    this.#watchdogTimer = null;
    if (this.#disposed || this.#triggered) return;
    if (this.#emit("WATCHDOG=1")) this.stats.watchdogPings++;
    this.#watchdogTimer = this.#clock!.setTimer(this.watchdogPeriodMs!, () => this.#ping());
  }

  #poll(): void {
    this.#pollTimer = null;
    if (this.#disposed) return;
    const s = this.#currentSummary();
    if (s !== null && s !== this.#lastStatus) this.statusChanged();
    this.#pollTimer = this.#clock!.setTimer(this.#statusPollMs, () => this.#poll());
  }

  #flushStatus(): void {
    if (this.#triggered) return;
    const s = this.#currentSummary();
    if (s === null || s === this.#lastStatus) return;
    if (this.#emit(`STATUS=${s}`)) this.#noteStatus(s);
  }

  #noteStatus(s: string): void {
    this.#lastStatus = s;
    this.#lastStatusAt = this.#clock?.now() ?? -Infinity;
    this.stats.statusUpdates++;
  }

  #currentSummary(): string | null {
    if (this.#summary === null) return null;
    try {
      return oneLine(this.#summary());
    } catch (e) {
      this.#log.warn(`cannot compute the status line: ${(e as Error).message}`);
      return null;
    }
  }

  #emit(message: string): boolean {
    if (this.#disposed) return false;
    let ok: boolean;
    let why = "the service manager's queue is full";
    try {
      ok = this.#send(message);
    } catch (e) {
      ok = false;
      why = (e as Error).message;
    }
    if (!ok) {
      this.stats.sendFailures++;
      const suppressed = this.#failLog.allow("send");
      if (suppressed !== null) {
        const what = message.split("\n", 1)[0];
        this.#log.warn(
          `cannot notify the service manager (${what}): ${why}` +
            (suppressed > 0 ? ` (${suppressed} more failures not logged)` : ""),
        );
      }
    }
    return ok;
  }

  /** Stops the keep-alive and the status updates; nothing is sent afterwards. */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#close();
    for (const t of [this.#watchdogTimer, this.#pollTimer, this.#statusTimer]) t?.cancel();
    this.#watchdogTimer = this.#pollTimer = this.#statusTimer = null;
  }
}

/** A status line is one line: newlines would end the field and start another. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ").trim();
}

/**
 * The notifier for this process, or null when no service manager listens (`NOTIFY_SOCKET`
 * unset). Removes the variables from the environment afterwards, so that scripts the agent
 * runs do not speak for it (sd_notify's `unset_environment`). The socket is opened once and
 * kept, so that the agent can still send `WATCHDOG=trigger` when it has run out of fds.
 */
export function serviceNotifierFromEnv(log: Logger): ServiceNotifier | null {
  const env = parseNotifyEnv((n) => Deno.env.get(n), Deno.pid);
  for (const name of ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"]) Deno.env.delete(name);
  for (const why of env.ignored) log.warn(`service manager: ${why}`);
  if (env.socket === null) return null;
  const path = env.socket;
  let sock: UnixDatagramSocket;
  try {
    sock = UnixDatagramSocket.open();
  } catch (e) {
    log.error(`service manager: ${(e as Error).message}; no notifications will be sent`);
    return null;
  }
  const enc = new TextEncoder();
  const notifier = new ServiceNotifier({
    send: (m) => sock.fd >= 0 && sock.sendTo(path, enc.encode(m)),
    watchdogUsec: env.watchdogUsec,
    log,
    monotonicUsec,
    close: () => sock.close(),
  });
  if (env.watchdogUsec !== null) {
    log.info(`service manager watchdog: a keep-alive every ${env.watchdogUsec / 2000} ms`);
  }
  return notifier;
}
