/**
 * What a bad-config fixture expects: its `# expect: LINE:COL PATH | PART` lines, or an entry of
 * `SPECIAL` for fixtures that cannot carry a comment. Shared by the loader test and the CLI test.
 *
 * @module
 */

/** One expected error: position, field path ("" for none) and part of the message. */
export interface Expect {
  line: number;
  col: number;
  path: string;
  part: string;
}

/** Fixtures that cannot carry their expectation inside (a 0-byte file). */
export const SPECIAL: Readonly<Record<string, Expect[]>> = {
  "empty_bytes.yaml": [{ line: 1, col: 1, path: "", part: "the file is empty" }],
};

/** The `# expect:` lines of a fixture's text. */
export function expectations(text: string): Expect[] {
  const out: Expect[] = [];
  for (const m of text.matchAll(/^# expect: (\d+):(\d+) (\S+) \| (.+)$/gm)) {
    out.push({
      line: Number(m[1]),
      col: Number(m[2]),
      path: m[3] === "-" ? "" : m[3]!,
      part: m[4]!,
    });
  }
  return out;
}

/** The expectations of fixture `name` whose text is `text`. */
export function expectFor(name: string, text: string): Expect[] {
  return SPECIAL[name] ?? expectations(text);
}
