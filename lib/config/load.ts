/**
 * YAML text -> validated, normalized Config. Parses with positions, walks the document against
 * the schema table (schema.ts), fills defaults that depend on other settings, then runs the
 * cross-field rules (at the end of this file). Every problem is reported, each with file, line, column and path.
 *
 * @module
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node, Pair } from "yaml";
import { formatIp, parseIp, parsePrefix } from "../net/ip.ts";
import { compareIssues, type ConfigIssue, type SourcePos } from "./errors.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { CONFIG, outName, type Spec } from "./schema.ts";
import { checkerAlerts, vrrpAlerts } from "./alerts.ts";
import { suggest } from "./suggest.ts";
import type {
  CheckConfig,
  Config,
  Family,
  RealServerConfig,
  VirtualServerConfig,
  VrrpInstanceConfig,
  VsGroupEntry,
} from "./types.ts";

/** How the file is judged against the host it will run on. */
export interface LoadOptions {
  /** When given, an interface it says does not exist is a warning. */
  interfaceExists?: (name: string) => boolean;
}

/** The outcome of loading: a Config and warnings, or every error found. */
export type LoadResult =
  | { ok: true; config: Config; warnings: ConfigIssue[]; positions: Map<string, SourcePos> }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

const INVALID: unique symbol = Symbol("invalid");
type Out = unknown;

/** Collects issues and positions while walking one document. */
export class Walker {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  /** Position of every field path seen. */
  readonly positions = new Map<string, SourcePos>();
  /** Path of every object produced, for the rules that report on objects. */
  readonly pathOf = new WeakMap<object, string>();

  constructor(
    readonly file: string,
    readonly lc: LineCounter,
    readonly doc: Document.Parsed | null,
  ) {}

  /** Position of a node's first character. */
  posOf(node: { range?: [number, number, number] | null } | null | undefined): SourcePos {
    const off = node?.range?.[0] ?? 0;
    const p = this.lc.linePos(off);
    return { line: p.line, col: p.col };
  }

  /** The position recorded for a path, or for its nearest recorded ancestor. */
  at(path: string): SourcePos {
    let p = path;
    for (;;) {
      const hit = this.positions.get(p);
      if (hit !== undefined) return hit;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      if (cut <= 0) return this.positions.get("") ?? { line: 1, col: 1 };
      p = p.slice(0, cut);
    }
  }

  /** Records an error. */
  error(at: SourcePos, path: string, message: string): void {
    this.errors.push({ file: this.file, ...at, path, message, severity: "error" });
  }

  /** Records a warning. */
  warn(at: SourcePos, path: string, message: string): void {
    this.warnings.push({ file: this.file, ...at, path, message, severity: "warning" });
  }

