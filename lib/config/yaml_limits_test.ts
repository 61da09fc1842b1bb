import { LineCounter, parseDocument } from "yaml";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { checkStructure, scanDepth } from "./yaml_limits.ts";

const root = new URL("../../", import.meta.url);

function structure(text: string, limits = {}) {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, merge: true, uniqueKeys: false });
  assertEquals(doc.errors.length, 0, doc.errors.map((e) => e.message).join("; "));
  return checkStructure(doc, lc, limits);
}

/** Every YAML file the repository ships is far from the depth limit, by the estimate. */
Deno.test("scanDepth: real configurations are shallow", () => {
  const dirs = ["tests/config/good/", "examples/", "tests/cli/", "tests/import/"];
  let n = 0;
  for (const d of dirs) {
    for (const e of Deno.readDirSync(new URL(d, root))) {
      if (!e.name.endsWith(".yaml") && !e.name.endsWith(".golden.txt")) continue;
      const text = Deno.readTextFileSync(new URL(d + e.name, root));
      assertEquals(scanDepth(text, 12), null, `${d}${e.name} estimated deeper than 12`);
      n++;
    }
  }
  assert(n >= 10, `only ${n} files`);
});

Deno.test("scanDepth: the estimate equals the real depth on block, compact and flow layouts", () => {
  const block = "a:\n  b:\n    - c:\n        - - d: [1, {e: [2]}]\n";
  // a-map, b-map, seq, c-map, seq, seq, d-map, flow seq, flow map, flow seq = 10 levels.
  assertEquals(scanDepth(block, 10), null);
  assertEquals(scanDepth(block, 9)?.line, 4);
  // Siblings at the same indentation do not add up.
  const wide = Array.from({ length: 200 }, (_, i) => `k${i}:\n  - x: 1\n    y: [1]\n`).join("");
  assertEquals(scanDepth(wide, 4), null);
  assertEquals(scanDepth(wide, 3)?.line, 3);
});

Deno.test("scanDepth: brackets in quotes, comments and block scalars do not count", () => {
  const text = [
    `a: "[[[[[[[[[[ \\" [[[["`,
    "b: '[[[[['' [[[[['",
    "c: it's [1] # [[[[[[[[[[",
    "d: |",
    "  [[[[[[[[[[[[",
    "  - - - - - - - - - -",
    "e: >-",
    "    {{{{{{{{{{{{",
    'f: "multi [[[[[',
    '  line [[[[[[[[["',
    "g: 1",
  ].join("\n");
  assertEquals(scanDepth(text, 2), null);
});

Deno.test("scanDepth: deep nesting is refused at its line, fast, in every layout", () => {
  const n = 100_000;
  const flow = "a: " + "[".repeat(n) + "]".repeat(n) + "\n";
  const compact = "x: 1\n" + "- ".repeat(n) + "1\n";
  const block = Array.from({ length: 2000 }, (_, i) => " ".repeat(i) + "k:").join("\n");
  for (
    const [name, text, line, col] of [
      ["flow", flow, 1, 67],
      ["compact", compact, 2, 129],
      ["block", block, 65, 65],
    ] as const
  ) {
    const t0 = performance.now();
    const r = scanDepth(text, 64);
    const ms = performance.now() - t0;
    assert(r !== null, name);
    assertEquals([r.line, r.col], [line, col], name);
    assert(r.message.includes("deeper than 64"), r.message);
    assert(ms < 10_000, `${name} took ${ms} ms`);
  }
});

Deno.test("checkStructure: aliases resolve to the latest anchor before them", () => {
  const r = structure("a: &x 1\nb: *x\nc: &x [2]\nd: *x\n");
  assertEquals(r.issues, []);
  const targets = [...r.aliases.values()].map((n) => JSON.stringify(n.toJSON()));
  assertEquals(targets, ["1", "[2]"]);
  assertEquals(r.nodes, 1 + 2 + 2 + 3 + 3);
});

