/**
 * What a keepalived keyword becomes, read from the schema: each key's `keepalived:` annotation
 * names the keywords that set it in the matching keepalived block (schema.ts SpecBase), so the
 * schema is the one table of the mapping. This module derives, per section, the keyword ->
 * key table, the key order of the YAML, and a converter for every key whose value keepalived
 * writes as plain words (text, integers, booleans, timers in seconds, enums, addresses, lists
 * of words). Conversions that are more than that stay as code in the section's converter,
 * keyed by keyword, and take precedence.
 *
 * @module
 */
import { formatIp, parseIp } from "../../net/ip.ts";
import { CONFIG, type Spec } from "../schema.ts";
import { normalizeScalar } from "../scalars.ts";
import { type Ctx, formatMs, type Handler, MAX_TIMER_SEC, type Obj } from "./context.ts";
import type { KaNode } from "./parser.ts";

/** The fields of one schema object, as the importer sees them. */
export type Fields = Readonly<Record<string, Spec>>;

/** What a keyword of a section sets. */
export interface Target {
  key: string;
  spec: Spec;
  /**
   * A boolean keyword that takes no value (keepalived ignores words after it): `(flag)` in the
   * annotation sets true, `(false)` sets false (`nopreempt (false)`).
   */
  flag?: boolean;
}

const KEYWORD = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * The keywords of an annotation: `"lb_algo / lvs_sched"` -> lb_algo, lvs_sched;
 * `"nopreempt (false)"` -> nopreempt; text that is not keywords (`"virtual_server IP PORT"`,
 * `"TCP_CHECK, HTTP_GET, ... blocks"`, `"-p"`) -> none.
 */
export function keywordsOf(annotation: string | undefined): string[] {
  return annotated(annotation).map((a) => a.keyword);
}

/** The keywords of an annotation with their notes (`"nopreempt (false)"` -> note "false"). */
function annotated(annotation: string | undefined): { keyword: string; note?: string }[] {
  if (annotation === undefined) return [];
  const out: { keyword: string; note?: string }[] = [];
  for (const part of annotation.split(" / ")) {
    const m = /^(\S+)(?: \(([^)]*)\))?$/.exec(part.trim());
    if (m === null || !KEYWORD.test(m[1]!)) continue;
    out.push(m[2] === undefined ? { keyword: m[1]! } : { keyword: m[1]!, note: m[2] });
  }
  return out;
}

const tables = new WeakMap<Fields, Map<string, Target>>();

/** keyword -> key for the fields of one section (aliases included; first key wins). */
export function keywordTable(fields: Fields): ReadonlyMap<string, Target> {
  let t = tables.get(fields);
  if (t === undefined) {
    t = new Map();
    for (const [key, spec] of Object.entries(fields)) {
      for (const { keyword, note } of annotated(spec.keepalived)) {
        if (t.has(keyword)) continue;
        const flag = note === "flag" ? true : note === "false" ? false : undefined;
        t.set(keyword, flag === undefined ? { key, spec } : { key, spec, flag });
      }
    }
    tables.set(fields, t);
  }
  return t;
}

/** The YAML key order of a section: the schema's. */
export function keyOrder(fields: Fields): readonly string[] {
  return Object.keys(fields);
}

function obj(s: Spec | undefined): Fields {
  if (s?.kind !== "object") throw new Error("schema: expected an object");
  return s.fields;
}
function item(s: Spec | undefined): Spec {
  if (s?.kind !== "list" && s?.kind !== "map") throw new Error("schema: expected a list or map");
  return s.of;
}
function variants(s: Spec | undefined): Readonly<Record<string, Fields>> {
  if (s?.kind !== "tagged") throw new Error("schema: expected a tagged spec");
  return s.variants;
}

const C: Fields = obj(CONFIG);
const INSTANCE = obj(item(C.vrrp_instances));
const VIRTUAL_SERVER = obj(item(C.virtual_servers));
const REAL_SERVER = obj(item(VIRTUAL_SERVER.real_servers));
const CHECKS = variants(item(REAL_SERVER.checks));

/** The schema sections the importer fills, by keepalived block. */
export const SECTIONS = {
  global: obj(C.global),
  lvsSyncDaemon: obj(obj(C.global).lvs_sync_daemon),
  script: obj(item(C.scripts)),
  process: obj(item(C.processes)),
  instance: INSTANCE,
  authentication: obj(INSTANCE.authentication),
  syncGroup: obj(item(C.sync_groups)),
  virtualServer: VIRTUAL_SERVER,
  realServer: REAL_SERVER,
  url: obj(item(CHECKS.HTTP_GET?.urls)),
} as const satisfies Record<string, Fields>;