  #resolve(node: Node | null | undefined): Node | null | undefined {
    if (isAlias(node) && this.doc !== null) return node.resolve(this.doc) ?? null;
    return node;
  }

  /**
   * Walks `node` against `spec`. Returns the normalized value, `undefined` when the key is
   * absent and has no default, or INVALID after reporting why.
   */
  walk(spec: Spec, raw: Node | null | undefined, path: string, keyPos: SourcePos): Out {
    const node = this.#resolve(raw);
    if (node === undefined || (isScalar(node) && node.value === null && isContainer(spec))) {
      return this.#absent(spec, path, keyPos);
    }
    const pos = this.posOf(node);
    this.positions.set(path, pos);
    switch (spec.kind) {
      case "object":
        if (spec.shorthand !== undefined && isScalar(node)) {
          this.positions.set(`${path}.${spec.shorthand}`, pos);
          return this.#object(spec, [{ key: spec.shorthand, keyPos: pos, value: node }], path, pos);
        }
        if (!isMap(node)) return this.#typeError(node, path, "a mapping");
        return this.#object(spec, this.#pairs(node.items, path), path, keyPos);
      case "tagged":
        if (!isMap(node)) return this.#typeError(node, path, "a mapping");
        return this.#tagged(spec, this.#pairs(node.items, path), path, keyPos);
      case "map": {
        if (!isMap(node)) return this.#typeError(node, path, "a mapping of names");
        const out: Record<string, Out> = {};
        const list: Out[] = [];
        for (const e of this.#pairs(node.items, path)) {
          const p = `${path}.${e.key}`;
          this.positions.set(p, e.keyPos);
          const v = this.walk(spec.of, e.value ?? null, p, e.keyPos);
          if (v === INVALID || v === undefined) continue;
          const named = spec.of.kind === "object" ? { name: e.key, ...(v as object) } : v;
          if (typeof named === "object" && named !== null) this.pathOf.set(named, p);
          out[e.key] = named;
          list.push(named);
        }
        return spec.asList === true ? list : out;
      }
      case "list": {
        if (!isSeq(node)) {
          return this.#typeError(node, path, `a list of ${describe(spec.of)}`);
        }
        const out: Out[] = [];
        node.items.forEach((item, i) => {
          const p = `${path}[${i}]`;
          const v = this.walk(spec.of, item as Node, p, this.posOf(item as Node));
          if (v !== INVALID && v !== undefined) {
            if (typeof v === "object" && v !== null) this.pathOf.set(v, p);
            out.push(v);
          }
        });
        if (spec.minItems !== undefined && node.items.length < spec.minItems) {
          this.error(pos, path, `the list is empty (expected at least ${spec.minItems} entry)`);
          return INVALID;
        }
        return out;
      }
      default: {
        if (!isScalar(node)) return this.#typeError(node, path, describe(spec));
        const source = typeof node.source === "string" ? node.source : String(node.value);
        const r = normalizeScalar(spec, node.value, source);
        if (!r.ok) {
          this.error(pos, path, r.reason);
          return INVALID;
        }
        return r.value;
      }
    }
  }

  #absent(spec: Spec, path: string, keyPos: SourcePos): Out {
    if (spec.required === true) return INVALID;
    if (spec.default === undefined) return undefined;
    switch (spec.kind) {
      case "object":
        return this.#object(spec, [], path, keyPos);
      case "map":
        return spec.asList === true ? [] : {};
      case "list":
        if (Array.isArray(spec.default) && spec.default.length > 0) {
          return spec.default.map((d) => {
            const r = normalizeScalar(spec.of, d, String(d));
            if (!r.ok) throw new Error(`schema default of ${path} is invalid: ${r.reason}`);
            return r.value;
          });
        }
        return [];
      default: {
        const r = normalizeScalar(spec, spec.default, String(spec.default));
        if (!r.ok) throw new Error(`schema default of ${path} is invalid: ${r.reason}`);
        return r.value;
      }
    }
  }

  #typeError(node: Node | null, path: string, expected: string): typeof INVALID {
    this.error(
      this.posOf(node),
      path,
      `${nodeWords(node)} is not allowed here (expected ${expected})`,
    );
    return INVALID;
  }

  /** The key/value pairs of a mapping, merge keys (`<<: *anchor`) spread in. */
  #pairs(items: Pair<unknown, unknown>[], path: string): Entry[] {
    const out: Entry[] = [];
    const merged: Entry[] = [];
    for (const pair of items) {
      const k = pair.key;
      if (!isScalar(k) || (typeof k.value === "object" && k.value !== null)) {
        this.error(this.posOf(k as Node), path, "a key must be plain text");
        continue;
      }
      const keyPos = this.posOf(k);
      const isMerge = k.value === "<<" ||
        (typeof k.value === "symbol" && k.value.description === "<<");
      if (isMerge) {
        const v = this.#resolve(pair.value as Node);
        const sources = isSeq(v) ? v.items.map((x) => this.#resolve(x as Node)) : [v];
        for (const src of sources) {
          if (!isMap(src)) {
            this.error(keyPos, path, "a merge key (<<) needs an alias of a mapping");
            continue;
          }
          merged.push(...this.#pairs(src.items, path));
        }
        continue;
      }
      out.push({ key: String(k.value), keyPos, value: (pair.value ?? null) as Node | null });
    }
    const own = new Set(out.map((e) => e.key));
    return [...out, ...merged.filter((e) => !own.has(e.key))];
  }

  #object(
    spec: Extract<Spec, { kind: "object" }>,
    entries: Entry[],
    path: string,
    pos: SourcePos,
  ): Out {
    return this.#fields(spec.fields, entries, path, pos, (key) => {
      const s = suggest(key, Object.keys(spec.fields));
      return `unknown key "${key}" ${hint(s, Object.keys(spec.fields))}`;
    });
  }

  #tagged(
    spec: Extract<Spec, { kind: "tagged" }>,
    entries: Entry[],
    path: string,
    pos: SourcePos,
  ): Out {
    const tags = Object.keys(spec.variants);
    const tagEntry = entries.find((e) => e.key === spec.tag);
    const tagPath = `${path}.${spec.tag}`;
    if (tagEntry === undefined) {
      this.error(
        pos,
        tagPath,
        `missing required key "${spec.tag}" (expected one of ${tags.join(", ")})`,
      );
      return INVALID;
    }
    const tagNode = this.#resolve(tagEntry.value);
    const tagPos = this.posOf(tagNode ?? undefined);
    this.positions.set(tagPath, tagPos);
    const tag = isScalar(tagNode) ? String(tagNode.value) : "";
    const fields = spec.variants[tag];
    if (fields === undefined) {
      const s = suggest(tag, tags);
      this.error(
        tagPos,
        tagPath,
        `"${tag}" is not a ${spec.title} type (expected one of ${tags.join(", ")}${
          s === null ? "" : `; did you mean "${s}"?`
        })`,
      );
      return INVALID;
    }
    const rest = entries.filter((e) => e !== tagEntry);
    const v = this.#fields(fields, rest, path, pos, (key) => {
      const owners = tags.filter((t) => key in spec.variants[t]!);
      if (owners.length > 0) {
        return `"${key}" does not apply to ${tag} (only to ${owners.join(", ")})`;
      }
      const s = suggest(key, [spec.tag, ...Object.keys(fields)]);
      return `unknown key "${key}" ${hint(s, Object.keys(fields))}`;
    });
    return v === INVALID ? INVALID : { type: tag, ...(v as object) };
  }

  #fields(
    fields: Record<string, Spec>,
    entries: Entry[],
    path: string,
    pos: SourcePos,
    unknown: (key: string) => string,
  ): Out {
    const out: Record<string, Out> = {};
    let ok = true;
    const seen = new Map<string, Entry>();
    for (const e of entries) {
      if (!(e.key in fields)) {
        this.error(e.keyPos, join(path, e.key), unknown(e.key));
        continue;
      }
      seen.set(e.key, e);
    }
    for (const [key, spec] of Object.entries(fields)) {
      const e = seen.get(key);
      const p = join(path, key);
      if (e === undefined && spec.required === true) {
        this.error(pos, p, `missing required key "${key}" (${describe(spec)})`);
        ok = false;
        continue;
      }
      if (e !== undefined) this.positions.set(p, e.keyPos);
      const v = this.walk(spec, e === undefined ? undefined : e.value ?? null, p, e?.keyPos ?? pos);
      if (v === INVALID) {
        if (spec.required === true || !isContainer(spec)) ok = false;
        // Keep the shape the rules rely on: an invalid list or map (reported) becomes empty.
        else if (spec.default !== undefined) out[outName(key, spec)] = this.#absent(spec, p, pos);
        continue;
      }
      if (v === undefined) continue;
      if (spec.flatten === true && typeof v === "object" && v !== null) Object.assign(out, v);
      else out[outName(key, spec)] = v;
    }
    return ok ? out : INVALID;
  }
}

