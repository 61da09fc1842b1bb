/**
 * An accept loop that survives: out of file descriptors (EMFILE / ENFILE) it closes a spare
 * descriptor it holds for the purpose, so that the next accept takes the waiting connection (a
 * control request still gets its answer under descriptor pressure), and retries with a back-off
 * (50 ms doubling to 1 s) instead of spinning on the listener, taking the spare back as soon as a
 * descriptor is free; any other accept error is logged and retried the same way. Only closing
 * the listener ends the loop (it used to end at the first EMFILE, and the control socket with
 * it). Connections past `maxConnections` are closed on accept, so that clients cannot take every
 * descriptor of the process.
 *
 * @module
 */
import { RateLimiter } from "./log.ts";

/** Options of `acceptLoop`. */
export interface AcceptOptions {
  /** Connections served at once; more are closed as soon as accepted. */
  maxConnections: number;
  /** Accept errors, connections refused over the cap (rate-limited by the loop). */
  onError(message: string): void;
  /** Back-off after a failed accept (ms); doubled up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** A running loop. */
export interface AcceptLoop {
  /** Connections being served. */
  readonly active: number;
  /** Accept errors since the start (EMFILE included). */
  readonly errors: number;
  /** Connections closed because `maxConnections` were being served. */
  readonly refused: number;
  /** Resolves when the loop has ended (its listener was closed). */
  readonly done: Promise<void>;
}

/** Whether an error is the process or the system being out of file descriptors. */
export function isFdExhaustion(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === "EMFILE" || code === "ENFILE";
}

/** A descriptor held in reserve (/dev/null), given up when the process is out of them. */
class Spare {
  #file: Deno.FsFile | null = null;

  constructor() {
    this.take();
  }

  /** Opens the spare if it is not held; false when that fails (still out of descriptors). */
  take(): boolean {
    if (this.#file !== null) return true;
    try {
      this.#file = Deno.openSync("/dev/null", { read: true });
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the spare, freeing one descriptor. */
  release(): void {
    try {
      this.#file?.close();
    } catch { /* closed */ }
    this.#file = null;
  }
}

/** Accepts connections on `listener` and runs `serve` on each until the listener is closed. */
export function acceptLoop<C extends Deno.Conn>(
  listener: Deno.Listener<C>,
  serve: (conn: C) => Promise<void>,
  opts: AcceptOptions,
): AcceptLoop {
  const state = { active: 0, errors: 0, refused: 0 };
  const limiter = new RateLimiter(10_000, 3);
  const report = (key: string, message: string) => {
    const suppressed = limiter.allow(key);
    if (suppressed === null) return;
    opts.onError(suppressed > 0 ? `${message} (${suppressed} more not logged)` : message);
  };
  const spare = new Spare();
  const base = opts.backoffMs ?? 50;
  const max = opts.maxBackoffMs ?? 1000;
  const run = async () => {
    let backoff = 0;
    for (;;) {
      let conn: C;
      try {
        conn = await listener.accept();
        backoff = 0;
        spare.take();
      } catch (e) {
        if (isClosed(e)) return;
        state.errors++;
        const what = e instanceof Error ? e.message : String(e);
        if (isFdExhaustion(e)) {
          // One descriptor free for the next accept, which takes the waiting connection out of
          // the backlog; the spare is taken back after it, when one is free again.
          spare.release();
          report("fd", `cannot accept a connection: ${what}: retrying with the spare descriptor`);
        } else {
          report("other", `cannot accept a connection: ${what}`);
        }
        backoff = Math.min(max, Math.max(base, backoff * 2));
        await new Promise((r) => setTimeout(r, backoff));
        continue;
      }
      if (state.active >= opts.maxConnections) {
        state.refused++;
        report("cap", `${opts.maxConnections} connections open: closing a new one`);
        try {
          conn.close();
        } catch { /* closed by the peer */ }
        continue;
      }
      state.active++;
      serve(conn)
        .catch((e) => report("serve", `connection failed: ${e instanceof Error ? e.message : e}`))
        .finally(() => {
          state.active--;
          try {
            conn.close();
          } catch { /* already closed */ }
        });
    }
  };
  const done = run().finally(() => spare.release());
  return {
    get active() {
      return state.active;
    },
    get errors() {
      return state.errors;
    },
    get refused() {
      return state.refused;
    },
    done,
  };
}

/**
 * Runs `io` on `conn`, closing the connection if it takes longer than `ms`; resolves null then
 * (the read or write it interrupted fails with the closed resource).
 */
export async function withDeadline<T>(
  conn: Deno.Conn,
  ms: number,
  io: () => Promise<T>,
): Promise<T | null> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    try {
      conn.close();
    } catch { /* closed */ }
  }, ms);
  try {
    return await io();
  } catch (e) {
    if (expired) return null;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

function isClosed(e: unknown): boolean {
  return e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted;
}
