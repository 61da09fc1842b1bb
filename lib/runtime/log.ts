/**
 * Structured, levelled logging to stderr, with a per-key rate limiter for noisy
 * events such as dropped packets. Under systemd's journal (stderr is the stream named by
 * `$JOURNAL_STREAM`), lines start with the syslog priority `<N>` instead of a timestamp, so the
 * journal records each line's priority (`journalctl -p warning`) and its own time.
 *
 * @module
 */

/** Log levels, most severe first. */
export type Level = "error" | "warn" | "info" | "debug";

const rank: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Where log lines go; tests capture them. */
export type Sink = (line: string) => void;

/** syslog(3) priorities of the levels (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
export const SYSLOG_PRIORITY: Readonly<Record<Level, number>> = {
  error: 3,
  warn: 4,
  info: 6,
  debug: 7,
};

interface LogState {
  level: Level;
  sink: Sink;
  json: boolean;
  /** Lines carry `<N>` instead of a timestamp (absent: no). */
  journal?: boolean;
  /** Lines the sink threw on. */
  lost?: number;
}

/**
 * Whether stderr is the journal: `$JOURNAL_STREAM` ("DEVICE:INODE", set by systemd for a
 * service whose stderr it connected to journald) names the file stderr is. A child that
 * inherited the variable but had its stderr redirected does not match.
 */
export function isJournalStream(
  journalStream: string | undefined,
  stderr: { dev: number; ino: number | null } | null,
): boolean {
  if (journalStream === undefined || stderr === null || stderr.ino === null) return false;
  const m = /^(\d+):(\d+)$/.exec(journalStream);
  return m !== null && Number(m[1]) === stderr.dev && Number(m[2]) === stderr.ino;
}

/** `isJournalStream` for this process (fd 2 through /proc/self/fd/2). */
export function stderrIsJournal(): boolean {
  let st: Deno.FileInfo | null = null;
  try {
    st = Deno.statSync("/proc/self/fd/2");
  } catch { /* no /proc, or no stderr */ }
  return isJournalStream(Deno.env.get("JOURNAL_STREAM"), st);
}

/** A logger with a component name. */
export class Logger {
  readonly #component: string;
  readonly #state: LogState;

  constructor(component = "haagent", state?: LogState) {
    this.#component = component;
    this.#state = state ??
      { level: "info", sink: (l) => console.error(l), json: false, journal: false };
  }

  /** A logger for a sub-component that shares level and sink. */
  child(component: string): Logger {
    return new Logger(component, this.#state);
  }

  /** Sets the minimum level logged. */
  setLevel(level: Level): void {
    this.#state.level = level;
  }

  /** Replaces the sink (tests), and optionally switches to JSON lines. */
  setSink(sink: Sink, json = false): void {
    this.#state.sink = sink;
    this.#state.json = json;
  }

  /** Prefixes lines with the syslog priority `<N>` instead of a timestamp (see `stderrIsJournal`). */
  setJournal(on: boolean): void {
    this.#state.journal = on;
  }

  /** Whether lines carry the syslog priority prefix. */
  get journal(): boolean {
    return this.#state.journal === true;
  }

  /** Whether a level is enabled. */
  enabled(level: Level): boolean {
    return rank[level] <= rank[this.#state.level];
  }

  /** Logs `msg` at `level` with optional key=value fields. */
  log(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const ts = new Date().toISOString();
    const prio = this.#state.journal === true ? `<${SYSLOG_PRIORITY[level]}>` : "";
    if (this.#state.json) {
      let line: string;
      try {
        line = JSON.stringify({ ts, level, component: this.#component, msg, ...fields });
      } catch {
        line = JSON.stringify({ ts, level, component: this.#component, msg });
      }
      this.#emit(prio + line);
      return;
    }
    const value = (v: unknown) => {
      if (typeof v === "string") return v;
      try {
        return JSON.stringify(v);
      } catch {
        return String(v);
      }
    };
    const extra = fields === undefined
      ? ""
      : " " + Object.entries(fields).map(([k, v]) => `${k}=${value(v)}`).join(" ");
    const head = this.#state.journal === true ? prio : `${ts} `;
    let line = `${head}${level.toUpperCase().padEnd(5)} ${this.#component}: ${msg}${extra}`;
    // The journal stores each line of a stream as an entry: a stack trace keeps its priority.
    if (prio !== "" && line.includes("\n")) line = line.replaceAll("\n", `\n${prio}`);
    this.#emit(line);
  }

  /**
   * Lines the sink could not take (stderr closed: EPIPE). Logging never throws: a log call
   * sits in timers, signal handlers and catch blocks, where an exception from a broken stderr
   * kept the agent spinning at half a core and unable to stop.
   */
  get lost(): number {
    return this.#state.lost ?? 0;
  }

  #emit(line: string): void {
    try {
      this.#state.sink(line);
    } catch {
      this.#state.lost = (this.#state.lost ?? 0) + 1;
    }
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.log("error", msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.log("warn", msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.log("info", msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.log("debug", msg, fields);
  }
}

/**
 * Lets at most `burst` events per key through each `windowMs`, and reports how many were
 * suppressed when the next window opens.
 */
export class RateLimiter {
  readonly #windowMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #keys = new Map<string, { start: number; count: number; suppressed: number }>();

  constructor(windowMs: number, burst: number, now: () => number = () => performance.now()) {
    this.#windowMs = windowMs;
    this.#burst = burst;
    this.#now = now;
  }

  /**
   * Returns `null` to suppress, or the number of events suppressed since the last one let
   * through (0 usually).
   */
  allow(key: string): number | null {
    const t = this.#now();
    let s = this.#keys.get(key);
    if (s === undefined || t - s.start >= this.#windowMs) {
      const suppressed = s?.suppressed ?? 0;
      s = { start: t, count: 1, suppressed: 0 };
      this.#keys.set(key, s);
      return suppressed;
    }
    if (s.count < this.#burst) {
      s.count++;
      return 0;
    }
    s.suppressed++;
    return null;
  }
}

/**
 * A failure report for the ffi layer's Reactor and ReactorClock (`what` threw `error`): logged
 * at error on `logger`, at most 5 lines per `what` per 10 s, with the count of those held back.
 */
export function failureLogger(logger: Logger): (what: string, error: unknown) => void {
  const limiter = new RateLimiter(10_000, 5);
  return (what, error) => {
    const suppressed = limiter.allow(what);
    if (suppressed === null) return;
    logger.error(`${what} failed`, {
      error: error instanceof Error ? error.message : String(error),
      ...(suppressed > 0 ? { suppressed } : {}),
    });
  };
}

/** The process-wide root logger. */
export const log = new Logger();