interface Entry {
  key: string;
  keyPos: SourcePos;
  value: Node | null;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function isContainer(spec: Spec): boolean {
  return spec.kind === "object" || spec.kind === "map" || spec.kind === "list" ||
    spec.kind === "tagged";
}

function hint(s: string | null, keys: string[]): string {
  if (s !== null) return `(did you mean "${s}"?)`;
  return keys.length <= 12 ? `(expected one of ${keys.join(", ")})` : "(see docs/configuration.md)";
}

function nodeWords(node: Node | null): string {
  if (node === null) return "an empty value";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    if (node.value === null) return "an empty value";
    if (typeof node.value === "string") return `the text ${JSON.stringify(node.value)}`;
    return String(node.value);
  }
  return "this value";
}

/** What a spec expects, in words. */
export function describe(spec: Spec): string {
  switch (spec.kind) {
    case "string":
      return spec.patternHint ?? "text";
    case "int":
      return `an integer from ${spec.min} to ${spec.max}`;
    case "bool":
      return "true or false";
    case "duration":
      return `a duration like "100ms", "1s", "1.5s", "2m" (plain numbers are seconds)`;
    case "enum":
      return `one of ${spec.values.join(", ")}`;
    case "ip":
      return `an ${spec.family === "ipv6" ? "IPv6" : spec.family === "ipv4" ? "IPv4" : "IP"} ${
        spec.multicast === true ? "multicast " : ""
      }address`;
    case "cidr":
      return "an address with optional prefix, e.g. 10.0.0.1/24 or 2001:db8::1/64";
    case "endpoint":
      return "ADDR:PORT, IPv6 as [ADDR]:PORT";
    case "iprange":
      return "an address range like 10.0.0.60-69 or 10.0.0.60-10.0.0.69";
    case "status":
      return `an HTTP status code or a range like "200-299"`;
    case "list":
      return `a list of ${describe(spec.of)}`;
    case "map":
      return "a mapping of names";
    case "object":
    case "tagged":
      return `a ${spec.title} mapping`;
  }
}

type Norm = { ok: true; value: unknown } | { ok: false; reason: string };

/** Normalizes one scalar value (`source` is its text as written) against a scalar spec. */
export function normalizeScalar(spec: Spec, value: unknown, source: string): Norm {
  const bad = (what: string): Norm => ({
    ok: false,
    reason: `${what} (expected ${describe(spec)})`,
  });
  const shown = typeof value === "string" ? JSON.stringify(value) : source;
  const text = typeof value === "string" ? value : typeof value === "number" ? source : null;
  switch (spec.kind) {
    case "string": {
      if (text === null) return bad(`${shown} is not text`);
      if (spec.minLength !== undefined && text.length < spec.minLength) {
        return bad("the text is empty");
      }
      if (spec.maxLength !== undefined && text.length > spec.maxLength) {
        return bad(`${shown} is longer than ${spec.maxLength} characters`);
      }
      if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(text)) {
        return bad(`${shown} is not valid`);
      }
      return { ok: true, value: text };
    }
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value)) {
        return bad(`${shown} is not an integer`);
      }
      if (value < spec.min || value > spec.max) return bad(`${value} is out of range`);
      return { ok: true, value };
    case "bool":
      if (typeof value !== "boolean") return bad(`${shown} is not a boolean`);
      return { ok: true, value };
    case "duration": {
      const ms = typeof value === "number" || typeof value === "string"
        ? parseDuration(value)
        : null;
      if (ms === null) return bad(`${shown} is not a duration`);
      if (spec.minMs !== undefined && ms < spec.minMs) {
        return {
          ok: false,
          reason: `${shown} is too short (expected at least ${formatDuration(spec.minMs)})`,
        };
      }
      if (spec.maxMs !== undefined && ms > spec.maxMs) {
        return {
          ok: false,
          reason: `${shown} is too long (expected at most ${formatDuration(spec.maxMs)})`,
        };
      }
      return { ok: true, value: ms };
    }
    case "enum": {
      const hit = spec.values.find((v) => v === value || (typeof v === "string" && v === text));
      if (hit !== undefined) return { ok: true, value: hit };
      const s = text === null ? null : suggest(text, spec.values.map(String));
      return {
        ok: false,
        reason: `${shown} is not allowed (expected one of ${spec.values.join(", ")}${
          s === null ? "" : `; did you mean "${s}"?`
        })`,
      };
    }
    case "ip": {
      const a = text === null ? null : parseIp(text);
      if (a === null || (spec.family !== undefined && a.family !== spec.family)) {
        return bad(`${shown} is not valid`);
      }
      const mc = a.family === "ipv4" ? (a.bytes[0]! & 0xf0) === 0xe0 : a.bytes[0] === 0xff;
      if (spec.multicast === true && !mc) return bad(`${shown} is not a multicast address`);
      return { ok: true, value: formatIp(a.bytes) };
    }
    case "cidr": {
      const p = text === null ? null : parsePrefix(text);
      if (p === null) return bad(`${shown} is not an address`);
      return {
        ok: true,
        value: { address: formatIp(p.bytes), prefix: p.prefix, family: p.family },
      };
    }
    case "endpoint":
      return text === null ? bad(`${shown} is not an address`) : parseEndpoint(text, spec, bad);
    case "iprange":
      return text === null ? bad(`${shown} is not a range`) : parseRange(text, bad);
    case "status": {
      const m = text === null ? null : /^([1-5][0-9]{2})(?:-([1-5][0-9]{2}))?$/.exec(text);
      if (m === null) return bad(`${shown} is not a status code`);
      const from = Number(m[1]);
      const to = m[2] === undefined ? from : Number(m[2]);
      if (to < from) return bad(`${shown} is an empty range`);
      return { ok: true, value: { from, to } };
    }
    default:
      throw new Error(`normalizeScalar: ${spec.kind} is not a scalar`);
  }
}

