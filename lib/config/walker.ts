/**
 * The schema walker: visits a parsed YAML document against the schema table (schema.ts),
 * normalizes every value, fills static defaults and records the position of every field path.
 * Problems become issues (file, line, column, path), never exceptions.
 *
 * @module
 */
import type { LineCounter } from "yaml";
import { isAlias, isMap, isScalar, isSeq } from "./yaml.ts";
import type { Alias, Document, Node, Pair } from "yaml";
import type { ConfigIssue, SourcePos } from "./errors.ts";
import { MAX_ISSUES } from "./limits.ts";
import { CONFIG, outName, type Spec } from "./schema.ts";
import { describe, normalizeScalar } from "./scalars.ts";
import { suggest } from "./suggest.ts";
import type { WalkedConfig } from "./types.ts";

/** Returned by the walker for a value it reported as invalid. */
export const INVALID: unique symbol = Symbol("invalid");
type Out = unknown;

/** Collects issues and positions while walking one document. */
export class Walker {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];
  /** Position of every field path seen. */
  readonly positions = new Map<string, SourcePos>();
  /** Path of every object produced, for the rules that report on objects. */
  readonly pathOf = new WeakMap<object, string>();
  /** Errors and warnings not recorded because MAX_ISSUES of their kind were. */
  readonly dropped = { errors: 0, warnings: 0 };
  /**
   * Every alias's node, resolved once by checkStructure (yaml_limits.ts); without it an alias
   * is resolved by a search of the whole document.
   */
  aliases: ReadonlyMap<Alias, Node> | null = null;

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

  /** Records an error (the first MAX_ISSUES; the rest are counted). */
  error(at: SourcePos, path: string, message: string): void {
    if (this.errors.length >= MAX_ISSUES) {
      this.dropped.errors++;
      return;
    }
    this.errors.push({ file: this.file, ...at, path, message, severity: "error" });
  }

  /** Records a warning (the first MAX_ISSUES; the rest are counted). */
  warn(at: SourcePos, path: string, message: string): void {
    if (this.warnings.length >= MAX_ISSUES) {
      this.dropped.warnings++;
      return;
    }
    this.warnings.push({ file: this.file, ...at, path, message, severity: "warning" });
  }

  #resolve(node: Node | null | undefined): Node | null | undefined {
    if (!isAlias(node)) return node;
    const known = this.aliases?.get(node);
    if (known !== undefined) return known;
    if (this.doc !== null) return node.resolve(this.doc) ?? null;
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
      if (e !== undefined) {
        this.positions.set(p, e.keyPos);
        if (spec.ignored !== undefined) {
          this.warn(e.keyPos, p, `accepted for compatibility and ignored: ${spec.ignored}`);
        }
      }
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

/** How a node reads in a message ("a mapping", "the text \"x\"", ...). */
export function nodeWords(node: Node | null): string {
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

/**
 * Walks a whole file against CONFIG; null when a section failed (already reported). The walk
 * builds, for a spec S, the value spec_types.ts computes as `Value<S, "walked">`: this is the
 * one place where the data-driven walk meets its computed type (spec_types_test.ts checks
 * the two agree on names, presence and shapes).
 */
export function walkConfig(w: Walker, root: Node): WalkedConfig | null {
  const cfg = w.walk(CONFIG, root, "", { line: 1, col: 1 });
  if (typeof cfg !== "object" || cfg === null) return null;
  // The rules need every section; a section that failed to validate has been reported already.
  for (const [key, spec] of Object.entries(CONFIG.fields)) {
    if (!(outName(key, spec) in cfg)) return null;
  }
  return cfg as WalkedConfig;
}
