/**
 * `haagent import-keepalived`: keepalived.conf -> haagent YAML. The conversion is pure
 * ({@linkcode importKeepalivedText} over a {@linkcode ReadFs}); {@linkcode importKeepalived}
 * adds the real file system. Every keyword that cannot be mapped becomes a warning, every
 * invalid value an error, both with file, line and column; the YAML holds what converted.
 *
 * @module
 */
import { convertStatics } from "./keepalived/routing_lines.ts";
import { Document, isMap, isPair, isScalar, isSeq, type Node, type Scalar } from "yaml";
import { Ctx } from "./keepalived/context.ts";
import { convertLvs } from "./keepalived/lvs.ts";
import { type KaIssue, type KaNode, parseKeepalived, type ReadFs } from "./keepalived/parser.ts";
import { realFs } from "./keepalived/glob.ts";
import { convertVrrp } from "./keepalived/vrrp.ts";

export type { KaIssue, ReadFs } from "./keepalived/parser.ts";
export { expandBraces, realFs, segmentRegExp } from "./keepalived/glob.ts";
export { formatMs } from "./keepalived/context.ts";

/** The converted YAML with what was dropped (warnings) and what was invalid (errors). */
export interface ImportResult {
  yaml: string;
  warnings: KaIssue[];
  errors: KaIssue[];
}

/** Options of the importer. */
export interface ImportOptions {
  /** keepalived's config-id (`-i`) for `@id` conditional lines; none by default. */
  configId?: string;
}

/** Formats an issue: `FILE:LINE:COL: warning: MESSAGE` or `FILE:LINE:COL: MESSAGE` for errors. */
export function formatKaIssue(i: KaIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.severity === "warning" ? "warning: " : ""}${i.message}`;
}

/** Reads keepalived.conf at `path` (and its includes) and converts it to haagent YAML. */
export function importKeepalived(
  path: string,
  fs: ReadFs = realFs,
  opts: ImportOptions = {},
): ImportResult {
  const text = fs.readText(path);
  if (text === null) {
    const e: KaIssue = {
      file: path,
      line: 1,
      col: 1,
      message: "cannot read file",
      severity: "error",
    };
    return { yaml: "", warnings: [], errors: [e] };
  }
  return importKeepalivedText(text, path, fs, opts);
}

/** Converts keepalived.conf text (named `file`; includes read through `fs`) to haagent YAML. */
export function importKeepalivedText(
  text: string,
  file: string,
  fs: ReadFs,
  opts: ImportOptions = {},
): ImportResult {
  const parsed = parseKeepalived(text, file, fs, opts);
  const ctx = new Ctx();
  ctx.issues.push(...parsed.errors);
  const vrrp = convertVrrp(parsed.nodes, ctx);
  const lvs = convertLvs(parsed.nodes, ctx, vrrp.trackFiles);
  const statics = convertStatics(parsed.nodes, ctx);
  for (const n of parsed.nodes) {
    if (!vrrp.handled.has(n) && !lvs.handled.has(n) && !statics.handled.has(n)) {
      ctx.unsupported(n);
    }
  }
  const root = new Map<string, unknown>();
  if (Object.keys(vrrp.global).length > 0) root.set("global", vrrp.global);
  if (vrrp.scripts.size > 0) root.set("scripts", vrrp.scripts);
  if (vrrp.processes.size > 0) root.set("processes", vrrp.processes);
  if (vrrp.instances.size > 0) root.set("vrrp_instances", vrrp.instances);
  if (vrrp.syncGroups.size > 0) root.set("sync_groups", vrrp.syncGroups);
  if (lvs.groups.size > 0) root.set("virtual_server_groups", lvs.groups);
  if (lvs.servers.length > 0) root.set("virtual_servers", lvs.servers);
  if (statics.addresses.length > 0) root.set("static_ipaddresses", statics.addresses);
  if (statics.routes.length > 0) root.set("static_routes", statics.routes);
  if (statics.rules.length > 0) root.set("static_rules", statics.rules);

  const doc = new Document(root);
  doc.commentBefore = ` haagent configuration imported from ${file} by haagent import-keepalived.` +
    `\n Review the warnings it printed: dropped keepalived keywords are not repeated here.`;
  const where = (n: KaNode) => `${n.file}:${n.line}`;
  const instMap = doc.get("vrrp_instances", true);
  if (isMap(instMap)) {
    for (const pair of instMap.items) {
      const name = String((pair.key as Scalar).value);
      const src = vrrp.instanceNodes.get(name);
      if (src !== undefined && isScalar(pair.key)) {
        pair.key.commentBefore = ` vrrp_instance ${name} (${where(src)})`;
      }
    }
  }
  const vsSeq = doc.get("virtual_servers", true);
  if (isSeq(vsSeq)) {
    vsSeq.items.forEach((item, i) => {
      const src = lvs.serverNodes[i];
      if (src !== undefined && item !== null && typeof item === "object") {
        (item as Node).commentBefore = ` virtual_server ${src.args.join(" ")} (${where(src)})`;
      }
    });
  }
  const top = doc.contents;
  if (isMap(top)) {
    for (const pair of top.items) {
      const v = pair.value as Node;
      if (isMap(v)) { for (const p of v.items) flowSmall(p.value as Node, false); }
      else flowSmall(v, false);
      if (isScalar(pair.key) && pair !== top.items[0]) pair.key.spaceBefore = true;
    }
  }
  const yaml = doc.toString({ lineWidth: 100, minContentWidth: 40, flowCollectionPadding: false });
  const sorted = [...ctx.issues].sort(compareIssues);
  return {
    yaml,
    warnings: sorted.filter((i) => i.severity === "warning"),
    errors: sorted.filter((i) => i.severity === "error"),
  };
}

function compareIssues(a: KaIssue, b: KaIssue): number {
  return a.file === b.file ? a.line - b.line || a.col - b.col : 0;
}

/** Writes maps and lists of plain values inside lists (and lists of plain values) in flow style. */
function flowSmall(node: Node | null, inSeq: boolean): void {
  if (isSeq(node)) {
    if (node.items.every((x) => isScalar(x))) node.flow = true;
    for (const x of node.items) flowSmall(x as Node, true);
  } else if (isMap(node)) {
    const plain = node.items.every((p) => isPair(p) && (isScalar(p.value) || isFlowSeq(p.value)));
    if (plain && (inSeq || node.items.length <= 2) && flowWidth(node) <= 72) node.flow = true;
    for (const p of node.items) flowSmall(p.value as Node, false);
  }
}

/** About how wide a map of plain values is when written on one line. */
function flowWidth(node: Node): number {
  return String(node).length + (isMap(node) ? node.items.length * 4 : 0);
}

function isFlowSeq(n: unknown): boolean {
  return isSeq(n) && n.items.every((x) => isScalar(x));
}