function parseEndpoint(
  text: string,
  spec: Extract<Spec, { kind: "endpoint" }>,
  bad: (what: string) => Norm,
): Norm {
  const m = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(text) ?? /^([^:]+)(?::([0-9]+))?$/.exec(text);
  const bare = m === null ? parseIp(text) : null;
  const host = m?.[1] ?? (bare !== null ? text : null);
  const a = host === null ? null : parseIp(host);
  if (a === null) return bad(`${JSON.stringify(text)} is not an address and port`);
  if (bare !== null && bare.family === "ipv6") {
    if (spec.portOptional === true) {
      return { ok: true, value: { address: formatIp(a.bytes), port: 0, family: a.family } };
    }
    return bad(`${JSON.stringify(text)} has no port`);
  }
  const portText = m?.[2];
  if (portText === undefined) {
    if (spec.portOptional !== true) return bad(`${JSON.stringify(text)} has no port`);
    return { ok: true, value: { address: formatIp(a.bytes), port: 0, family: a.family } };
  }
  const port = Number(portText);
  if (port < 1 || port > 65535) return bad(`port ${portText} is out of range 1-65535`);
  return { ok: true, value: { address: formatIp(a.bytes), port, family: a.family } };
}

function parseRange(text: string, bad: (what: string) => Norm): Norm {
  const dash = text.lastIndexOf("-");
  const from = dash < 0 ? null : parseIp(text.slice(0, dash));
  if (from === null) return bad(`${JSON.stringify(text)} is not a range`);
  const tail = text.slice(dash + 1);
  let to = parseIp(tail)?.bytes ?? null;
  if (to === null && /^[0-9a-fA-F]{1,4}$/.test(tail)) {
    to = from.bytes.slice();
    if (from.family === "ipv4") {
      if (!/^[0-9]{1,3}$/.test(tail) || Number(tail) > 255) {
        return bad(`${JSON.stringify(text)} is not a range`);
      }
      to[3] = Number(tail);
    } else {
      const n = parseInt(tail, 16);
      to[14] = n >> 8;
      to[15] = n & 0xff;
    }
  }
  if (to === null || to.length !== from.bytes.length) {
    return bad(`${JSON.stringify(text)} is not a range`);
  }
  for (let i = 0; i < to.length; i++) {
    if (to[i] !== from.bytes[i]) {
      if (to[i]! < from.bytes[i]!) return bad(`${JSON.stringify(text)} ends before it starts`);
      break;
    }
  }
  return { ok: true, value: { from: formatIp(from.bytes), to: formatIp(to), family: from.family } };
}

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
  const cfg = w.walk(CONFIG, root, "", { line: 1, col: 1 });
  if (cfg === INVALID || cfg === undefined) return finish(w, null);
  const config = cfg as Config;
  // The rules need every section; a section that failed to validate has been reported already.
  if (Object.keys(CONFIG.fields).some((k) => !(outName(k, CONFIG.fields[k]!) in config))) {
    return finish(w, null);
  }
  resolveDefaults(config, w);
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

// ---- defaults that depend on other settings -------------------------------------------------

type Loose<T> = { [K in keyof T]?: T[K] };

function familyOf(text: string | undefined): Family | undefined {
  return text === undefined ? undefined : parseIp(text)?.family;
}

/** Fills the defaults that come from other settings (version, family, inherited timers). */
export function resolveDefaults(cfg: Config, w: Walker): void {
  const g = cfg.global;
  for (const s of Object.values(cfg.scripts)) {
    s.timeoutMs ??= s.intervalMs;
    s.user ??= g.scriptUser;
  }
  for (const inst of cfg.vrrpInstances) {
    const r = inst as Loose<VrrpInstanceConfig>;
    r.family ??= inst.vips[0]?.family ?? familyOf(inst.unicastSrcIp) ??
      familyOf(inst.unicastPeers[0]) ?? "ipv4";
    r.version ??= inst.family === "ipv6" ? 3 : g.vrrpVersion;
    inst.advertIntervalCs = inst.advertIntervalMs / 10;
    r.garpMasterDelayMs ??= g.garpMasterDelayMs;
    r.garpMasterRepeat ??= g.garpMasterRepeat;
    r.garpMasterRefreshMs ??= g.garpMasterRefreshMs;
    for (const vip of [...inst.vips, ...inst.excludedVips]) {
      (vip as { device?: string }).device ??= inst.interface;
    }
    for (const t of inst.trackScripts) {
      (t as { weight?: number }).weight ??= cfg.scripts[t.name]?.weight ?? 0;
    }
    for (const t of inst.trackProcesses) {
      (t as { weight?: number }).weight ??= cfg.processes[t.name]?.weight ?? 0;
    }
  }
  for (const [name, entries] of Object.entries(cfg.virtualServerGroups)) {
    cfg.virtualServerGroups[name] = entries.flatMap((e) => groupEntry(e, w));
  }
  for (const vs of cfg.virtualServers) resolveVirtualServer(cfg, vs, w);
}

