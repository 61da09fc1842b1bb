/**
 * MISC_CHECK: run a program; exit 0 = up, 1 = down, and with `misc_dynamic` 2..255 = up with
 * weight `code - 2` (keepalived check_misc.c: "the actual weight set when using misc_dynamic is
 * two less than the exit status"). Without misc_dynamic any non-zero exit is down. A timeout or a
 * signal is down. The process group is killed on timeout (SIGTERM, SIGKILL 2 s later).
 *
 * @module
 */
import { runScript } from "../runtime/script.ts";
import type { Checker, CheckOutcome, MiscCheckSpec } from "./types.ts";

/** Maps an exit status to an outcome (keepalived's misc_dynamic rule). */
export function miscOutcome(code: number, dynamic: boolean, name: string): CheckOutcome {
  if (code === 0) return { ok: true, detail: `${name} exited 0` };
  if (dynamic && code >= 2 && code <= 255) {
    return { ok: true, detail: `${name} exited ${code}`, weight: code - 2 };
  }
  return { ok: false, reason: `${name} exited with status ${code}` };
}

/** A MISC_CHECK. */
export class MiscChecker implements Checker {
  readonly kind = "MISC_CHECK";
  readonly #spec: MiscCheckSpec;

  constructor(spec: MiscCheckSpec) {
    this.#spec = spec;
  }

  /** Runs the program once. */
  async run(signal: AbortSignal): Promise<CheckOutcome> {
    const s = this.#spec;
    const r = await runScript(s.miscPath, {
      timeoutMs: s.miscTimeoutMs,
      signal,
      maxOutputBytes: 4096,
      ...(s.user !== undefined ? { user: s.user } : {}),
    });
    const name = s.miscPath.length > 60 ? `${s.miscPath.slice(0, 57)}...` : s.miscPath;
    if (r.error !== undefined) return { ok: false, reason: `${name}: ${r.error}` };
    if (r.timedOut) return { ok: false, reason: `${name} timed out after ${s.miscTimeoutMs} ms` };
    if (r.code === null) return { ok: false, reason: `${name} killed by ${r.signal}` };
    return miscOutcome(r.code, s.miscDynamic, name);
  }
}
