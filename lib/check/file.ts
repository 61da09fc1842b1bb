/**
 * FILE_CHECK: reads a number from a file (keepalived track_file semantics for real servers).
 * With `weightMultiplier` 0, 0 in the file is up and any other number is down. Otherwise the
 * weight is `value * weightMultiplier`: above 0 is up with that weight, 0 or below is down.
 * A missing or unreadable file, or one without a number, reads as 0. Only the first 127 bytes
 * are read, without blocking (read_head.ts), and a number out of range keeps the last value.
 *
 * @module
 */
import { readHead } from "../runtime/read_head.ts";
import type { Checker, CheckOutcome } from "./types.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Parses a track file's number as keepalived does (`strtol(buf, NULL, 0)`): leading blanks, a
 * sign, then `0x` hexadecimal, `0` octal or decimal digits; no digits read as 0. A number outside
 * -2^31..2^31 is null (keepalived logs "Invalid number ... - ignoring" and keeps the last value).
 */
export function parseTrackValue(text: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (m === null) return 0;
  const digits = m[2]!;
  const v = /^0[xX]/.test(digits)
    ? Number.parseInt(digits.slice(2), 16)
    : digits.length > 1 && digits.startsWith("0")
    ? Number.parseInt(digits.slice(1), 8)
    : Number.parseInt(digits, 10);
  const signed = m[1] === "-" ? -v : v;
  return signed < INT32_MIN || signed > INT32_MAX + 1 ? null : signed;
}

/** The number at the head of `path` (null: out of range); a missing file reads as 0. */
export async function readTrackValue(path: string): Promise<number | null> {
  try {
    return parseTrackValue(new TextDecoder().decode(await readHead(path)));
  } catch {
    return 0;
  }
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
  /** The last number read in range. */
  #value = 0;

  constructor(path: string, weightMultiplier: number) {
    this.#path = path;
    this.#multiplier = weightMultiplier;
  }

  /** Reads the file once. */
  async run(_signal: AbortSignal): Promise<CheckOutcome> {
    const v = await readTrackValue(this.#path);
    if (v !== null) this.#value = v;
    return fileOutcome(this.#value, this.#multiplier, this.#path);
  }
}