function groupEntry(raw: unknown, w: Walker): VsGroupEntry[] {
  const e = raw as {
    endpoint?: { address: string; port: number; family: Family };
    range?: { from: string; to: string; family: Family };
    port: number;
    fwmark?: number;
    family?: Family;
  };
  const path = w.pathOf.get(raw as object) ?? "virtual_server_groups";
  const kinds = (["endpoint", "range", "fwmark"] as const).filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    w.error(
      w.at(path),
      path,
      `expected exactly one of address, range, fwmark (found ${
        kinds.length === 0 ? "none" : kinds.map((k) => k === "endpoint" ? "address" : k).join(", ")
      })`,
    );
    return [];
  }
  if (e.endpoint !== undefined) {
    if (w.positions.has(`${path}.port`)) {
      w.error(
        w.at(`${path}.port`),
        `${path}.port`,
        "port applies to range entries only (expected the port inside address, ADDR:PORT)",
      );
    }
    return [{ kind: "address", ...e.endpoint }];
  }
  if (e.range !== undefined) {
    return [{
      kind: "range",
      from: e.range.from,
      to: e.range.to,
      port: e.port,
      family: e.range.family,
    }];
  }
  return [{ kind: "fwmark", fwmark: e.fwmark!, family: e.family ?? "ipv4" }];
}

function resolveVirtualServer(cfg: Config, vs: VirtualServerConfig, w: Walker): void {
  const r = vs as Loose<VirtualServerConfig>;
  r.port ??= 0;
  const group = vs.group === undefined ? undefined : cfg.virtualServerGroups[vs.group];
  const groupFamily = group?.find((e) => e.kind !== "fwmark")?.family;
  r.family ??= groupFamily ?? vs.realServers[0]?.family ?? "ipv4";
  if (vs.forwarding === "TUN") r.tunnelType ??= "ipip";
  for (const rs of vs.realServers) {
    const rr = rs as Loose<RealServerConfig>;
    if (rs.port === 0) rs.port = vs.port;
    rr.forwarding ??= vs.forwarding;
    rr.inhibitOnFailure ??= vs.inhibitOnFailure;
    for (const c of rs.checks) resolveCheck(cfg, vs, rs, c, w);
  }
}

function resolveCheck(
  cfg: Config,
  vs: VirtualServerConfig,
  rs: RealServerConfig,
  check: CheckConfig,
  w: Walker,
): void {
  if (check.type === "FILE_CHECK") return;
  const c = check as Loose<Extract<CheckConfig, { type: "TCP_CHECK" | "MISC_CHECK" }>> & {
    miscTimeoutMs?: number;
    user?: string;
    connectIp?: string;
    connectPort?: number;
  };
  c.delayLoopMs ??= vs.delayLoopMs;
  c.warmupMs ??= c.delayLoopMs;
  c.alpha ??= vs.alpha;
  c.delayBeforeRetryMs ??= c.delayLoopMs;
  if (check.type === "MISC_CHECK") {
    c.miscTimeoutMs ??= c.delayLoopMs;
    c.user ??= cfg.global.scriptUser;
    return;
  }
  c.connectIp ??= rs.address;
  c.connectPort ??= rs.port;
  if (c.connectPort === 0 && check.type !== "PING_CHECK") {
    const path = w.pathOf.get(check) ?? "virtual_servers";
    w.error(
      w.at(path),
      path,
      `${check.type} has no port to connect to: the real server has none (expected connect_port)`,
    );
  }
}

// ---- cross-field rules ------------------------------------------------------------------