/** The fields of one checker type (TCP_CHECK, HTTP_GET, ...); none for an unknown type. */
export function checkFields(type: string): Fields {
  return CHECKS[type] ?? {};
}

/**
 * The converter of a key whose keepalived value is plain words, or null when the key needs
 * code. Invalid words are reported by the reader (as keepalived reports and ignores them).
 */
export function converterFor(spec: Spec): ((ctx: Ctx, n: KaNode) => unknown) | null {
  switch (spec.kind) {
    case "string":
      if (spec.command !== undefined) {
        const kind = spec.command;
        return (ctx, n) => ctx.script(n, kind);
      }
      return (ctx, n) => {
        const v = ctx.arg(n);
        if (v === null) return null;
        const r = normalizeScalar(spec, v, v);
        if (!r.ok) {
          ctx.error(n, `${n.keyword}: ${r.reason}`);
          return null;
        }
        return r.value;
      };
    case "int":
      return (ctx, n) => ctx.int(n, spec.min, spec.max);
    case "bool":
      return (ctx, n) => ctx.bool(n);
    case "duration":
      return (ctx, n) => {
        const ms = ctx.secondsMs(n, Math.min(MAX_TIMER_SEC, (spec.maxMs ?? Infinity) / 1000));
        if (ms === null) return null;
        if (spec.minMs !== undefined && ms < spec.minMs) {
          ctx.error(n, `${n.keyword}: "${n.args[0]}" is below ${formatMs(spec.minMs)}`);
          return null;
        }
        return formatMs(ms);
      };
    case "enum":
      return (ctx, n) => ctx.oneOf(n, spec.values);
    case "ip":
      return (ctx, n) => {
        const v = ctx.arg(n);
        if (v === null) return null;
        const r = normalizeScalar(spec, v, v);
        if (!r.ok) {
          ctx.warn(
            n,
            `${n.keyword}: ${r.reason}; keepalived ignores the line, and so does the import`,
          );
          return null;
        }
        return r.value;
      };
    case "list":
      if (spec.of.kind !== "string" && spec.of.kind !== "ip") return null;
      return (ctx, n) => {
        const out: string[] = [];
        for (const c of ctx.block(n)) {
          for (const w of [c.keyword, ...c.args]) {
            if (spec.of.kind === "ip") {
              const a = parseIp(w);
              if (a === null) ctx.warn(c, `${n.keyword}: "${w}" is not an IP address; ignored`);
              else out.push(formatIp(a.bytes));
            } else out.push(w);
          }
        }
        return out;
      };
    default:
      return null;
  }
}

/** The handler a section's table gets for a keyword the schema maps and code does not. */
export function genericHandler(ctx: Ctx, t: Target): Handler<Obj> | null {
  if (t.spec.kind === "bool" && t.flag !== undefined) {
    const value = t.flag;
    return (n, out) => {
      ctx.noBlock(n);
      out[t.key] = value;
    };
  }
  const convert = converterFor(t.spec);
  if (convert === null) return null;
  return (n, out) => {
    if (t.spec.kind !== "list") ctx.noBlock(n);
    const v = convert(ctx, n);
    if (v !== null && v !== undefined) out[t.key] = v;
  };
}

/**
 * Runs the handler for each child keyword: the section's own code first (`table`), else the
 * conversion the schema gives the keyword (`fields`, mapping.ts); anything else is reported as
 * unsupported. Words of a line that no handler read are reported after it.
 */
export function dispatch<T extends Obj>(
  ctx: Ctx,
  nodes: KaNode[],
  table: Record<string, Handler<T>>,
  out: T,
  fields?: Fields,
): void {
  const schema = fields === undefined ? undefined : keywordTable(fields);
  const isKeyword = (w: string) => Object.hasOwn(table, w) || (schema?.has(w) ?? false);
  for (const n of nodes) {
    let h: Handler<T> | null | undefined = Object.hasOwn(table, n.keyword)
      ? table[n.keyword]
      : undefined;
    const target = schema?.get(n.keyword);
    if (h === undefined && target !== undefined) h = genericHandler(ctx, target);
    if (h === undefined || h === null) {
      ctx.unsupported(
        n,
        target === undefined ? "" : `haagent bug: ${target.key} has no conversion (please report)`,
      );
      continue;
    }
    h(n, out);
    ctx.leftover(n, isKeyword);
  }
}
