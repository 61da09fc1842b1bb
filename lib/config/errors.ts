/**
 * Configuration problems with their place in the file, and how they are printed.
 *
 * @module
 */

/** One problem found in a configuration file. */
export interface ConfigIssue {
  /** The file as the user named it. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** Dotted path of the field, e.g. `vrrp_instances.VI_1.priority`; `""` for the whole file. */
  path: string;
  /** What is wrong, with what was expected in parentheses. */
  message: string;
  /** Errors make the file invalid; warnings do not. */
  severity: "error" | "warning";
}

/** A place in a file (1-based line and column). */
export interface SourcePos {
  line: number;
  col: number;
}

/** Formats an issue as `FILE:LINE:COL: [warning: ]path.to.field: what is wrong (expected)`. */
export function formatIssue(i: ConfigIssue): string {
  const sev = i.severity === "warning" ? "warning: " : "";
  const path = i.path === "" ? "" : `${i.path}: `;
  return `${i.file}:${i.line}:${i.col}: ${sev}${path}${i.message}`;
}

/** Orders issues by file position, then path, so output is stable. */
export function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  return a.line - b.line || a.col - b.col || a.path.localeCompare(b.path);
}