/** The rules that involve more than one field; each reports at the field that must change. */
export function checkRules(cfg: Config, w: Walker, opts: LoadOptions): void {
  const ifaceMissing = (name: string, path: string) => {
    if (opts.interfaceExists !== undefined && !opts.interfaceExists(name)) {
      w.warn(w.at(path), path, `interface "${name}" does not exist on this host`);
    }
  };
  const tracked = new Set<string>();
  const vrids = new Map<string, string>();
  for (const inst of cfg.vrrpInstances) {
    const p = `vrrp_instances.${inst.name}`;
    instanceRules(cfg, inst, p, w, ifaceMissing);
    for (const t of inst.trackScripts) tracked.add(t.name);
    const key = `${inst.interface}/${inst.family}/${inst.vrid}`;
    const first = vrids.get(key);
    if (first !== undefined) {
      w.error(
        w.at(`${p}.vrid`),
        `${p}.vrid`,
        `VRID ${inst.vrid} is already used on ${inst.interface} (${inst.family}) by ${first} (expected a VRID unique per interface and family)`,
      );
    } else vrids.set(key, p);
  }
  const trackedProcs = new Set(
    cfg.vrrpInstances.flatMap((i) => i.trackProcesses.map((t) => t.name)),
  );
  for (const [name, pr] of Object.entries(cfg.processes)) {
    const p = `processes.${name}`;
    if (!trackedProcs.has(name)) {
      w.warn(w.at(p), p, "no instance tracks this process, so it is never looked for");
    }
    if (pr.quorumMax !== undefined && pr.quorumMax < pr.quorum) {
      w.error(
        w.at(`${p}.quorum_max`),
        `${p}.quorum_max`,
        `${pr.quorumMax} is below quorum ${pr.quorum} (expected quorum_max >= quorum)`,
      );
    }
  }
  for (const name of Object.keys(cfg.scripts)) {
    if (!tracked.has(name)) {
      w.warn(
        w.at(`scripts.${name}`),
        `scripts.${name}`,
        "no instance tracks this script, so it never runs",
      );
    }
  }
  const memberOf = new Map<string, string>();
  for (const g of cfg.syncGroups) {
    const p = `sync_groups.${g.name}`;
    g.members.forEach((m, i) => {
      const mp = `${p}.members[${i}]`;
      if (!w.positions.has(`vrrp_instances.${m}`)) {
        const s = suggest(m, cfg.vrrpInstances.map((x) => x.name));
        w.error(
          w.at(mp),
          mp,
          `instance "${m}" is not defined in vrrp_instances${
            s === null ? "" : ` (did you mean "${s}"?)`
          }`,
        );
        return;
      }
      const prev = memberOf.get(m);
      if (prev !== undefined) {
        w.error(
          w.at(mp),
          mp,
          `instance "${m}" is already a member of ${prev} (expected each instance in one sync group at most, once)`,
        );
      } else memberOf.set(m, p);
    });
  }
  const services = new Map<string, string>();
  cfg.virtualServers.forEach((vs) => {
    const p = w.pathOf.get(vs) ?? "virtual_servers";
    virtualServerRules(cfg, vs, p, w);
    const key = `${vs.protocol}/${vs.family}/${vs.address ?? ""}/${vs.port}/${vs.fwmark ?? ""}/${
      vs.group ?? ""
    }`;
    const first = services.get(key);
    if (first !== undefined) {
      w.error(
        w.at(p),
        p,
        `the same service is already defined at ${first} (expected each address/fwmark/group and protocol once)`,
      );
    } else services.set(key, p);
  });
  if (cfg.vrrpInstances.length === 0 && cfg.virtualServers.length === 0) {
    w.warn({ line: 1, col: 1 }, "", "nothing to do: no vrrp_instances and no virtual_servers");
  }
  mailRule(cfg, w);
  const sd = cfg.global.lvsSyncDaemon;
  if (sd !== undefined) {
    const p = "global.lvs_sync_daemon";
    if (!cfg.vrrpInstances.some((i) => i.name === sd.instance)) {
      const s = suggest(sd.instance, cfg.vrrpInstances.map((i) => i.name));
      w.error(
        w.at(`${p}.instance`),
        `${p}.instance`,
        `instance "${sd.instance}" is not defined in vrrp_instances${
          s === null ? "" : ` (did you mean "${s}"?)`
        }`,
      );
    }
    if (cfg.virtualServers.length === 0) {
      w.warn(w.at(p), p, "no virtual_servers: the sync daemon runs with the load balancer only");
    }
  }
}

/** Alerts switched on with nowhere to send them: one warning, where they were switched on. */
function mailRule(cfg: Config, w: Walker): void {
  const g = cfg.global;
  if (g.smtpServer !== undefined && g.notificationEmail.length > 0) return;
  const on: string[] = [];
  for (const i of cfg.vrrpInstances) {
    if (vrrpAlerts(g, i.smtpAlert)) on.push(`vrrp_instances.${i.name}`);
  }
  for (const sg of cfg.syncGroups) {
    if (vrrpAlerts(g, sg.smtpAlert)) on.push(`sync_groups.${sg.name}`);
  }
  cfg.virtualServers.forEach((vs) => {
    if (
      checkerAlerts(g, vs.smtpAlert) ||
      vs.realServers.some((rs) => checkerAlerts(g, vs.smtpAlert, rs.smtpAlert))
    ) on.push(w.pathOf.get(vs) ?? "virtual_servers");
  });
  if (on.length === 0) return;
  // Point at the switch itself: an object's smtp_alert, else the global one that applies.
  const candidates = [
    ...on.map((p) => `${p}.smtp_alert`),
    "global.smtp_alert_vrrp",
    "global.smtp_alert_checker",
    "global.smtp_alert",
  ];
  const at = candidates.find((p) => w.positions.has(p)) ?? on[0]!;
  const missing = g.smtpServer === undefined ? "global.smtp_server" : "global.notification_email";
  w.warn(w.at(at), at, `e-mail alerts are on but ${missing} is not set: no mail will be sent`);
}

