/**
 * YAML text -> validated, normalized Config. Parses with positions, walks the document against
 * the schema table (walker.ts over schema.ts), fills defaults that depend on other settings
 * (defaults.ts), then runs the cross-field rules (rules.ts). Every problem is reported, each
 * with file, line, column and path.
 *
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { compareIssues, type ConfigIssue, type SourcePos } from "./errors.ts";
import { CONFIG } from "./schema.ts";
import { nodeWords, walkConfig, Walker } from "./walker.ts";
import { resolveDefaults } from "./defaults.ts";
import { checkRules, type LoadOptions } from "./rules.ts";
import type { Config } from "./types.ts";

export type { LoadOptions } from "./rules.ts";

/** The outcome of loading: a Config and warnings, or every error found. */
export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigIssue[]; positions: Map<string, SourcePos> }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };
/** Parses and validates configuration text; pure (no file or host access beyond `opts`). */
export function loadConfigText(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lc,
    uniqueKeys: true,
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

function finish(w: Walker, config: Config | null): LoadResult {
  const errors = [...w.errors].sort(compareIssues);
  const warnings = [...w.warnings].sort(compareIssues);
  if (config === null || errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config, warnings, positions: w.positions };
}

/** Reads and validates a configuration file; an unreadable or empty file is an error at 1:1. */
export async function loadConfigFile(path: string, opts: LoadOptions = {}): Promise<LoadResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    const issue: ConfigIssue = {
      file: path,
      line: 1,
      col: 1,
      path: "",
      message: `cannot read the file: ${why}`,
      severity: "error",
    };
    return { ok: false, errors: [issue], warnings: [] };
  }
  return loadConfigText(text, path, opts);
}
