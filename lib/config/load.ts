/**
 * YAML text -> validated, normalized Config. Parses with positions, walks the document against
 * the schema table (walker.ts over schema.ts), fills defaults that depend on other settings
 * (defaults.ts), then runs the cross-field rules (rules.ts). Every problem is reported, each
 * with file, line, column and path. Before and after parsing, the limits of yaml_limits.ts
 * refuse what would cost too much to walk (an alias bomb, deep nesting, huge lists), and the
 * file is read by read_file.ts (regular files only, at most 16 MiB, strict UTF-8).
 *
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument } from "./yaml.ts";
import { compareIssues, type ConfigIssue, type SourcePos } from "./errors.ts";
import { CONFIG } from "./schema.ts";
import { nodeWords, walkConfig, Walker } from "./walker.ts";
import { resolveDefaults } from "./defaults.ts";
import { checkRules, type LoadOptions } from "./rules.ts";
import type { Config } from "./types.ts";
import { MAX_FILE_BYTES, MAX_ISSUES } from "./limits.ts";
import { readConfigFile } from "./read_file.ts";
import { checkStructure, scanDepth } from "./yaml_limits.ts";

export type { LoadOptions } from "./rules.ts";

/** The outcome of loading: a Config and warnings, or every error found. */
export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigIssue[]; positions: Map<string, SourcePos> }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };
/** Parses and validates configuration text; pure (no file or host access beyond `opts`). */
export function loadConfigText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  if (text.length > MAX_FILE_BYTES) {
    return refused(
      file,
      1,
      1,
      `the text has ${text.length} characters (at most ${MAX_FILE_BYTES})`,
    );
  }
  // The parser recurses once per level: refuse deep nesting before it overflows the stack.
  const deep = scanDepth(text);
  if (deep !== null) return refused(file, deep.line, deep.col, deep.message);
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    // Duplicate keys are found by checkStructure (the parser's check is quadratic).
    uniqueKeys: false,
    merge: true,
    prettyErrors: true,
  });
  const w = new Walker(file, lc, doc);
  const seen = new Set<string>();
  for (const e of doc.errors) {
    const at = e.linePos?.[0] ?? { line: 1, col: 1 };
    if (seen.has(`${at.line}:${at.col}`)) continue;
    seen.add(`${at.line}:${at.col}`);
    w.error(at, "", `YAML syntax: ${e.message.split(/ at line \d+, column \d+/)[0]!.trim()}`);
  }
  if (w.errors.length > 0) return finish(w, null);
  const structure = checkStructure(doc, lc);
  for (const i of structure.issues) w.error({ line: i.line, col: i.col }, "", i.message);
  if (structure.issues.length > 0) return finish(w, null);
  w.aliases = structure.aliases;
  const root = doc.contents;
  w.positions.set("", { line: 1, col: 1 });
  if (root === null || (isScalar(root) && root.value === null)) {
    w.error(
      { line: 1, col: 1 },
      "",
      "the file is empty (expected a mapping with vrrp_instances and/or virtual_servers)",
    );
    return finish(w, null);
  }
  if (!isMap(root)) {
    w.error(
      w.posOf(root),
      "",
      `${nodeWords(root)} is not allowed here (expected a mapping of sections: ${
        Object.keys(CONFIG.fields).join(", ")
      })`,
    );
    return finish(w, null);
  }
  const walked = walkConfig(w, root);
  if (walked === null) return finish(w, null);
  const config = resolveDefaults(walked, w);
  checkRules(config, w, opts);
  return finish(w, config);
}

function refused(file: string, line: number, col: number, message: string): LoadResult {
  return {
    ok: false,
    errors: [{ file, line, col, path: "", message, severity: "error" }],
    warnings: [],
  };
}

function finish(w: Walker, config: Config | null): LoadResult {
  const errors = [...w.errors].sort(compareIssues);
  const warnings = [...w.warnings].sort(compareIssues);
  const more = (list: ConfigIssue[], n: number, what: string) => {
    const last = list[list.length - 1];
    if (n === 0 || last === undefined) return;
    list.push({
      ...last,
      path: "",
      message: `${n} more ${what} not shown (at most ${MAX_ISSUES} are reported)`,
    });
  };
  more(errors, w.dropped.errors, "errors");
  more(warnings, w.dropped.warnings, "warnings");
  if (config === null || errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config, warnings, positions: w.positions };
}

/**
 * Reads and validates a configuration file; an unreadable, non-regular, oversized or non-UTF-8
 * file is one error (at 1:1, or at the first invalid byte).
 */
export async function loadConfigFile(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const r = await readConfigFile(path);
  if (!r.ok) return refused(path, r.line, r.col, r.message);
  return loadConfigText(r.text, path, opts);
}