function instanceRules(
  cfg: Config,
  inst: VrrpInstanceConfig,
  p: string,
  w: Walker,
  ifaceMissing: (name: string, path: string) => void,
): void {
  const fam = inst.family === "ipv4" ? "IPv4" : "IPv6";
  ifaceMissing(inst.interface, `${p}.interface`);
  if (inst.version === 2 && inst.family === "ipv6") {
    const at = w.positions.has(`${p}.version`) ? `${p}.version` : `${p}.family`;
    w.error(
      w.at(at),
      at,
      "VRRPv2 carries IPv4 addresses only (expected version: 3 for an IPv6 instance)",
    );
  }
  const ms = inst.advertIntervalMs;
  const ap = `${p}.advert_interval`;
  if (inst.version === 2 && (ms % 1000 !== 0 || ms < 1000 || ms > 255_000)) {
    w.error(
      w.at(ap),
      ap,
      `${formatDuration(ms)} is not valid for VRRPv2 (expected whole seconds from 1s to 255s)`,
    );
  }
  if (inst.version === 3 && (ms % 10 !== 0 || ms < 10 || ms > 40_950)) {
    w.error(
      w.at(ap),
      ap,
      `${formatDuration(ms)} is not valid for VRRPv3 (expected 10ms to 40.95s in steps of 10ms)`,
    );
  }
  if (inst.authentication !== undefined && inst.version !== 2) {
    w.error(
      w.at(`${p}.authentication`),
      `${p}.authentication`,
      "authentication exists in VRRPv2 only (expected no authentication with version 3)",
    );
  }
  if (!inst.preempt && inst.state === "MASTER") {
    w.error(
      w.at(`${p}.preempt`),
      `${p}.preempt`,
      "preempt: false (nopreempt) needs state BACKUP: an instance that starts as MASTER takes over regardless (expected state: BACKUP, or preempt: true)",
    );
  }
  if (inst.preemptDelayMs > 0 && (inst.state === "MASTER" || !inst.preempt)) {
    w.warn(
      w.at(`${p}.preempt_delay`),
      `${p}.preempt_delay`,
      `preempt_delay has no effect ${inst.preempt ? "with state MASTER" : "with preempt: false"}`,
    );
  }
  const sameFamily = (text: string | undefined, path: string, what: string) => {
    const f = familyOf(text);
    if (f !== undefined && f !== inst.family) {
      w.error(
        w.at(path),
        path,
        `${what} ${text} is not ${fam} (expected an ${fam} address, like the instance)`,
      );
    }
  };
  inst.vips.forEach((v) => {
    const vp = w.pathOf.get(v) ?? `${p}.virtual_ipaddresses`;
    sameFamily(v.address, vp, "virtual address");
    if (v.label !== undefined && v.family === "ipv6") {
      w.error(
        w.at(`${vp}.label`),
        `${vp}.label`,
        "IPv6 addresses have no labels (expected no label)",
      );
    }
    if (v.device !== inst.interface) ifaceMissing(v.device, `${vp}.device`);
  });
  for (const v of inst.excludedVips) {
    const vp = w.pathOf.get(v) ?? `${p}.virtual_ipaddresses_excluded`;
    if (v.device !== inst.interface) ifaceMissing(v.device, `${vp}.device`);
  }
  if (inst.vips.length === 0) {
    w.warn(w.at(p), p, "no virtual_ipaddresses: the master will hold no address");
  }
  sameFamily(inst.unicastSrcIp, `${p}.unicast_src_ip`, "unicast_src_ip");
  const peers = new Set<string>();
  inst.unicastPeers.forEach((peer, i) => {
    const pp = `${p}.unicast_peers[${i}]`;
    sameFamily(peer, pp, "unicast peer");
    if (peers.has(peer)) w.error(w.at(pp), pp, `unicast peer ${peer} is listed twice`);
    peers.add(peer);
  });
  for (const r of inst.routes) {
    const rp = w.pathOf.get(r) ?? `${p}.virtual_routes`;
    if (r.via !== undefined && familyOf(r.via) !== r.to.family) {
      w.error(
        w.at(`${rp}.via`),
        `${rp}.via`,
        `gateway ${r.via} is not of the family of ${r.to.address}/${r.to.prefix}`,
      );
    }
    if (r.device !== undefined) ifaceMissing(r.device, `${rp}.device`);
  }
  for (const t of inst.trackInterfaces) {
    ifaceMissing(t.name, w.pathOf.get(t) ?? `${p}.track_interfaces`);
  }
  const refs = [
    ["process", "processes", inst.trackProcesses, cfg.processes],
    ["script", "scripts", inst.trackScripts, cfg.scripts],
  ] as const;
  for (const [what, section, list, defined] of refs) {
    for (const t of list) {
      if (defined[t.name] !== undefined || w.positions.has(`${section}.${t.name}`)) continue;
      const tp = w.pathOf.get(t) ?? `${p}.track_${section}`;
      const s = suggest(t.name, Object.keys(defined));
      w.error(
        w.at(tp),
        tp,
        `${what} "${t.name}" is not defined in ${section}${
          s === null ? "" : ` (did you mean "${s}"?)`
        }`,
      );
    }
  }
}

