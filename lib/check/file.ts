/**
 * FILE_CHECK: reads a number from a file (keepalived track_file semantics for real servers).
 * With `weightMultiplier` 0, 0 in the file is up and any other number is down. Otherwise the
 * weight is `value * weightMultiplier`: above 0 is up with that weight, 0 or below is down.
 * A missing or unreadable file, or one without a number, reads as 0. Only the first 64 bytes
 * are read.
 *
 * @module
 */
import type { Checker, CheckOutcome } from "./types.ts";

/** Parses the leading integer of a track file ("  12\n" -> 12); anything else is 0. */
export function parseTrackValue(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  if (m === null) return 0;
  const v = Number(m[1]);
  return Number.isSafeInteger(v) ? v : 0;
}

/** Maps a value and multiplier to an outcome. */
export function fileOutcome(value: number, multiplier: number, path: string): CheckOutcome {
  if (multiplier === 0) {
    return value === 0
      ? { ok: true, detail: `${path} reads 0` }
      : { ok: false, reason: `${path} reads ${value}` };
  }
  const weight = value * multiplier;
  if (weight <= 0) return { ok: false, reason: `${path} reads ${value} (weight ${weight})` };
  return { ok: true, detail: `${path} reads ${value}`, weight };
}

/** A FILE_CHECK. */
export class FileChecker implements Checker {
  readonly kind = "FILE_CHECK";
  readonly #path: string;
  readonly #multiplier: number;

  constructor(path: string, weightMultiplier: number) {
    this.#path = path;
    this.#multiplier = weightMultiplier;
  }

  /** Reads the file once. */
  async run(_signal: AbortSignal): Promise<CheckOutcome> {
    let value = 0;
    try {
      using f = await Deno.open(this.#path, { read: true });
      const buf = new Uint8Array(64);
      const n = await f.read(buf);
      value = parseTrackValue(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
    } catch {
      value = 0;
    }
    return fileOutcome(value, this.#multiplier, this.#path);
  }
}
