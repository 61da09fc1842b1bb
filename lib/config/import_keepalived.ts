/**
 * `haagent import-keepalived`: keepalived.conf -> haagent YAML. The conversion is pure
 * ({@linkcode importKeepalivedText} over a {@linkcode ReadFs}); {@linkcode importKeepalived}
 * adds the real file system. Every keyword that cannot be mapped becomes a warning, every
 * invalid value an error, both with file, line and column; the YAML holds what converted.
 *
 * @module
 */
import { Document, isMap, isPair, isScalar, isSeq, type Node, type Scalar } from "yaml";
import { formatIp, type IpAddress, parseIp, parseIpv4, parsePrefix } from "../net/ip.ts";
import { SCHEDULERS as SCHEDULER_NAMES } from "./schema.ts";
import {
  type KaIssue,
  type KaNode,
  normalizePath,
  parseKeepalived,
  type ReadFs,
} from "./keepalived_parser.ts";

export type { KaIssue, ReadFs } from "./keepalived_parser.ts";

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
  for (const n of parsed.nodes) {
    if (!vrrp.handled.has(n) && !lvs.handled.has(n)) ctx.unsupported(n);
  }
  const root = new Map<string, unknown>();
  if (Object.keys(vrrp.global).length > 0) root.set("global", vrrp.global);
  if (vrrp.scripts.size > 0) root.set("scripts", vrrp.scripts);
  if (vrrp.processes.size > 0) root.set("processes", vrrp.processes);
  if (vrrp.instances.size > 0) root.set("vrrp_instances", vrrp.instances);
  if (vrrp.syncGroups.size > 0) root.set("sync_groups", vrrp.syncGroups);
  if (lvs.groups.size > 0) root.set("virtual_server_groups", lvs.groups);
  if (lvs.servers.length > 0) root.set("virtual_servers", lvs.servers);

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

/** The real file system: `Deno.readTextFileSync` and a small glob (`*`, `?`, `[..]`, `{a,b}`). */
export const realFs: ReadFs = {
  readText(path: string): string | null {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return null;
    }
  },
  glob(pattern: string, relativeTo: string): string[] {
    const full = pattern.startsWith("/") ? pattern : `${relativeTo}/${pattern}`;
    const out = new Set<string>();
    for (const p of expandBraces(full)) for (const m of globOne(normalizePath(p))) out.add(m);
    return [...out].sort();
  },
};