function virtualServerRules(cfg: Config, vs: VirtualServerConfig, p: string, w: Walker): void {
  const set = (["address", "fwmark", "group"] as const).filter((k) => vs[k] !== undefined);
  if (set.length !== 1) {
    w.error(
      w.at(p),
      p,
      `expected exactly one of address, fwmark, group (found ${
        set.length === 0 ? "none" : set.join(", ")
      })`,
    );
  }
  if (vs.group !== undefined && cfg.virtualServerGroups[vs.group] === undefined) {
    const s = suggest(vs.group, Object.keys(cfg.virtualServerGroups));
    w.error(
      w.at(`${p}.group`),
      `${p}.group`,
      `group "${vs.group}" is not defined in virtual_server_groups${
        s === null ? "" : ` (did you mean "${s}"?)`
      }`,
    );
  }
  if (vs.address !== undefined) {
    if (vs.port === 0 && vs.persistenceTimeoutMs === 0) {
      w.error(
        w.at(`${p}.address`),
        `${p}.address`,
        `${vs.address} has no port; only a persistent service may omit it (expected ADDR:PORT)`,
      );
    }
    const f = familyOf(vs.address);
    if (f !== undefined && f !== vs.family) {
      w.error(
        w.at(`${p}.family`),
        `${p}.family`,
        `family ${vs.family} contradicts the address ${vs.address}`,
      );
    }
  }
  vs.schedulerFlags.forEach((flag, i) => {
    const need = flag.startsWith("sh-") ? "sh" : flag.startsWith("mh-") ? "mh" : null;
    if (need !== null && vs.scheduler !== need) {
      const fp = `${p}.scheduler_flags[${i}]`;
      w.error(
        w.at(fp),
        fp,
        `${flag} applies to scheduler ${need} only (the scheduler is ${vs.scheduler})`,
      );
    }
  });
  const anyTun = vs.forwarding === "TUN" || vs.realServers.some((r) => r.forwarding === "TUN");
  if (w.positions.has(`${p}.tunnel_type`) && !anyTun) {
    w.error(
      w.at(`${p}.tunnel_type`),
      `${p}.tunnel_type`,
      "tunnel_type applies to forwarding TUN only (expected forwarding: TUN, or no tunnel_type)",
    );
  }
  if (vs.tunnelType === "gue" && vs.tunnelPort === undefined) {
    w.error(
      w.at(`${p}.tunnel_type`),
      `${p}.tunnel_type`,
      "a gue tunnel needs a port (expected tunnel_port)",
    );
  }
  if (vs.tunnelPort !== undefined && vs.tunnelType !== "gue") {
    w.error(
      w.at(`${p}.tunnel_port`),
      `${p}.tunnel_port`,
      "tunnel_port applies to tunnel_type gue only",
    );
  }
  if (vs.persistenceGranularity !== undefined) {
    granularityRule(vs, `${p}.persistence_granularity`, w);
  }
  if (vs.ops && vs.protocol !== "UDP") {
    w.warn(w.at(`${p}.ops`), `${p}.ops`, "one-packet scheduling applies to UDP services only");
  }
  if (
    vs.sorryServer !== undefined && vs.forwarding !== "TUN" && vs.sorryServer.family !== vs.family
  ) {
    w.error(
      w.at(`${p}.sorry_server`),
      `${p}.sorry_server`,
      `sorry server ${vs.sorryServer.address} is not of the service's family ${vs.family} (only TUN forwarding may mix families)`,
    );
  }
  const seen = new Set<string>();
  for (const rs of vs.realServers) {
    const rp = w.pathOf.get(rs) ?? `${p}.real_servers`;
    if (rs.forwarding !== "TUN" && rs.family !== vs.family) {
      w.error(
        w.at(`${rp}.address`),
        `${rp}.address`,
        `real server ${rs.address} is ${rs.family} but the service is ${vs.family} (expected the same family with ${rs.forwarding} forwarding; only TUN may mix)`,
      );
    }
    const key = `${rs.address}/${rs.port}`;
    if (seen.has(key)) {
      w.error(
        w.at(`${rp}.address`),
        `${rp}.address`,
        `real server ${rs.address}:${rs.port} is listed twice in this service`,
      );
    }
    seen.add(key);
    for (const c of rs.checks) {
      const cp = w.pathOf.get(c) ?? `${rp}.checks`;
      if (c.type === "UDP_CHECK" && c.minReplyLength > c.maxReplyLength) {
        w.error(
          w.at(`${cp}.min_reply_length`),
          `${cp}.min_reply_length`,
          `min_reply_length ${c.minReplyLength} exceeds max_reply_length ${c.maxReplyLength}`,
        );
      }
      if (
        c.type !== "FILE_CHECK" && c.type !== "MISC_CHECK" && c.bindto !== undefined &&
        familyOf(c.bindto) !== familyOf(c.connectIp)
      ) {
        w.error(
          w.at(`${cp}.bindto`),
          `${cp}.bindto`,
          `bindto ${c.bindto} is not of the family of ${c.connectIp}`,
        );
      }
    }
  }
}

function granularityRule(vs: VirtualServerConfig, path: string, w: Walker): void {
  const g = vs.persistenceGranularity!;
  if (vs.family === "ipv4") {
    const b = parseIp(g);
    const bits = b === null || b.family !== "ipv4"
      ? null
      : ((b.bytes[0]! << 24) | (b.bytes[1]! << 16) | (b.bytes[2]! << 8) | b.bytes[3]!) >>> 0;
    const contiguous = bits !== null && ((~bits >>> 0) & ((~bits >>> 0) + 1)) === 0;
    if (!contiguous) {
      w.error(w.at(path), path, `"${g}" is not a netmask (expected a netmask like 255.255.255.0)`);
    }
  } else if (!/^[0-9]{1,3}$/.test(g) || Number(g) < 1 || Number(g) > 128) {
    w.error(w.at(path), path, `"${g}" is not a prefix length (expected 1 to 128 for IPv6)`);
  }
  if (vs.persistenceTimeoutMs === 0) {
    w.warn(w.at(path), path, "persistence_granularity has no effect without persistence_timeout");
  }
}
