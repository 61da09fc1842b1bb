/**
 * `deno task imports`: checks the import direction of every .ts file against haagent's floors.
 * Imports point down or sideways, never up; ffi/ imports nothing from lib/; production code
 * imports nothing from tests/, bench/ or tools/; packages on one floor do not import each
 * other both ways. Exits 1 and lists every offending import.
 *
 * The floors (docs/architecture.md explains each):
 *
 * | floor | where                                              |
 * | ----- | -------------------------------------------------- |
 * | 6     | main.ts                                            |
 * | 5     | lib/cli/, lib/demo/                                |
 * | 4     | lib/agent.ts, lib/agent/                           |
 * | 3     | lib/ipvs/                                          |
 * | 2     | lib/vrrp/, lib/netlink/, lib/check/, lib/announce/ |
 * | 1     | lib/config/, lib/net/, lib/runtime/                |
 * | 0     | ffi/                                               |
 *
 * tests/, bench/ and tools/ sit above everything and may import anything; a `*_test.ts` file
 * beside the code keeps its file's floor but may also import tests/helpers/.
 *
 * @module
 */

/** One floor: a number and the path prefixes in it. */
export interface Floor {
  level: number;
  prefixes: string[];
}

/** haagent's floors, top first. */
export const FLOORS: readonly Floor[] = [
  { level: 6, prefixes: ["main.ts"] },
  { level: 5, prefixes: ["lib/cli/", "lib/demo/"] },
  { level: 4, prefixes: ["lib/agent.ts", "lib/agent/"] },
  { level: 3, prefixes: ["lib/ipvs/"] },
  { level: 2, prefixes: ["lib/vrrp/", "lib/netlink/", "lib/check/", "lib/announce/"] },
  { level: 1, prefixes: ["lib/config/", "lib/net/", "lib/runtime/"] },
  { level: 0, prefixes: ["ffi/"] },
];

/** Where test and tool code lives: above every floor. */
const OUTSIDE = ["tests/", "bench/", "tools/"];

/** An import that breaks a rule. */
export interface Violation {
  file: string;
  line: number;
  target: string;
  why: string;
}

/** The floor and package (its prefix) of a repository path, or null when it has none. */
export function placeOf(path: string): { level: number; pkg: string } | null {
  for (const f of FLOORS) {
    for (const p of f.prefixes) {
      if (path === p || path.startsWith(p)) return { level: f.level, pkg: p };
    }
  }
  return null;
}

const STATIC =
  /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:\{[^}]*\}|\*\s*as\s+\w+|\*|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s*as\s+\w+))?)\s*from\s*["']([^"']+)["']/g;
const BARE = /(?:^|[\n;])\s*import\s*["']([^"']+)["']/g;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
const WORKER = /new\s+Worker\(\s*new\s+URL\(\s*["']([^"']+\.ts)["']\s*,\s*import\.meta\.url/g;

/** The relative `.ts` imports of a source text, with their line numbers. */
export function importsOf(text: string): { specifier: string; line: number }[] {
  const out: { specifier: string; line: number }[] = [];
  for (const re of [STATIC, BARE, DYNAMIC, WORKER]) {
    for (const m of text.matchAll(re)) {
      const specifier = m[1]!;
      if (!specifier.startsWith(".")) continue;
      const at = m.index! + m[0].lastIndexOf(specifier);
      out.push({ specifier, line: text.slice(0, at).split("\n").length });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Resolves `specifier` imported by `from` (both repository-relative) to a repository path. */
export function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of specifier.split("/")) {
    if (seg === "." || seg === "") continue;
    if (seg === "..") parts.pop();
    else parts.push(seg);
  }
  return parts.join("/");
}

const isOutside = (path: string) => OUTSIDE.some((p) => path.startsWith(p));

/** Checks every file (repository path -> text); returns the offending imports. */
export function checkImports(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  const edges = new Map<string, { file: string; line: number; target: string }>();
  for (const [file, text] of files) {
    if (isOutside(file)) continue;
    const from = placeOf(file);
    if (from === null) {
      out.push({ file, line: 1, target: "", why: "is on no floor (add it to tools/imports.ts)" });
      continue;
    }
    const isTest = file.endsWith("_test.ts");
    for (const { specifier, line } of importsOf(text)) {
      const target = resolve(file, specifier);
      if (isOutside(target)) {
        if (!(isTest && target.startsWith("tests/helpers/"))) {
          out.push({ file, line, target, why: "production code imports test or tool code" });
        }
        continue;
      }
      const to = placeOf(target);
      if (to === null) {
        out.push({ file, line, target, why: "imports a file on no floor" });
      } else if (to.level > from.level) {
        out.push({
          file,
          line,
          target,
          why: `goes up from floor ${from.level} (${from.pkg}) to floor ${to.level} (${to.pkg})`,
        });
      } else if (to.level === from.level && to.pkg !== from.pkg) {
        const key = `${from.pkg} -> ${to.pkg}`;
        if (!edges.has(key)) edges.set(key, { file, line, target });
      }
    }
  }
  // Sideways is fine one way only: two packages of a floor importing each other form a cycle.
  for (const [key, e] of edges) {
    const [a, b] = key.split(" -> ") as [string, string];
    if (a < b && edges.has(`${b} -> ${a}`)) {
      const back = edges.get(`${b} -> ${a}`)!;
      out.push({
        ...e,
        why: `${a} and ${b} import each other (also ${back.file}:${back.line})`,
      });
    }
  }
  return out;
}

/** Every .ts file below `root`, by repository path (dist/ and dot folders left out). */
export function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string, rel: string) => {
    for (const e of Deno.readDirSync(dir)) {
      if (e.name.startsWith(".") || e.name === "dist" || e.name === "node_modules") continue;
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory) walk(`${dir}/${e.name}`, path);
      else if (e.isFile && e.name.endsWith(".ts")) {
        files.set(path, Deno.readTextFileSync(`${dir}/${e.name}`));
      }
    }
  };
  walk(root, "");
  return files;
}

if (import.meta.main) {
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const files = readTree(root);
  const bad = checkImports(files);
  for (const v of bad) {
    console.error(`${v.file}:${v.line}: ${v.target === "" ? "" : `import ${v.target} `}${v.why}`);
  }
  if (bad.length > 0) {
    console.error(`imports: ${bad.length} import(s) against the floors (see tools/imports.ts)`);
    Deno.exit(1);
  }
  console.log(`imports: ${files.size} files, every import points down or sideways`);
}
