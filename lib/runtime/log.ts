/**
 * Structured, levelled logging to stderr, with a per-key rate limiter for noisy
 * events such as dropped packets.
 *
 * @module
 */

/** Log levels, most severe first. */
export type Level = "error" | "warn" | "info" | "debug";

const rank: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Where log lines go; tests capture them. */
export type Sink = (line: string) => void;

/** A logger with a component name. */
export class Logger {
  readonly #component: string;
  readonly #state: { level: Level; sink: Sink; json: boolean };

  constructor(component = "haagent", state?: { level: Level; sink: Sink; json: boolean }) {
    this.#component = component;
    this.#state = state ??
      { level: "info", sink: (l) => console.error(l), json: false };
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

  /** Whether a level is enabled. */
  enabled(level: Level): boolean {
    return rank[level] <= rank[this.#state.level];
  }

  log(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (!this.enabled(level)) return;
    const ts = new Date().toISOString();
    if (this.#state.json) {
      this.#state.sink(JSON.stringify({ ts, level, component: this.#component, msg, ...fields }));
      return;
    }
    const extra = fields === undefined ? "" : " " +
      Object.entries(fields).map(([k, v]) =>
        `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      )
        .join(" ");
    this.#state.sink(`${ts} ${level.toUpperCase().padEnd(5)} ${this.#component}: ${msg}${extra}`);
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

/** The process-wide root logger. */
export const log = new Logger();
