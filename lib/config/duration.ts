/**
 * Durations as written in the configuration: `"100ms"`, `"1s"`, `"1.5s"`, `"2m"`, `"1h"`,
 * compounds such as `"1m30s"`, and bare numbers meaning seconds (keepalived's habit).
 *
 * @module
 */

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)/y;

/** Parses a duration and returns milliseconds, or null when the text is not a duration. */
export function parseDuration(s: string | number): number | null {
  if (typeof s === "number") return Number.isFinite(s) && s >= 0 ? s * 1000 : null;
  const text = s.trim();
  if (/^[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text) * 1000;
  if (text === "") return null;
  let totalMs = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (m === null) return null;
    totalMs += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Math.round(totalMs * 1000) / 1000;
}

/** Formats milliseconds the short way a person would write them (`"5s"`, `"100ms"`, `"2m"`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000 && (ms * 100) % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