/** Expands csh-style braces: `a{b,c}d` -> `abd`, `acd`. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf("{");
  if (open < 0) return [pattern];
  let depth = 0;
  const cuts: number[] = [];
  let close = -1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      close = i;
      break;
    } else if (c === "," && depth === 1) cuts.push(i);
  }
  if (close < 0) return [pattern];
  const pre = pattern.slice(0, open);
  const post = pattern.slice(close + 1);
  const bounds = [open, ...cuts, close];
  const out: string[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const alt = pattern.slice(bounds[k]! + 1, bounds[k + 1]!);
    out.push(...expandBraces(pre + alt + post));
  }
  return out;
}

/** Converts one glob path segment to a RegExp (`*`, `?`, `[...]`). */
export function segmentRegExp(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) re += "\\[";
      else {
        let body = seg.slice(i + 1, end);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function globOne(path: string): string[] {
  const abs = path.startsWith("/");
  const segs = path.split("/").filter((s) => s !== "");
  let cur = [abs ? "/" : "."];
  for (const [i, seg] of segs.entries()) {
    const last = i === segs.length - 1;
    const next: string[] = [];
    for (const dir of cur) {
      const join = (name: string) =>
        dir === "/" ? `/${name}` : dir === "." && !abs ? name : `${dir}/${name}`;
      if (!/[*?[]/.test(seg)) {
        next.push(join(seg));
        continue;
      }
      const re = segmentRegExp(seg);
      try {
        for (const e of Deno.readDirSync(dir)) {
          if (e.name.startsWith(".") && !seg.startsWith(".")) continue;
          if (re.test(e.name) && (last || e.isDirectory || e.isSymlink)) next.push(join(e.name));
        }
      } catch {
        // An unreadable directory matches nothing, as glob(3) does without GLOB_ERR.
      }
    }
    cur = next;
  }
  return cur.filter((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

// ---- issue collection and keepalived value readers -------------------------------------------

/** Collects issues while converting. */
class Ctx {
  readonly issues: KaIssue[] = [];
  /** keepalived's vrrp_strict (global) was set. */
  strict = false;

  warn(n: KaNode, message: string): void {
    this.issues.push({ file: n.file, line: n.line, col: n.col, message, severity: "warning" });
  }

  error(n: KaNode, message: string): void {
    this.issues.push({ file: n.file, line: n.line, col: n.col, message, severity: "error" });
  }

  unsupported(n: KaNode, why = ""): void {
    this.warn(n, `keyword "${n.keyword}" is not supported and was dropped${why && `: ${why}`}`);
  }

  /** The argument at `i`, or null with an error naming the keyword. */
  arg(n: KaNode, i = 0): string | null {
    const v = n.args[i];
    if (v === undefined) this.error(n, `${n.keyword}: missing value`);
    return v ?? null;
  }

  /** All arguments joined by spaces (a command line), or null with an error when there are none. */
  command(n: KaNode): string | null {
    if (n.args.length === 0) {
      this.error(n, `${n.keyword}: missing value`);
      return null;
    }
    return n.args.join(" ");
  }

  int(n: KaNode, min: number, max: number, i = 0): number | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    if (!/^-?[0-9]+$/.test(v)) {
      this.error(n, `${n.keyword}: "${v}" is not an integer in ${min}-${max}`);
      return null;
    }
    const x = Number(v);
    if (x < min || x > max) {
      this.error(n, `${n.keyword}: "${v}" is not in ${min}${min < 0 ? ".." : "-"}${max}`);
      return null;
    }
    return x;
  }

  /** A keepalived <TIMER> (decimal seconds, microsecond resolution) in milliseconds. */
  secondsMs(n: KaNode, maxSec: number, i = 0): number | null {
    const v = this.arg(n, i);
    if (v === null) return null;
    if (!/^[0-9]+(\.[0-9]+)?$/.test(v)) {
      this.error(n, `${n.keyword}: "${v}" is not a number of seconds`);
      return null;
    }
    const s = Number(v);
    if (s > maxSec) {
      this.error(n, `${n.keyword}: "${v}" is not in 0-${maxSec} seconds`);
      return null;
    }
    return Math.round(s * 1_000_000) / 1000;
  }

  /** An optional <BOOL> argument (absent means true). */
  bool(n: KaNode, i = 0): boolean | null {
    const v = n.args[i];
    if (v === undefined) return true;
    if (/^(on|true|yes)$/i.test(v)) return true;
    if (/^(off|false|no)$/i.test(v)) return false;
    this.error(n, `${n.keyword}: "${v}" is not one of on|off|true|false|yes|no`);
    return null;
  }

  ip(n: KaNode, v: string): IpAddress | null {
    const a = parseIp(v);
    if (a === null) this.error(n, `${n.keyword}: "${v}" is not an IP address`);
    return a;
  }

  /** Warns about arguments after the `used` ones. */
  extra(n: KaNode, used: number): void {
    if (n.args.length > used) {
      this.warn(n, `${n.keyword}: extra arguments "${n.args.slice(used).join(" ")}" were ignored`);
    }
  }

  /** Warns when a keyword that takes no block has one. */
  noBlock(n: KaNode): void {
    if (n.children !== null) this.warn(n, `${n.keyword}: the block after it was ignored`);
  }

  /** The block's children; an error when the keyword needs a block and has none. */
  block(n: KaNode): KaNode[] {
    if (n.children === null) {
      this.error(n, `${n.keyword}: expected a "{ ... }" block`);
      return [];
    }
    return n.children;
  }
}

type Handler<T> = (n: KaNode, out: T) => void;

/** Runs the handler for each child keyword; unknown keywords are reported as unsupported. */
function dispatch<T>(ctx: Ctx, nodes: KaNode[], table: Record<string, Handler<T>>, out: T): void {
  for (const n of nodes) {
    const h = Object.hasOwn(table, n.keyword) ? table[n.keyword] : undefined;
    if (h === undefined) ctx.unsupported(n);
    else h(n, out);
  }
}

type Obj = Record<string, unknown>;

/** Returns `o` with keys in `order` first (as listed), then any others. */
function ordered(o: Obj, order: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  for (const [k, v] of Object.entries(o)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** Formats milliseconds as a duration string: "1s", "100ms", "1.5s", "300s". */
export function formatMs(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms < 1000) return `${ms}ms`;
  return `${ms / 1000}s`;
}

/** `ADDR:PORT`, with brackets for IPv6. */
function hostPort(a: IpAddress, port: number): string {
  const t = formatIp(a.bytes);
  return a.family === "ipv6" ? `[${t}]:${port}` : `${t}:${port}`;
}

/** Simple setter handler: `out[key] = value(n)` when the value is valid. */
function set<T extends Obj>(key: string, value: (n: KaNode) => unknown, ctx: Ctx): Handler<T> {
  return (n, out) => {
    ctx.noBlock(n);
    const v = value(n);
    if (v !== null && v !== undefined) (out as Obj)[key] = v;
  };
}

// ---- VRRP: global_defs, vrrp_script, track_file, vrrp_instance, vrrp_sync_group ---------------

const GLOBAL_ORDER = [
  "router_id",
  "vrrp_version",
  "vrrp_mcast_group4",
  "vrrp_mcast_group6",
  "v3_checksum",
  "garp_master_delay",
  "garp_master_repeat",
  "garp_master_refresh",
  "garp_master_refresh_repeat",
  "garp_interval",
  "gna_interval",
  "script_user",
  "enable_script_security",
  "notification_email",
  "notification_email_from",
  "smtp_server",
  "smtp_connect_timeout",
  "smtp_alert",
  "smtp_alert_vrrp",
  "smtp_alert_checker",
  "no_email_faults",
  "realtime_priority",
  "checker_nice",
  "lvs_sync_daemon",
] as const;

const SCRIPT_ORDER = [
  "command",
  "interval",
  "timeout",
  "weight",
  "rise",
  "fall",
  "user",
  "init_fail",
] as const;

const INSTANCE_ORDER = [
  "interface",
  "vrid",
  "priority",
  "version",
  "family",
  "advert_interval",
  "state",
  "preempt",
  "preempt_delay",
  "authentication",
  "unicast_src_ip",
  "unicast_peers",
  "virtual_ipaddresses",
  "virtual_ipaddresses_excluded",
  "virtual_routes",
  "track_interfaces",
  "track_scripts",
  "track_files",
  "track_processes",
  "garp_master_delay",
  "garp_master_repeat",
  "garp_master_refresh",
  "accept",
  "notify_master",
  "notify_backup",
  "notify_fault",
  "notify_stop",
  "notify",
  "notify_fifo",
  "smtp_alert",
] as const;

const SYNC_ORDER = [
  "members",
  "notify_master",
  "notify_backup",
  "notify_fault",
  "notify_stop",
  "notify",
  "smtp_alert",
] as const;

const MAX_TIMER_SEC = 2_147_483;
const STRICT_WHY = "haagent has no strict mode; keepalived would refuse authentication and " +
  "unicast, default to no_accept (installing firewall DROP rules for the VIPs) and force " +
  "address owners to MASTER";

/** The result of converting the VRRP side. */
interface VrrpOut {
  global: Obj;
  scripts: Map<string, Obj>;
  processes: Map<string, Obj>;
  instances: Map<string, Obj>;
  instanceNodes: Map<string, KaNode>;
  syncGroups: Map<string, Obj>;
  trackFiles: Map<string, { path: string; weight: number }>;
  handled: Set<KaNode>;
}

/** An instance while it is being converted: the output plus what defaults depend on. */
interface InstanceDraft {
  out: Obj;
  node: KaNode;
  strict: boolean;
  nativeIpv6: boolean;
  vips: { value: unknown; family: string; node: KaNode }[];
  evips: { value: unknown; family: string; node: KaNode }[];
  advertMs: number | null;
  authNode: KaNode | null;
  auth: Obj | null;
  nopreemptNode: KaNode | null;
}

function convertVrrp(nodes: KaNode[], ctx: Ctx): VrrpOut {
  const r: VrrpOut = {
    global: {},
    scripts: new Map(),
    processes: new Map(),
    instances: new Map(),
    instanceNodes: new Map(),
    syncGroups: new Map(),
    trackFiles: new Map(),
    handled: new Set(),
  };
  let globalVersion = 2;
  let globalVersionNode: KaNode | null = null;
  let notifyFifo: string | null = null;

  const globalTable: Record<string, Handler<Obj>> = {
    router_id: set("router_id", (n) => (ctx.extra(n, 1), ctx.arg(n)), ctx),
    notification_email: (n, out) => {
      const list: string[] = [];
      for (const c of ctx.block(n)) list.push(c.keyword, ...c.args);
      out.notification_email = list;
    },
    notification_email_from: set("notification_email_from", (n) => ctx.arg(n), ctx),
    smtp_server: set("smtp_server", (n) => {
      const host = ctx.arg(n);
      if (host === null) return null;
      const port = n.args.length > 1 ? ctx.int(n, 1, 65535, 1) : 25;
      if (port === null) return null;
      const a = parseIp(host);
      return a === null ? `${host}:${port}` : hostPort(a, port);
    }, ctx),
    smtp_connect_timeout: set("smtp_connect_timeout", (n) => {
      const s = ctx.int(n, 1, MAX_TIMER_SEC);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    smtp_alert: set("smtp_alert", (n) => ctx.bool(n), ctx),
    smtp_alert_vrrp: set("smtp_alert_vrrp", (n) => ctx.bool(n), ctx),
    smtp_alert_checker: set("smtp_alert_checker", (n) => ctx.bool(n), ctx),
    no_email_faults: set("no_email_faults", (n) => (ctx.extra(n, 0), true), ctx),
    vrrp_mcast_group4: set("vrrp_mcast_group4", (n) => mcast(n, "ipv4"), ctx),
    vrrp_mcast_group6: set("vrrp_mcast_group6", (n) => mcast(n, "ipv6"), ctx),
    vrrp_version: (n) => {
      ctx.noBlock(n);
      globalVersionNode = n;
      const v = ctx.int(n, 2, 3);
      if (v !== null) globalVersion = v;
    },
    script_user: set("script_user", (n) => {
      if (n.args.length > 1) {
        ctx.warn(
          n,
          `script_user: group "${n.args[1]}" was dropped (haagent takes the user's group)`,
        );
      }
      return ctx.arg(n);
    }, ctx),
    enable_script_security: set("enable_script_security", (n) => (ctx.extra(n, 0), true), ctx),
    vrrp_garp_master_delay: set("garp_master_delay", (n) => secs(n, 0, 255), ctx),
    vrrp_garp_master_repeat: set("garp_master_repeat", (n) => ctx.int(n, 1, 255), ctx),
    vrrp_rt_priority: set("realtime_priority", (n) => ctx.int(n, 1, 99), ctx),
    checker_process_priority: set("checker_nice", (n) => ctx.int(n, -20, 19), ctx),
    lvs_sync_daemon: set("lvs_sync_daemon", (n) => {
      // lvs_sync_daemon IFACE INSTANCE [id N] [maxlen N] [port N] [ttl N] [group ADDR]
      const [iface, instance, ...rest] = n.args;
      if (iface === undefined || instance === undefined) {
        ctx.error(n, "lvs_sync_daemon: expected an interface and a vrrp_instance name");
        return null;
      }
      const out: Obj = { interface: iface, instance };
      const keys: Record<string, [string, number, number]> = {
        id: ["sync_id", 0, 255],
        maxlen: ["max_len", 1, 65507],
        port: ["port", 1, 65535],
        ttl: ["ttl", 1, 255],
      };
      for (let i = 0; i < rest.length; i += 2) {
        const k = rest[i]!;
        const at = 2 + i + 1;
        if (k === "group") {
          const a = ctx.arg(n, at);
          if (a !== null) out.group = a;
        } else if (keys[k] !== undefined) {
          const [key, min, max] = keys[k]!;
          const v = ctx.int(n, min, max, at);
          if (v !== null) out[key] = v;
        } else {
          ctx.warn(n, `lvs_sync_daemon: option "${k}" is not supported and was dropped`);
          i--;
        }
      }
      return out;
    }, ctx),
    vrrp_garp_master_refresh: set("garp_master_refresh", (n) => secs(n, 0, MAX_TIMER_SEC), ctx),
    vrrp_garp_interval: set("garp_interval", (n) => timer(n, 1), ctx),
    vrrp_gna_interval: set("gna_interval", (n) => timer(n, 1), ctx),
    vrrp_garp_master_refresh_repeat: set(
      "garp_master_refresh_repeat",
      (n) => ctx.int(n, 1, 255),
      ctx,
    ),
    vrrp_strict: (n) => {
      ctx.strict = true;
      ctx.unsupported(n, STRICT_WHY);
    },
    notify_fifo: (n) => fifo(n),
    vrrp_notify_fifo: (n) => fifo(n),
  };

  function fifo(n: KaNode): void {
    const f = ctx.arg(n);
    if (f === null) return;
    notifyFifo = f;
    if (n.args.length > 1) {
      ctx.warn(
        n,
        `${n.keyword}: the fifo reader script "${n.args.slice(1).join(" ")}" was dropped`,
      );
    }
    ctx.warn(n, `${n.keyword}: written as notify_fifo on every vrrp instance`);
  }

  function mcast(n: KaNode, family: "ipv4" | "ipv6"): string | null {
    const v = ctx.arg(n);
    if (v === null) return null;
    const a = parseIp(v);
    if (
      a === null || a.family !== family || !(a.bytes[0] === 0xff || (a.bytes[0]! & 0xf0) === 0xe0)
    ) {
      ctx.error(
        n,
        `${n.keyword}: "${v}" is not an ${family === "ipv4" ? "IPv4" : "IPv6"} multicast address`,
      );
      return null;
    }
    return formatIp(a.bytes);
  }

  function secs(n: KaNode, min: number, max: number): string | null {
    const s = ctx.int(n, min, max);
    return s === null ? null : formatMs(s * 1000);
  }

  function timer(n: KaNode, maxSec: number): string | null {
    const ms = ctx.secondsMs(n, maxSec);
    return ms === null ? null : formatMs(ms);
  }

  // Pass 1: blocks other sections refer to (global_defs, vrrp_script, track_file).
  for (const n of nodes) {
    if (n.keyword === "global_defs") {
      r.handled.add(n);
      dispatch(ctx, ctx.block(n), globalTable, r.global);
    } else if (n.keyword === "vrrp_script") {
      r.handled.add(n);
      const name = ctx.arg(n);
      if (name !== null) r.scripts.set(name, convertScript(n, ctx));
    } else if (n.keyword === "vrrp_track_process") {
      r.handled.add(n);
      const name = ctx.arg(n);
      if (name !== null) {
        const p = convertProcess(n, ctx);
        if (p !== null) r.processes.set(name, p);
      }
    } else if (n.keyword === "track_file" || n.keyword === "vrrp_track_file") {
      r.handled.add(n);
      const name = ctx.arg(n);
      if (name !== null) {
        const tf = convertTrackFile(n, ctx);
        if (tf !== null) r.trackFiles.set(name, tf);
      }
    }
  }
  if (globalVersionNode !== null || nodes.some((n) => n.keyword === "vrrp_instance")) {
    r.global.vrrp_version = globalVersion;
  }

  // Pass 2: instances, then sync groups (which refer to instances). An instance without
  // interface or vrid (an error) is left out so that the rest still loads.
  const declared = new Set<string>();
  for (const n of nodes) {
    if (n.keyword !== "vrrp_instance") continue;
    r.handled.add(n);
    const name = ctx.arg(n);
    if (name === null) continue;
    if (r.instances.has(name)) {
      ctx.error(n, `vrrp_instance: "${name}" is defined twice`);
      continue;
    }
    declared.add(name);
    const inst = convertInstance(n, name, ctx, r, globalVersion);
    if (inst.interface === undefined || inst.vrid === undefined) continue;
    if (notifyFifo !== null && inst.notify_fifo === undefined) inst.notify_fifo = notifyFifo;
    r.instances.set(name, ordered(inst, INSTANCE_ORDER));
    r.instanceNodes.set(name, n);
  }
  for (const n of nodes) {
    if (n.keyword !== "vrrp_sync_group") continue;
    r.handled.add(n);
    const name = ctx.arg(n);
    if (name === null) continue;
    const g = convertSyncGroup(n, ctx, r, declared);
    if (Array.isArray(g.members) && g.members.length > 0) r.syncGroups.set(name, g);
  }
  const usesV3 = [...r.instances.values()].some((i) => (i.version ?? globalVersion) === 3);
  if (usesV3) r.global.v3_checksum = "keepalived";
  r.global = ordered(r.global, GLOBAL_ORDER);
  return r;
}

function convertScript(n: KaNode, ctx: Ctx): Obj {
  const out: Obj = {};
  const table: Record<string, Handler<Obj>> = {
    script: set("command", (c) => ctx.command(c), ctx),
    interval: set("interval", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    timeout: set("timeout", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    weight: set("weight", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -253, 253);
    }, ctx),
    rise: set("rise", (c) => ctx.int(c, 1, 2_147_483_647), ctx),
    fall: set("fall", (c) => ctx.int(c, 1, 2_147_483_647), ctx),
    user: set("user", (c) => {
      if (c.args.length > 1) ctx.warn(c, `user: group "${c.args[1]}" was dropped`);
      return ctx.arg(c);
    }, ctx),
    init_fail: set("init_fail", (c) => (ctx.extra(c, 0), true), ctx),
  };
  dispatch(ctx, ctx.block(n), table, out);
  if (out.command === undefined) ctx.error(n, `vrrp_script ${n.args[0] ?? ""}: no "script" given`);
  return ordered(out, SCRIPT_ORDER);
}

const PROCESS_ORDER = [
  "process",
  "parameters",
  "param_match",
  "full_command",
  "quorum",
  "quorum_max",
  "weight",
  "fork_delay",
  "terminate_delay",
] as const;

function convertProcess(n: KaNode, ctx: Ctx): Obj | null {
  const out: Obj = {};
  dispatch(ctx, ctx.block(n), {
    process: (c) => {
      const name = ctx.arg(c);
      if (name === null) return;
      out.process = name;
      if (c.args.length > 1) out.parameters = c.args.slice(1).join(" ");
    },
    param_match: set("param_match", (c) => {
      const v = ctx.arg(c);
      if (v === null || ["exact", "initial", "partial"].includes(v)) return v;
      ctx.error(c, `param_match: "${v}" is not exact, initial or partial`);
      return null;
    }, ctx),
    full_command: set("full_command", (c) => (ctx.extra(c, 0), true), ctx),
    quorum: set("quorum", (c) => ctx.int(c, 1, 65535), ctx),
    quorum_max: set("quorum_max", (c) => ctx.int(c, 1, 65535), ctx),
    weight: set("weight", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported here and was dropped`);
      }
      return ctx.int(c, -253, 253);
    }, ctx),
    fork_delay: set("fork_delay", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    terminate_delay: set("terminate_delay", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    delay: (c) => {
      const ms = msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC));
      if (ms === null) return;
      out.fork_delay ??= ms;
      out.terminate_delay ??= ms;
    },
  }, out);
  if (typeof out.process !== "string") {
    ctx.error(n, `vrrp_track_process ${n.args[0] ?? ""}: no "process" given`);
    return null;
  }
  return ordered(out, PROCESS_ORDER);
}

function msOrNull(ms: number | null): string | null {
  return ms === null ? null : formatMs(ms);
}

function convertTrackFile(n: KaNode, ctx: Ctx): { path: string; weight: number } | null {
  const out: Obj = {};
  dispatch(ctx, ctx.block(n), {
    file: set("path", (c) => ctx.arg(c), ctx),
    weight: set("weight", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -2_147_483_647, 2_147_483_647);
    }, ctx),
  }, out);
  if (typeof out.path !== "string") {
    ctx.error(n, `${n.keyword} ${n.args[0] ?? ""}: no "file" given`);
    return null;
  }
  return { path: out.path, weight: typeof out.weight === "number" ? out.weight : 1 };
}

function convertInstance(
  n: KaNode,
  name: string,
  ctx: Ctx,
  r: VrrpOut,
  globalVersion: number,
): Obj {
  const d: InstanceDraft = {
    out: {},
    node: n,
    strict: ctx.strict,
    nativeIpv6: false,
    vips: [],
    evips: [],
    advertMs: null,
    authNode: null,
    auth: null,
    nopreemptNode: null,
  };
  const o = d.out;
  const notify = (key: string): Handler<Obj> => set(key, (c) => ctx.command(c), ctx);
  /** track_script / track_process: entries naming a block defined earlier, with a weight. */
  const trackNamed = (c: KaNode, key: string, defined: Map<string, unknown>, block: string) => {
    const list = (o[key] as unknown[] | undefined) ?? [];
    for (const t of ctx.block(c)) {
      if (!defined.has(t.keyword)) {
        ctx.error(t, `${c.keyword}: no ${block} named "${t.keyword}"`);
        continue;
      }
      const ref = trackRef(t, ctx, -253, 253, true);
      if (ref !== null) list.push(trackEntry(t.keyword, ref));
    }
    o[key] = list;
  };
  const table: Record<string, Handler<Obj>> = {
    state: set("state", (c) => {
      const v = ctx.arg(c);
      if (v === null || v === "MASTER" || v === "BACKUP") return v;
      ctx.error(c, `state: "${v}" is not MASTER or BACKUP`);
      return null;
    }, ctx),
    interface: set("interface", (c) => {
      const v = ctx.arg(c);
      if (v !== null && (v.length > 15 || v.includes("/") || v.includes(" "))) {
        ctx.error(c, `interface: "${v}" is not a valid interface name`);
        return null;
      }
      return v;
    }, ctx),
    virtual_router_id: set("vrid", (c) => ctx.int(c, 1, 255), ctx),
    priority: set("priority", (c) => ctx.int(c, 1, 255), ctx),
    advert_int: (c) => {
      ctx.noBlock(c);
      const ms = ctx.secondsMs(c, 255);
      if (ms === 0) ctx.error(c, `advert_int: "${c.args[0]}" must be more than 0`);
      else if (ms !== null) d.advertMs = ms;
    },
    version: set("version", (c) => ctx.int(c, 2, 3), ctx),
    vrrp_version: (c) =>
      ctx.warn(
        c,
        `keyword "vrrp_version" is not valid in vrrp_instance (keepalived 2.2.7 accepts it only ` +
          `in global_defs, and "version" here) and was dropped`,
      ),
    nopreempt: (c) => {
      ctx.noBlock(c);
      o.preempt = false;
      d.nopreemptNode = c;
    },
    preempt: (c) => {
      ctx.noBlock(c);
      o.preempt = true;
    },
    preempt_delay: set("preempt_delay", (c) => msOrNull(ctx.secondsMs(c, 1000)), ctx),
    authentication: (c) => {
      d.authNode = c;
      d.auth = {};
      dispatch(ctx, ctx.block(c), {
        auth_type: set("type", (a) => {
          const v = ctx.arg(a);
          if (v === "PASS" || v === "AH" || v === null) return v;
          ctx.error(a, `auth_type: "${v}" is not PASS or AH`);
          return null;
        }, ctx),
        auth_pass: set("password", (a) => {
          const v = ctx.arg(a);
          if (v !== null && v.length > 8) {
            ctx.warn(
              a,
              `auth_pass: longer than 8 characters; truncated to "${
                v.slice(0, 8)
              }" as keepalived does`,
            );
            return v.slice(0, 8);
          }
          return v;
        }, ctx),
      }, d.auth);
    },
    mcast_src_ip: (c, out) => table.unicast_src_ip!(c, out),
    unicast_src_ip: set("unicast_src_ip", (c) => {
      const v = ctx.arg(c);
      const a = v === null ? null : ctx.ip(c, v);
      return a === null ? null : formatIp(a.bytes);
    }, ctx),
    unicast_peer: (c) => {
      const peers: string[] = (o.unicast_peers as string[] | undefined) ?? [];
      for (const p of ctx.block(c)) {
        const a = ctx.ip(p, p.keyword);
        if (a !== null) peers.push(formatIp(a.bytes));
        if (p.args.length > 0) {
          ctx.warn(
            p,
            `unicast_peer: options "${p.args.join(" ")}" are not supported and were dropped`,
          );
        }
      }
      o.unicast_peers = peers;
    },
    virtual_ipaddress: (c) => {
      for (const v of ctx.block(c)) {
        const vip = convertVip(v, ctx);
        if (vip !== null) d.vips.push({ ...vip, node: v });
      }
    },
    virtual_ipaddress_excluded: (c) => {
      for (const v of ctx.block(c)) {
        const vip = convertVip(v, ctx);
        if (vip !== null) d.evips.push({ ...vip, node: v });
      }
    },
    virtual_routes: (c) => {
      const routes = (o.virtual_routes as Obj[] | undefined) ?? [];
      for (const rt of ctx.block(c)) {
        const x = convertRoute(rt, ctx);
        if (x !== null) routes.push(x);
      }
      o.virtual_routes = routes;
    },
    track_interface: (c) => {
      const list = (o.track_interfaces as unknown[] | undefined) ?? [];
      for (const t of ctx.block(c)) {
        const ref = trackRef(t, ctx, -253, 253, true);
        if (ref !== null) list.push(trackEntry(t.keyword, ref));
      }
      o.track_interfaces = list;
    },
    track_script: (c) => trackNamed(c, "track_scripts", r.scripts, "vrrp_script"),
    track_process: (c) => trackNamed(c, "track_processes", r.processes, "vrrp_track_process"),
    track_file: (c) => {
      const list = (o.track_files as unknown[] | undefined) ?? [];
      for (const t of ctx.block(c)) {
        const tf = r.trackFiles.get(t.keyword);
        if (tf === undefined) {
          ctx.error(t, `track_file: no track_file block named "${t.keyword}"`);
          continue;
        }
        const ref = trackRef(t, ctx, -254, 254, false);
        if (ref !== null) list.push({ path: tf.path, weight: ref.weight ?? tf.weight });
      }
      o.track_files = list;
    },
    use_vmac: (c) =>
      ctx.unsupported(
        c,
        "haagent does not create VMAC interfaces; the VIPs use the interface's own MAC",
      ),
    notify_master: notify("notify_master"),
    notify_backup: notify("notify_backup"),
    notify_fault: notify("notify_fault"),
    notify_stop: notify("notify_stop"),
    notify: notify("notify"),
    smtp_alert: set("smtp_alert", (c) => ctx.bool(c), ctx),
    garp_master_delay: set("garp_master_delay", (c) => {
      const s = ctx.int(c, 0, 255);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    garp_master_repeat: set("garp_master_repeat", (c) => ctx.int(c, 1, 255), ctx),
    garp_master_refresh: set("garp_master_refresh", (c) => {
      const s = ctx.int(c, 0, MAX_TIMER_SEC);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    accept: set("accept", (c) => (ctx.extra(c, 0), true), ctx),
    no_accept: set("accept", (c) => (ctx.extra(c, 0), false), ctx),
    native_ipv6: (c) => {
      ctx.noBlock(c);
      d.nativeIpv6 = true;
    },
    strict_mode: (c) => {
      const b = ctx.bool(c);
      if (b !== null) d.strict = b;
      if (b === true) ctx.unsupported(c, STRICT_WHY);
    },
    dont_track_primary: (c) =>
      ctx.unsupported(c, "haagent always tracks the instance's interface (FAULT when it is down)"),
  };
  dispatch(ctx, ctx.block(n), table, o);
  finishInstance(d, name, ctx, globalVersion);
  return o;
}

/** Applies keepalived's derived defaults and checks (vrrp.c vrrp_complete_instance). */
function finishInstance(d: InstanceDraft, name: string, ctx: Ctx, globalVersion: number): void {
  const o = d.out;
  const n = d.node;
  // A missing key is reported here; an invalid one was reported where it stands.
  const has = (k: string) => (n.children ?? []).some((c) => c.keyword === k);
  if (o.interface === undefined && !has("interface")) {
    ctx.error(n, `vrrp_instance ${name}: no "interface" given`);
  }
  if (o.vrid === undefined && !has("virtual_router_id")) {
    ctx.error(n, `vrrp_instance ${name}: no "virtual_router_id" given`);
  }
  const family = d.nativeIpv6 ? "ipv6" : (d.vips[0]?.family ?? d.evips[0]?.family ?? "ipv4");
  if (d.nativeIpv6 && d.vips[0]?.family !== "ipv6") o.family = "ipv6";
  let version = (o.version as number | undefined) ?? globalVersion;
  if (family === "ipv6" && version === 2) {
    ctx.warn(
      n,
      `vrrp_instance ${name}: IPv6 needs VRRP version 3; written as version 3 as keepalived does`,
    );
    o.version = version = 3;
  }
  // No priority: 255 for state MASTER, else 100. No state: MASTER only for priority 255.
  if (o.priority === undefined) o.priority = o.state === "MASTER" ? 255 : 100;
  if (o.state === undefined) o.state = o.priority === 255 ? "MASTER" : "BACKUP";
  let ms = d.advertMs ?? 1000;
  if (version === 2 && ms % 1000 !== 0) {
    const r = Math.max(1000, Math.round(ms / 1000) * 1000);
    ctx.warn(
      n,
      `vrrp_instance ${name}: VRRPv2 advert_int must be whole seconds; ${formatMs(ms)} rounded to ${
        formatMs(r)
      } as keepalived does`,
    );
    ms = r;
  } else if (version === 3 && ms % 10 !== 0) {
    const r = Math.max(10, Math.round(ms / 10) * 10);
    ctx.warn(
      n,
      `vrrp_instance ${name}: VRRPv3 advert_int must be in units of 10ms; ${
        formatMs(ms)
      } rounded to ${formatMs(r)} as keepalived does`,
    );
    ms = r;
  }
  if (version === 3 && ms > 40950) {
    ctx.error(n, `vrrp_instance ${name}: advert_int ${formatMs(ms)} is more than VRRPv3's 40.95s`);
  }
  o.advert_interval = formatMs(ms);
  if (d.nopreemptNode !== null && o.priority === 255) {
    ctx.warn(d.nopreemptNode, "nopreempt: ignored with priority 255, as keepalived does");
    delete o.preempt;
  }
  if (d.authNode !== null && d.auth !== null) {
    const a = d.auth;
    const why = d.strict
      ? "strict mode does not allow authentication"
      : version === 3
      ? "VRRP version 3 has no authentication"
      : a.password === undefined
      ? "no auth_pass given"
      : a.type === "AH"
      ? "AH authentication is not supported"
      : a.type === undefined
      ? "no auth_type given"
      : "";
    if (why === "") o.authentication = { type: a.type, password: a.password };
    else ctx.warn(d.authNode, `authentication: dropped (${why}), as keepalived ignores it too`);
  }
  const vips: unknown[] = [];
  const evips: unknown[] = d.evips.map((e) => e.value);
  for (const v of d.vips) {
    if (v.family === family) vips.push(v.value);
    else {
      ctx.warn(
        v.node,
        `virtual_ipaddress: ${v.family} address in an ${family} instance; moved to virtual_ipaddresses_excluded as keepalived does`,
      );
      evips.push(v.value);
    }
  }
  if (vips.length > 0) o.virtual_ipaddresses = vips;
  if (evips.length > 0) o.virtual_ipaddresses_excluded = evips;
  if (vips.length === 0) ctx.warn(n, `vrrp_instance ${name}: no virtual_ipaddress given`);
  // keepalived's accept default: on (as haagent's), except in strict mode for non-owners.
  if (o.accept === undefined && o.priority !== 255 && d.strict) o.accept = false;
  if (o.preempt === undefined && o.preempt_delay !== undefined) o.preempt = true;
}

/** A parsed `NAME [weight W [reverse|noreverse]]` line of a track_* block. */
interface TrackRef {
  weight?: number;
  reverse: boolean;
}

/** Parses a track_* line; null (with an error) when it is malformed. */
function trackRef(
  t: KaNode,
  ctx: Ctx,
  min: number,
  max: number,
  reverseOk: boolean,
): TrackRef | null {
  if (t.args.length === 0) return { reverse: false };
  if (t.args[0] !== "weight") {
    ctx.error(t, `${t.keyword}: expected "weight N", got "${t.args.join(" ")}"`);
    return null;
  }
  const w = ctx.int(t, min, max, 1);
  if (w === null) return null;
  const reverse = t.args[2] === "reverse";
  if (reverse && !reverseOk) {
    ctx.warn(t, `${t.keyword}: "reverse" is not supported and was dropped`);
  }
  if (t.args[2] !== "reverse" && t.args[2] !== "noreverse") ctx.extra(t, 2);
  return { weight: w, reverse: reverse && reverseOk };
}

/** A track list entry: the bare name when there is nothing else to say. */
function trackEntry(name: string, ref: TrackRef): unknown {
  if (ref.weight === undefined) return name;
  return ref.reverse ? { name, weight: ref.weight, reverse: true } : { name, weight: ref.weight };
}

const SCOPES = new Set(["global", "site", "link", "host", "nowhere"]);

/** One `virtual_ipaddress` line: `ADDR[/LEN] [dev IF] [label L] [scope S] [brd B] ...`. */
function convertVip(v: KaNode, ctx: Ctx): { value: unknown; family: string } | null {
  const p = parsePrefix(v.keyword);
  if (p === null) {
    ctx.error(v, `virtual_ipaddress: "${v.keyword}" is not an address or ADDRESS/PREFIX`);
    return null;
  }
  const address = `${formatIp(p.bytes)}/${p.prefix}`;
  const o: Obj = { address };
  const a = v.args;
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!;
    const takesValue = [
      "dev",
      "label",
      "scope",
      "brd",
      "broadcast",
      "peer",
      "preferred_lft",
      "track_group",
    ];
    if (takesValue.includes(k) && a[i + 1] === undefined) {
      ctx.error(v, `virtual_ipaddress: "${k}" needs a value`);
      break;
    }
    if (k === "dev") o.device = a[++i];
    else if (k === "label") o.label = a[++i];
    else if (k === "scope") {
      const s = a[++i]!;
      if (SCOPES.has(s) || /^[0-9]+$/.test(s) && Number(s) <= 255) o.scope = s;
      else {ctx.error(
          v,
          `virtual_ipaddress: scope "${s}" is not global|site|link|host|nowhere|0-255`,
        );}
    } else if (["brd", "broadcast", "peer", "preferred_lft", "track_group"].includes(k)) {
      ctx.warn(v, `virtual_ipaddress: option "${k} ${a[++i]}" is not supported and was dropped`);
    } else if (
      ["home", "-nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track"].includes(k)
    ) {
      ctx.warn(v, `virtual_ipaddress: option "${k}" is not supported and was dropped`);
    } else {
      ctx.error(v, `virtual_ipaddress: unknown option "${k}"`);
    }
  }
  return { value: Object.keys(o).length === 1 ? address : o, family: p.family };
}

const ROUTE_TABLES: Record<string, number> = { local: 255, main: 254, default: 253 };
const ROUTE_TYPES = new Set(["blackhole", "unreachable", "prohibit", "throw"]);

/** One `virtual_routes` line: `[TYPE] [src A] [to] PREFIX [via|gw A] [dev IF] [table T] ...`. */
function convertRoute(rt: KaNode, ctx: Ctx): Obj | null {
  const words = [rt.keyword, ...rt.args];
  const o: Obj = {};
  const prefix = (w: string): string | null => {
    const x = w === "default" ? "0.0.0.0/0" : w === "default6" ? "::/0" : w;
    const p = parsePrefix(x);
    if (p === null) {
      ctx.error(rt, `virtual_routes: "${w}" is not an address or ADDRESS/PREFIX`);
      return null;
    }
    return `${formatIp(p.bytes)}/${p.prefix}`;
  };
  const addr = (w: string | undefined): string | null => {
    if (w === undefined) {
      ctx.error(rt, "virtual_routes: missing address");
      return null;
    }
    const a = ctx.ip(rt, w);
    return a === null ? null : formatIp(a.bytes);
  };
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!;
    if (i === 0 && k === "blackhole") o.blackhole = true;
    else if (i === 0 && ROUTE_TYPES.has(k)) {
      ctx.warn(rt, `virtual_routes: "${k}" routes are not supported; the route was dropped`);
      return null;
    } else if (k === "src") o.src = addr(words[++i]) ?? undefined;
    else if (k === "to") o.to = prefix(words[++i] ?? "") ?? undefined;
    else if (k === "via" || k === "gw") o.via = addr(words[++i]) ?? undefined;
    else if (k === "dev") o.device = words[++i];
    else if (k === "table") {
      const t = words[++i] ?? "";
      const id = /^[0-9]+$/.test(t) ? Number(t) : ROUTE_TABLES[t];
      if (id === undefined || id < 1 || id > 4294967295) {
        ctx.error(rt, `virtual_routes: table "${t}" is not 1-4294967295, local, main or default`);
      } else o.table = id;
    } else if (k === "metric" || k === "preference" || k === "priority") {
      const m = words[++i] ?? "";
      if (/^[0-9]+$/.test(m)) o.metric = Number(m);
      else ctx.error(rt, `virtual_routes: metric "${m}" is not a number`);
    } else if (k === "scope") {
      ctx.warn(rt, `virtual_routes: option "scope ${words[++i]}" is not supported and was dropped`);
    } else if (o.to === undefined && !k.match(/^[a-z_]+$/)) o.to = prefix(k) ?? undefined;
    else if (k === "no_track" || k === "onlink") {
      ctx.warn(rt, `virtual_routes: option "${k}" is not supported and was dropped`);
    } else {
      ctx.warn(
        rt,
        `virtual_routes: option "${k}${
          words[i + 1] === undefined ? "" : " " + words[i + 1]
        }" is not supported and was dropped`,
      );
      i++;
    }
  }
  if (o.to === undefined) {
    ctx.error(rt, "virtual_routes: no destination given");
    return null;
  }
  return ordered(o, ["to", "via", "src", "device", "table", "metric", "blackhole"]);
}

function convertSyncGroup(n: KaNode, ctx: Ctx, r: VrrpOut, declared: Set<string>): Obj {
  const out: Obj = {};
  const notify = (key: string): Handler<Obj> => set(key, (c) => ctx.command(c), ctx);
  dispatch(ctx, ctx.block(n), {
    group: (c) => {
      const members: string[] = [];
      for (const m of ctx.block(c)) {
        for (const name of [m.keyword, ...m.args]) {
          if (r.instances.has(name)) members.push(name);
          else if (!declared.has(name)) ctx.error(m, `group: no vrrp_instance named "${name}"`);
        }
      }
      out.members = members;
    },
    notify_master: notify("notify_master"),
    notify_backup: notify("notify_backup"),
    notify_fault: notify("notify_fault"),
    notify_stop: notify("notify_stop"),
    notify: notify("notify"),
    smtp_alert: set("smtp_alert", (c) => ctx.bool(c), ctx),
  }, out);
  if (out.members === undefined) {
    ctx.error(n, `vrrp_sync_group ${n.args[0] ?? ""}: no "group" given`);
  }
  return ordered(out, SYNC_ORDER);
}

// ---- LVS: virtual_server_group, virtual_server, real_server, checkers ------------------------

const SCHEDULERS: ReadonlySet<string> = new Set(SCHEDULER_NAMES);

const VS_ORDER = [
  "address",
  "fwmark",
  "group",
  "family",
  "protocol",
  "scheduler",
  "scheduler_flags",
  "forwarding",
  "tunnel_type",
  "tunnel_port",
  "persistence_timeout",
  "persistence_granularity",
  "delay_loop",
  "inhibit_on_failure",
  "quorum",
  "hysteresis",
  "quorum_up",
  "quorum_down",
  "smtp_alert",
  "alpha",
  "omega",
  "ops",
  "sorry_server",
  "real_servers",
] as const;

const RS_ORDER = [
  "address",
  "weight",
  "forwarding",
  "upper_threshold",
  "lower_threshold",
  "inhibit_on_failure",
  "notify_up",
  "notify_down",
  "smtp_alert",
  "checks",
] as const;

const CHECK_ORDER = [
  "type",
  "connect_ip",
  "connect_port",
  "bindto",
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "delay_loop",
  "warmup",
  "alpha",
  "bind_port",
  "bind_if",
  "fwmark",
  "log_all_failures",
  "urls",
  "http_protocol",
  "fast_recovery",
  "enable_sni",
  "misc_path",
  "misc_timeout",
  "misc_dynamic",
  "user",
  "helo_name",
  "dns_type",
  "dns_name",
  "payload",
  "require_reply",
  "min_reply_length",
  "max_reply_length",
  "file",
  "weight_multiplier",
  "dynamic",
] as const;

/** Checker settings a virtual or real server passes down to its checkers. */
const INHERITED = [
  "connect_timeout",
  "retry",
  "delay_before_retry",
  "warmup",
  "delay_loop",
  "alpha",
  "virtualhost",
] as const;

/** The result of converting the LVS side. */
interface LvsOut {
  groups: Map<string, unknown[]>;
  servers: Obj[];
  serverNodes: KaNode[];
  handled: Set<KaNode>;
}

function convertLvs(
  nodes: KaNode[],
  ctx: Ctx,
  trackFiles: Map<string, { path: string; weight: number }>,
): LvsOut {
  const r: LvsOut = { groups: new Map(), servers: [], serverNodes: [], handled: new Set() };
  for (const n of nodes) {
    if (n.keyword !== "virtual_server_group") continue;
    r.handled.add(n);
    const name = ctx.arg(n);
    if (name !== null) r.groups.set(name, convertGroup(n, ctx));
  }
  for (const n of nodes) {
    if (n.keyword !== "virtual_server") continue;
    r.handled.add(n);
    const vs = convertVirtualServer(n, ctx, r, trackFiles);
    if (vs !== null) {
      r.servers.push(vs);
      r.serverNodes.push(n);
    }
  }
  return r;
}

/** `ADDR PORT` -> `ADDR:PORT` (IPv6 in brackets), or null with an error. */
function endpoint(n: KaNode, ctx: Ctx, addrAt: number, portRequired: boolean): string | null {
  const v = ctx.arg(n, addrAt);
  if (v === null) return null;
  const a = ctx.ip(n, v);
  if (a === null) return null;
  if (n.args[addrAt + 1] === undefined) {
    if (portRequired) {
      ctx.error(n, `${n.keyword}: missing port after "${v}"`);
      return null;
    }
    return formatIp(a.bytes);
  }
  const port = ctx.int(n, 0, 65535, addrAt + 1);
  return port === null ? null : hostPort(a, port);
}

function convertGroup(n: KaNode, ctx: Ctx): unknown[] {
  const out: unknown[] = [];
  for (const e of ctx.block(n)) {
    if (e.keyword === "fwmark") {
      const m = ctx.int(e, 1, 4_294_967_295);
      if (m !== null) out.push({ fwmark: m });
      continue;
    }
    const range = /^(.+)-([0-9a-fA-F]+)$/.exec(e.keyword);
    const base = range === null ? null : parseIp(range[1]!);
    if (range !== null && base !== null) {
      const end = base.family === "ipv4" ? Number(range[2]) : parseInt(range[2]!, 16);
      const first = base.family === "ipv4"
        ? base.bytes[3]!
        : (base.bytes[14]! << 8) | base.bytes[15]!;
      const max = base.family === "ipv4" ? 255 : 0xffff;
      if (base.family === "ipv4" && !/^[0-9]+$/.test(range[2]!) || end < first || end > max) {
        ctx.error(e, `virtual_server_group: range "${e.keyword}" does not end above its start`);
        continue;
      }
      if (e.args[0] === undefined) {
        ctx.error(e, `virtual_server_group: missing port after "${e.keyword}"`);
        continue;
      }
      const port = ctx.int(e, 0, 65535, 0);
      if (port !== null) {
        out.push({ range: `${formatIp(base.bytes)}-${range[2]}`, port });
      }
      ctx.extra(e, 1);
      continue;
    }
    const a = ctx.ip(e, e.keyword);
    if (a === null) continue;
    if (e.args[0] === undefined) {
      ctx.error(e, `virtual_server_group: missing port after "${e.keyword}"`);
      continue;
    }
    const port = ctx.int(e, 0, 65535, 0);
    if (port !== null) out.push(hostPort(a, port));
    ctx.extra(e, 1);
  }
  return out;
}

const CHECK_TYPES = [
  "TCP_CHECK",
  "HTTP_GET",
  "SSL_GET",
  "MISC_CHECK",
  "SMTP_CHECK",
  "DNS_CHECK",
  "UDP_CHECK",
  "PING_CHECK",
  "FILE_CHECK",
] as const;

function lvsMethod(c: KaNode, ctx: Ctx, o: Obj): void {
  ctx.noBlock(c);
  const v = ctx.arg(c);
  if (v === null) return;
  if (v !== "NAT" && v !== "DR" && v !== "TUN") {
    ctx.error(c, `${c.keyword}: "${v}" is not NAT, DR or TUN`);
    return;
  }
  o.forwarding = v;
  if (v === "TUN" && c.args[1] === "type") {
    const t = c.args[2];
    if (t === "ipip" || t === "gue" || t === "gre") o.tunnel_type = t;
    else ctx.error(c, `${c.keyword}: tunnel type "${t ?? ""}" is not ipip, gue or gre`);
    let used = 3;
    if (t === "gue" && c.args[3] === "port") {
      const port = ctx.int(c, 1, 65535, 4);
      if (port !== null) o.tunnel_port = port;
      used = 5;
    }
    if (c.args.length > used) {
      ctx.warn(
        c,
        `${c.keyword}: tunnel options "${
          c.args.slice(used).join(" ")
        }" are not supported and were dropped`,
      );
    }
  } else ctx.extra(c, 1);
}

/** Handlers for the checker settings shared by virtual_server, real_server and checkers. */
function commonCheckTable(ctx: Ctx): Record<string, Handler<Obj>> {
  return {
    connect_timeout: set("connect_timeout", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    retry: set("retry", (c) => ctx.int(c, 0, 1000), ctx),
    delay_before_retry: set(
      "delay_before_retry",
      (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)),
      ctx,
    ),
    warmup: set("warmup", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    delay_loop: set("delay_loop", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx),
    alpha: set("alpha", (c) => ctx.bool(c), ctx),
    virtualhost: set("virtualhost", (c) => ctx.arg(c), ctx),
  };
}

function convertVirtualServer(
  n: KaNode,
  ctx: Ctx,
  r: LvsOut,
  trackFiles: Map<string, { path: string; weight: number }>,
): Obj | null {
  const o: Obj = {};
  if (n.args[0] === "fwmark") {
    const m = ctx.int(n, 1, 4_294_967_295, 1);
    if (m === null) return null;
    o.fwmark = m;
  } else if (n.args[0] === "group") {
    const g = ctx.arg(n, 1);
    if (g === null) return null;
    if (!r.groups.has(g)) {
      ctx.error(n, `virtual_server: no virtual_server_group named "${g}"`);
      return null;
    }
    o.group = g;
  } else {
    const ep = endpoint(n, ctx, 0, true);
    if (ep === null) return null;
    o.address = ep;
  }
  const flag = (name: string): Handler<Obj> => (c) => {
    ctx.noBlock(c);
    const flags = (o.scheduler_flags as string[] | undefined) ?? [];
    if (!flags.includes(name)) flags.push(name);
    o.scheduler_flags = flags;
  };
  const realServers: Obj[] = [];
  const sched: Handler<Obj> = (c) => {
    ctx.noBlock(c);
    const v = ctx.arg(c);
    if (v === null) return;
    if (SCHEDULERS.has(v)) o.scheduler = v;
    else ctx.error(c, `${c.keyword}: "${v}" is not one of ${[...SCHEDULERS].join(" ")}`);
  };
  const table: Record<string, Handler<Obj>> = {
    ...commonCheckTable(ctx),
    lb_algo: sched,
    lvs_sched: sched,
    "sh-port": flag("sh-port"),
    "sh-fallback": flag("sh-fallback"),
    "mh-port": flag("mh-port"),
    "mh-fallback": flag("mh-fallback"),
    "flag-1": flag("flag-1"),
    "flag-2": flag("flag-2"),
    "flag-3": flag("flag-3"),
    ip_family: set("family", (c) => {
      const v = ctx.arg(c);
      if (v === "inet") return "ipv4";
      if (v === "inet6") return "ipv6";
      if (v !== null) ctx.error(c, `ip_family: "${v}" is not inet or inet6`);
      return null;
    }, ctx),
    lb_kind: (c, out) => lvsMethod(c, ctx, out),
    lvs_method: (c, out) => lvsMethod(c, ctx, out),
    protocol: set("protocol", (c) => {
      const v = ctx.arg(c);
      if (v === null || v === "TCP" || v === "UDP" || v === "SCTP") return v;
      ctx.error(c, `protocol: "${v}" is not TCP, UDP or SCTP`);
      return null;
    }, ctx),
    persistence_timeout: set("persistence_timeout", (c) => {
      if (c.args.length === 0) return "360s";
      const s = ctx.int(c, 1, 2_678_400);
      return s === null ? null : formatMs(s * 1000);
    }, ctx),
    persistence_granularity: set("persistence_granularity", (c) => {
      const v = ctx.arg(c);
      if (v === null) return null;
      if (parseIpv4(v) !== null || /^[0-9]+$/.test(v) && Number(v) <= 128) return v;
      ctx.error(c, `persistence_granularity: "${v}" is not a netmask or IPv6 prefix length`);
      return null;
    }, ctx),
    inhibit_on_failure: set("inhibit_on_failure", (c) => ctx.bool(c), ctx),
    quorum: set("quorum", (c) => ctx.int(c, 1, 2_147_483_647), ctx),
    hysteresis: set("hysteresis", (c) => ctx.int(c, 0, 2_147_483_647), ctx),
    quorum_up: set("quorum_up", (c) => ctx.command(c), ctx),
    quorum_down: set("quorum_down", (c) => ctx.command(c), ctx),
    smtp_alert: set("smtp_alert", (c) => ctx.bool(c), ctx),
    omega: set("omega", (c) => ctx.bool(c), ctx),
    ops: set("ops", (c) => (ctx.extra(c, 0), true), ctx),
    sorry_server: set("sorry_server", (c) => endpoint(c, ctx, 0, false), ctx),
    real_server: (c) => {
      const rs = convertRealServer(c, ctx, trackFiles);
      if (rs !== null) realServers.push(rs);
    },
  };
  dispatch(ctx, ctx.block(n), table, o);
  // keepalived 2.2.7 sets UDP (with a config error) when a service by address has no
  // protocol (check_data.c); haagent's default is TCP, so UDP is written out.
  const byAddress = o.address !== undefined ||
    (o.group !== undefined &&
      (r.groups.get(o.group as string) ?? []).some((e) =>
        typeof e === "string" || "range" in (e as Obj)
      ));
  if (byAddress && o.protocol === undefined) {
    o.protocol = "UDP";
    ctx.warn(
      n,
      "virtual_server: no protocol given; keepalived 2.2.7 uses UDP then, written as UDP",
    );
  }
  // wlc and NAT are the defaults of both; written out for the reader.
  o.scheduler ??= "wlc";
  o.forwarding ??= "NAT";
  // Checker settings given on the virtual server are defaults for every checker below it;
  // delay_loop and alpha also mean something on the virtual server itself and stay there.
  const inherit = takeInherited(o, ["delay_loop", "alpha"]);
  for (const rs of realServers) {
    const checks = rs.checks as Obj[];
    for (const chk of checks) applyInherited(chk, inherit);
    if (checks.length > 0) rs.checks = checks.map((c) => ordered(c, CHECK_ORDER));
    else delete rs.checks;
  }
  if (realServers.length > 0) o.real_servers = realServers;
  else ctx.warn(n, `virtual_server ${n.args.join(" ")}: no real_server given`);
  return ordered(o, VS_ORDER);
}

/** Moves the inherited checker settings out of `o` (except `keep`, which are copied). */
function takeInherited(o: Obj, keep: readonly string[]): Obj {
  const out: Obj = {};
  for (const k of INHERITED) {
    if (o[k] === undefined) continue;
    out[k] = o[k];
    if (!keep.includes(k)) delete o[k];
  }
  for (const k of keep) delete out[k];
  return out;
}

/** Fills a checker's unset settings from its real or virtual server's. */
function applyInherited(chk: Obj, from: Obj): void {
  for (const k of INHERITED) {
    if (from[k] === undefined || chk.type === "FILE_CHECK") continue;
    if (k === "connect_timeout" && chk.type === "MISC_CHECK") continue;
    if (k === "virtualhost") {
      for (const u of (chk.urls as Obj[] | undefined) ?? []) u.virtualhost ??= from[k];
    } else if (chk[k] === undefined) chk[k] = from[k];
  }
}

function convertRealServer(
  n: KaNode,
  ctx: Ctx,
  trackFiles: Map<string, { path: string; weight: number }>,
): Obj | null {
  const address = endpoint(n, ctx, 0, false);
  if (address === null) return null;
  const o: Obj = { address };
  const checks: Obj[] = [];
  const checker = (type: string): Handler<Obj> => (c) => {
    checks.push(...convertCheck(c, type, ctx, trackFiles));
  };
  const table: Record<string, Handler<Obj>> = {
    ...commonCheckTable(ctx),
    weight: set("weight", (c) => ctx.int(c, 0, 65535), ctx),
    lvs_method: (c, out) => lvsMethod(c, ctx, out),
    lb_kind: (c, out) => lvsMethod(c, ctx, out),
    uthreshold: set("upper_threshold", (c) => ctx.int(c, 0, 2_147_483_647), ctx),
    lthreshold: set("lower_threshold", (c) => ctx.int(c, 0, 2_147_483_647), ctx),
    inhibit_on_failure: set("inhibit_on_failure", (c) => ctx.bool(c), ctx),
    notify_up: set("notify_up", (c) => ctx.command(c), ctx),
    notify_down: set("notify_down", (c) => ctx.command(c), ctx),
    smtp_alert: set("smtp_alert", (c) => ctx.bool(c), ctx),
  };
  for (const t of CHECK_TYPES) table[t] = checker(t);
  dispatch(ctx, ctx.block(n), table, o);
  const inherit = takeInherited(o, []);
  for (const chk of checks) applyInherited(chk, inherit);
  o.weight ??= 1;
  if (checks.length > 0) o.checks = checks;
  o.checks = checks;
  return ordered(o, RS_ORDER);
}

/** One checker block -> haagent checks (SMTP_CHECK with several `host` blocks -> several). */
function convertCheck(
  n: KaNode,
  type: string,
  ctx: Ctx,
  trackFiles: Map<string, { path: string; weight: number }>,
): Obj[] {
  const o: Obj = { type };
  const hosts: Obj[] = [];
  const timing = commonCheckTable(ctx);
  delete timing.virtualhost;
  timing.log_all_failures = set("log_all_failures", (c) => ctx.bool(c), ctx);
  const base: Record<string, Handler<Obj>> = {
    ...timing,
    bind_port: set("bind_port", (c) => ctx.int(c, 1, 65535), ctx),
    bind_if: set("bind_if", (c) => ctx.arg(c), ctx),
    fwmark: set("fwmark", (c) => ctx.int(c, 1, 4_294_967_295), ctx),
    connect_ip: set("connect_ip", (c) => {
      const v = ctx.arg(c);
      const a = v === null ? null : ctx.ip(c, v);
      return a === null ? null : formatIp(a.bytes);
    }, ctx),
    connect_port: set("connect_port", (c) => ctx.int(c, 1, 65535), ctx),
    bindto: set("bindto", (c) => {
      const v = ctx.arg(c);
      const a = v === null ? null : ctx.ip(c, v);
      return a === null ? null : formatIp(a.bytes);
    }, ctx),
  };
  const table: Record<string, Handler<Obj>> = type === "FILE_CHECK"
    ? {}
    : type === "MISC_CHECK"
    ? { ...timing }
    : { ...base };
  if (type === "HTTP_GET" || type === "SSL_GET") {
    table.nb_get_retry = set("retry", (c) => ctx.int(c, 0, 1000), ctx);
    table.virtualhost = set("virtualhost", (c) => ctx.arg(c), ctx);
    table.fast_recovery = set("fast_recovery", (c) => ctx.bool(c), ctx);
    table.url = (c, out) => {
      const urls = (out.urls as Obj[] | undefined) ?? [];
      const u = convertUrl(c, ctx);
      if (u !== null) urls.push(u);
      out.urls = urls;
    };
    table.http_protocol = set("http_protocol", (c) => {
      const v = ctx.arg(c);
      if (v === "1.0" || v === "1.1" || v === null) return v;
      if (/^1\.0[cC]$/.test(v)) return "1.0C";
      ctx.error(c, `http_protocol: "${v}" is not 1.0, 1.0C or 1.1`);
      return null;
    }, ctx);
    if (type === "SSL_GET") table.enable_sni = set("enable_sni", (c) => ctx.bool(c), ctx);
  } else if (type === "MISC_CHECK") {
    delete table.connect_timeout;
    table.misc_path = set("misc_path", (c) => ctx.command(c), ctx);
    table.misc_timeout = set("misc_timeout", (c) => msOrNull(ctx.secondsMs(c, MAX_TIMER_SEC)), ctx);
    table.misc_dynamic = set("misc_dynamic", (c) => ctx.bool(c), ctx);
    table.user = set("user", (c) => {
      if (c.args.length > 1) ctx.warn(c, `user: group "${c.args[1]}" was dropped`);
      return ctx.arg(c);
    }, ctx);
  } else if (type === "SMTP_CHECK") {
    table.helo_name = set("helo_name", (c) => ctx.arg(c), ctx);
    table.host = (c) => {
      const h: Obj = {};
      dispatch(ctx, ctx.block(c), base, h);
      hosts.push(h);
    };
  } else if (type === "DNS_CHECK") {
    table.type = set("dns_type", (c) => {
      const v = ctx.arg(c)?.toUpperCase() ?? null;
      if (v === null || ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"].includes(v)) return v;
      ctx.error(c, `type: "${c.args[0]}" is not A, NS, CNAME, SOA, MX, TXT or AAAA`);
      return null;
    }, ctx);
    table.name = set("dns_name", (c) => ctx.arg(c), ctx);
  } else if (type === "UDP_CHECK") {
    table.payload = set("payload", (c) => hexPayload(c, ctx), ctx);
    table.require_reply = set("require_reply", (c) => {
      if (c.args.length > 0) {
        ctx.warn(
          c,
          "require_reply: matching the reply against data is not supported; any reply is accepted",
        );
      }
      return true;
    }, ctx);
    table.min_reply_length = set("min_reply_length", (c) => ctx.int(c, 0, 65535), ctx);
    table.max_reply_length = set("max_reply_length", (c) => ctx.int(c, 0, 65535), ctx);
  } else if (type === "FILE_CHECK") {
    table.dynamic = set("dynamic", (c) => ctx.bool(c), ctx);
    table.track_file = set("file", (c) => {
      const name = ctx.arg(c);
      if (name === null) return null;
      const tf = trackFiles.get(name);
      if (tf === undefined) ctx.error(c, `track_file: no track_file block named "${name}"`);
      return tf?.path ?? null;
    }, ctx);
    table.weight = set("weight_multiplier", (c) => {
      if (c.args[1] === "reverse") {
        ctx.warn(c, `weight: "reverse" is not supported and was dropped`);
      }
      return ctx.int(c, -2_147_483_647, 2_147_483_647);
    }, ctx);
  }
  dispatch(ctx, ctx.block(n), table, o);
  if (type === "FILE_CHECK" && o.file === undefined) {
    ctx.error(n, `FILE_CHECK: no "track_file" given`);
    return [];
  }
  if (type === "MISC_CHECK" && o.misc_path === undefined) {
    ctx.error(n, `MISC_CHECK: no "misc_path" given`);
    return [];
  }
  if ((type === "HTTP_GET" || type === "SSL_GET") && o.urls === undefined) {
    ctx.error(n, `${type}: no "url" given`);
    return [];
  }
  if (o.virtualhost !== undefined) {
    for (const u of (o.urls as Obj[] | undefined) ?? []) u.virtualhost ??= o.virtualhost;
    delete o.virtualhost;
  }
  if (hosts.length === 0) return [ordered(o, CHECK_ORDER)];
  return hosts.map((h) => ordered({ ...o, ...h }, CHECK_ORDER));
}

function convertUrl(n: KaNode, ctx: Ctx): Obj | null {
  const u: Obj = {};
  dispatch(ctx, ctx.block(n), {
    path: set("path", (c) => ctx.arg(c), ctx),
    digest: set("digest", (c) => {
      const v = ctx.arg(c);
      if (v === null || /^[0-9a-fA-F]{32}$/.test(v)) return v?.toLowerCase() ?? null;
      ctx.error(c, `digest: "${v}" is not an MD5 digest (32 hex digits)`);
      return null;
    }, ctx),
    status_code: (c, out) => {
      const codes: (number | string)[] = (out.status_code as (number | string)[] | undefined) ?? [];
      for (const v of c.args) {
        const m = /^([0-9]{3})(?:-([0-9]{3}))?$/.exec(v);
        if (m === null || Number(m[1]) < 100 || Number(m[2] ?? m[1]) < Number(m[1])) {
          ctx.error(c, `status_code: "${v}" is not a status code or range (100-599)`);
        } else codes.push(m[2] === undefined ? Number(v) : v);
      }
      if (c.args.length === 0) ctx.error(c, "status_code: missing value");
      if (codes.length > 0) out.status_code = codes;
    },
    regex: set("regex", (c) => ctx.arg(c), ctx),
    regex_no_match: set("regex_no_match", (c) => ctx.bool(c), ctx),
    virtualhost: set("virtualhost", (c) => ctx.arg(c), ctx),
  }, u);
  if (u.path === undefined) {
    ctx.error(n, `url: no "path" given`);
    return null;
  }
  return ordered(u, ["path", "status_code", "digest", "regex", "regex_no_match", "virtualhost"]);
}

/** keepalived's free-form HEX_STR ("Ab12f 3 456") -> "hex:ab120f0345 06". */
function hexPayload(n: KaNode, ctx: Ctx): string | null {
  let out = "";
  for (const w of n.args) {
    if (!/^[0-9a-fA-F]+$/.test(w)) {
      ctx.error(n, `${n.keyword}: "${w}" is not hex digits`);
      return null;
    }
    for (let i = 0; i < w.length; i += 2) {
      out += (w.length - i === 1 ? "0" : "") + w.slice(i, i + 2);
    }
  }
  if (out === "") {
    ctx.error(n, `${n.keyword}: missing value`);
    return null;
  }
  return `hex:${out.toLowerCase()}`;
}
