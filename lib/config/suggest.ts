/**
 * "Did you mean ...?" for unknown keys and enum values, by edit distance.
 *
 * @module
 */

/** Levenshtein distance between two strings (insert, delete, substitute each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word` (case-insensitive, `-` and `_` alike), or null when none is
 * close enough: at most a third of the word's length in edits (at least 2), or a candidate that
 * contains the word or is contained in it.
 */
export function suggest(word: string, candidates: Iterable<string>): string | null {
  const norm = (s: string) => s.toLowerCase().replaceAll("-", "_");
  const w = norm(word);
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const n = norm(c);
    let d = editDistance(w, n);
    if (
      d > Math.max(2, Math.floor(w.length / 3)) && w.length >= 4 && (n.includes(w) || w.includes(n))
    ) {
      d = Math.max(2, Math.floor(w.length / 3));
    }
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(w.length / 3)) ? best : null;
}