Deno.test("checkStructure: an unknown alias and an alias inside its own anchor are refused", () => {
  let r = structure("a: *nope\n");
  assertEquals(r.issues.map((i) => [i.line, i.col, i.fatal]), [[1, 4, true]]);
  assert(r.issues[0]!.message.includes("no anchor &nope"), r.issues[0]!.message);
  r = structure("a: &x [1, *x]\n");
  assertEquals(r.issues.map((i) => [i.line, i.col]), [[1, 11]]);
  assert(r.issues[0]!.message.includes("inside the node it names"), r.issues[0]!.message);
});

Deno.test("checkStructure: an alias bomb is refused at the alias, before anything expands", () => {
  const levels = ["x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
  for (let i = 1; i <= 12; i++) {
    levels.push(`x${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(", ")}]`);
  }
  const t0 = performance.now();
  const r = structure(levels.join("\n") + "\n");
  const ms = performance.now() - t0;
  assertEquals(r.issues.length, 1);
  const i = r.issues[0]!;
  // Lines 1-6 hold 672,611 nodes expanded; the third alias of line 7 (597,871 each) passes 2M.
  assertEquals([i.line, i.col], [7, 20]);
  assert(i.message.includes("an alias bomb"), i.message);
  assert(ms < 10_000, `${ms} ms`);
});

Deno.test("checkStructure: merge-key bombs count too", () => {
  const levels = ["x0: &a0 {k: 1}"];
  for (let i = 1; i <= 9; i++) {
    levels.push(`x${i}: &a${i} {<<: [${Array(9).fill(`*a${i - 1}`).join(", ")}]}`);
  }
  const r = structure(levels.join("\n") + "\n", { nodes: 100_000 });
  assertEquals(r.issues.length, 1);
  assert(r.issues[0]!.message.includes("more than 100,000 nodes"), r.issues[0]!.message);
});

Deno.test("checkStructure: depth counts through aliases", () => {
  const r = structure("a: &d [[[[1]]]]\nb: [[[*d]]]\n", { depth: 7 });
  assertEquals(r.issues.map((i) => [i.line, i.col]), [[2, 7]]);
  assertEquals(structure("a: &d [[[[1]]]]\nb: [[[*d]]]\n", { depth: 8 }).issues, []);
});

Deno.test("checkStructure: long lists and mappings are refused at their first line", () => {
  const list = "a:\n" + Array.from({ length: 11 }, (_, i) => `  - ${i}`).join("\n") + "\n";
  const r = structure(list, { items: 10 });
  assertEquals(r.issues.map((i) => [i.line, i.col]), [[2, 3]]);
  assert(r.issues[0]!.message.includes("a list of 11 entries (at most 10)"), r.issues[0]!.message);
});

Deno.test("checkStructure: duplicate keys are each reported, merge keys are not duplicates", () => {
  const r = structure("a: 1\nb: 2\na: 3\n'b': 4\nm: {<<: {x: 1}, <<: {y: 2}}\n");
  assertEquals(r.issues.map((i) => [i.line, i.col, i.fatal]), [[3, 1, false], [4, 1, false]]);
  assert(r.issues[0]!.message.includes('"a" is already at line 1, column 1'), r.issues[0]!.message);
});

Deno.test("checkStructure: 50,000 keys in one mapping take well under a second", () => {
  const text = "a:\n" + Array.from({ length: 50_000 }, (_, i) => `  k${i}: ${i}`).join("\n");
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false });
  const t0 = performance.now();
  const r = checkStructure(doc, lc);
  assertEquals(r.issues, []);
  const ms = performance.now() - t0;
  assert(ms < 10_000, `${ms} ms`);
});

Deno.test("scanDepth never throws on mutated text", () => {
  const base = Deno.readTextFileSync(new URL("examples/ha.yaml", root));
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = "-?:[]{}'\"#|>&*! \n\t\\,";
  for (let k = 0; k < 300; k++) {
    const chars = [...base];
    for (let m = 0; m < 20; m++) {
      chars[Math.floor(rnd() * chars.length)] = alphabet[Math.floor(rnd() * alphabet.length)]!;
    }
    scanDepth(chars.join(""));
  }
});
