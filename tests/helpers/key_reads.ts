/**
 * Which schema keys runtime code reads, decided by the TypeScript compiler. The Config types
 * are computed from the schema (lib/config/spec_types.ts), so a property of a Config object
 * carries the declaration of its schema key (`accept: bool(...)` in schema.ts).
 *
 * - A read is a property access (`x.accept`, `x["accept"]`) or an object destructuring
 *   (`const { accept } = x`) in a runtime file; a plain assignment (`x.accept = v`) is not.
 * - Values flow into other types: `f(inst)` where f takes its own `{ notifyMaster?: string }`,
 *   `{ ...t }` copied into a plan. Wherever an expression of one object type meets another
 *   (argument, initializer, return, property of an object literal), each property of the
 *   target is linked to the same-named property of the source; a read of the target's
 *   property then counts for the source's declarations, transitively.
 * - A flattened key (a VIP's `address`, a real server's `ADDR:PORT`) spreads its parts
 *   (address, prefix, port, family) into its object; a part is attributed to the flattened
 *   key of the object the surrounding type belongs to.
 *
 * Test-only code: it loads the TypeScript compiler (npm:typescript, pinned in deno.json).
 *
 * @module
 */
import ts from "typescript";
import { CONFIG, type Spec } from "../../lib/config/schema.ts";

/** One key of the schema: its path, where it is declared, and what the schema says of it. */
export interface SchemaKey {
  /** `vrrp_instances.*.accept`, `virtual_servers[].real_servers[].checks[][TCP_CHECK].bind_port`. */
  path: string;
  /** The key's spec (runtime), for `ignored` and `kind`. */
  spec: Spec;
  /** `lib/config/schema.ts:LINE` of the property, shared by the keys one helper builds. */
  decl: string;
}

/** The result of the analysis. */
export interface KeyReads {
  keys: SchemaKey[];
  /** Declaration of a key (`lib/config/schema.ts:LINE`) -> one place that reads it. */
  readers: Map<string, string>;
}

const ROOT = new URL("../../", import.meta.url).pathname;
const SCHEMA = `${ROOT}lib/config/schema.ts`;
const SPEC_TYPES = `${ROOT}lib/config/spec_types.ts`;

/**
 * Files of lib/config whose reads count: they turn a key into another key's value (which must
 * then be read itself) or are called by the agent (alerts.ts decides on e-mail).
 */
const COUNTED_IN_CONFIG = [
  "lib/config/defaults.ts",
  "lib/config/defaults_routing.ts",
  "lib/config/defaults_vrrp.ts",
  "lib/config/alerts.ts",
];

/** The runtime files: everything under lib/ and ffi/ and main.ts except tests and lib/config. */
export function runtimeFiles(): string[] {
  const out: string[] = [`${ROOT}main.ts`];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(p);
    }
  };
  walk(`${ROOT}lib`);
  walk(`${ROOT}ffi`);
  return out.filter((f) =>
    !f.startsWith(`${ROOT}lib/config/`) || COUNTED_IN_CONFIG.some((c) => f === ROOT + c)
  ).sort();
}

/** Runs the analysis over the runtime files. */
export function keyReads(files: string[] = runtimeFiles()): KeyReads {
  const program = ts.createProgram([...files, SCHEMA], {
    strict: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const a = new Analysis(program, checker);
  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (sf !== undefined) a.visit(sf);
  }
  return { keys: a.keys, readers: a.resolve() };
}

/** `file:line` of a node, relative to the repository. */
function where(n: ts.Node): string {
  const sf = n.getSourceFile();
  const line = sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  return `${sf.fileName.slice(ROOT.length)}:${line}`;
}

interface SymbolLinks {
  syntheticOrigin?: ts.Symbol;
  containingType?: ts.Type;
}

/** The compiler's id of a type (internal, stable within one program). */
function typeId(t: ts.Type): number {
  return (t as unknown as { id: number }).id;
}

/** The parts a flattened composite scalar spreads into its object. */
const PARTS: Record<string, readonly string[]> = {
  cidr: ["address", "prefix", "family"],
  endpoint: ["address", "port", "family"],
};

class Analysis {
  readonly keys: SchemaKey[] = [];
  /** Schema declaration -> the object path it belongs to (`vrrp_instances.*`). */
  readonly #parentOf = new Map<ts.Node, string>();
  /** Object path -> part name -> the flattened key's declaration. */
  readonly #flat = new Map<string, Map<string, ts.Node>>();
  /** Declaration -> declarations whose values flow into it. */
  readonly #edges = new Map<ts.Node, Set<ts.Node>>();
  /** Declaration -> one place reading it. */
  readonly #reads = new Map<ts.Node, string>();
  readonly #schemaDecls = new Set<ts.Node>();
  #visitedPairs = new Set<string>();

  constructor(readonly program: ts.Program, readonly checker: ts.TypeChecker) {
    this.#collectKeys();
  }

  /** Records reads and flows in one file. */
  visit(n: ts.Node): void {
    this.#read(n);
    if (ts.isExpression(n) && !ts.isStringLiteralLike(n) && !ts.isNumericLiteral(n)) {
      const target = this.checker.getContextualType(n);
      if (target !== undefined) {
        this.#flow(target, this.checker.getTypeAtLocation(n), 0);
      }
    }
    ts.forEachChild(n, (c) => this.visit(c));
  }

  /** Schema declaration (`file:line`) -> one reader, following the flows backwards. */
  resolve(): Map<string, string> {
    const out = new Map<string, string>();
    const queue = [...this.#reads.entries()];
    const seen = new Set<ts.Node>(queue.map(([d]) => d));
    while (queue.length > 0) {
      const [d, at] = queue.shift()!;
      if (this.#schemaDecls.has(d) && !out.has(where(d))) out.set(where(d), at);
      for (const src of this.#edges.get(d) ?? []) {
        if (seen.has(src)) continue;
        seen.add(src);
        queue.push([src, at]);
      }
    }
    return out;
  }

  #read(n: ts.Node): void {
    let symbol: ts.Symbol | undefined;
    let container: ts.Type | undefined;
    if (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) {
      const p = n.parent;
      const written = ts.isBinaryExpression(p) && p.left === n &&
        p.operatorToken.kind === ts.SyntaxKind.EqualsToken;
      const name = ts.isPropertyAccessExpression(n) ? n.name : n.argumentExpression;
      if (written || (!ts.isPropertyAccessExpression(n) && !ts.isStringLiteralLike(name))) return;
      symbol = this.checker.getSymbolAtLocation(name);
      container = this.checker.getTypeAtLocation(n.expression);
    } else if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent)) {
      const name = n.propertyName ?? n.name;
      if (!ts.isIdentifier(name) && !ts.isStringLiteralLike(name)) return;
      container = this.checker.getTypeAtLocation(n.parent);
      symbol = container.getProperty(name.text);
    } else if (ts.isSpreadAssignment(n)) {
      // `{ ...x }` reads every property of x into the new object (the flow links them).
      return;
    }
    if (symbol === undefined || container === undefined) return;
    for (const d of this.#decls(symbol, container)) {
      if (!this.#reads.has(d)) this.#reads.set(d, where(n));
    }
  }

  /** Links each property of `target` to the same-named property of `source`, recursively. */
  #flow(target: ts.Type, source: ts.Type, depth: number): void {
    if (depth > 6 || target === source) return;
    const key = `${typeId(target)}<-${typeId(source)}`;
    if (this.#visitedPairs.has(key)) return;
    this.#visitedPairs.add(key);
    const tElem = this.#element(target);
    const sElem = this.#element(source);
    if (tElem !== undefined && sElem !== undefined) {
      this.#flow(tElem, sElem, depth + 1);
      return;
    }
    const targets = target.isUnion() ? target.types : [target];
    const sources = source.isUnion() ? source.types : [source];
    for (const t of targets) {
      if (!(t.flags & ts.TypeFlags.Object) && !t.isIntersection()) continue;
      const props = t.getProperties();
      if (props.length > 300) continue;
      for (const tp of props) {
        const tDecls = tp.declarations ?? [];
        if (tDecls.length === 0) continue;
        for (const s of sources) {
          const sp = s.getProperty(tp.name);
          if (sp === undefined) continue;
          const from = this.#decls(sp, s);
          for (const td of tDecls) {
            if (from.length === 0) continue;
            const set = this.#edges.get(td) ?? new Set();
            for (const f of from) if (f !== td) set.add(f);
            this.#edges.set(td, set);
          }
          this.#flow(
            this.checker.getTypeOfSymbol(tp),
            this.checker.getTypeOfSymbol(sp),
            depth + 1,
          );
        }
      }
    }
  }

  #element(t: ts.Type): ts.Type | undefined {
    if (this.checker.isArrayType(t) || this.checker.isTupleType(t)) {
      return this.checker.getIndexTypeOfType(t, ts.IndexKind.Number);
    }
    return undefined;
  }

  /**
   * The declarations behind a property symbol: its own, those of a mapped type's source
   * property, those of the members of a union or intersection property; a flattened part
   * (declared in spec_types.ts) becomes the flattened key of `container`'s object.
   */
  #decls(symbol: ts.Symbol, container: ts.Type): ts.Node[] {
    const out: ts.Node[] = [];
    const seen = new Set<ts.Symbol>();
    let flattenedPart = false;
    const follow = (s: ts.Symbol | undefined): void => {
      if (s === undefined || seen.has(s)) return;
      seen.add(s);
      for (const d of s.declarations ?? []) {
        if (d.getSourceFile().fileName === SPEC_TYPES) flattenedPart = true;
        else out.push(d);
      }
      // Compiler internals (TypeScript 5.9): a mapped type's property remembers the property
      // it came from; a union or intersection property, the types it was built from.
      const links = (s as unknown as { links?: SymbolLinks }).links;
      follow(links?.syntheticOrigin);
      const containing = links?.containingType;
      if (containing !== undefined && containing.isUnionOrIntersection()) {
        for (const t of containing.types) follow(this.checker.getPropertyOfType(t, s.name));
      }
    };
    follow(symbol);
    if (flattenedPart) {
      for (const parent of this.#sections(container)) {
        const flat = this.#flat.get(parent)?.get(symbol.name);
        if (flat !== undefined) out.push(flat);
      }
    }
    return out;
  }

  /** The schema objects a type belongs to, found through its other properties. */
  #sections(t: ts.Type): Set<string> {
    const out = new Set<string>();
    for (const c of t.isUnion() ? t.types : [t]) {
      for (const p of c.getProperties()) {
        if (Object.values(PARTS).some((parts) => parts.includes(p.name))) continue;
        const seen = new Set<ts.Symbol>();
        const stack: (ts.Symbol | undefined)[] = [p];
        while (stack.length > 0) {
          const s = stack.pop();
          if (s === undefined || seen.has(s)) continue;
          seen.add(s);
          for (const d of s.declarations ?? []) {
            const parent = this.#parentOf.get(d);
            if (parent !== undefined) out.add(parent);
          }
          const links = (s as unknown as { links?: SymbolLinks }).links;
          stack.push(links?.syntheticOrigin);
          const containing = links?.containingType;
          if (containing !== undefined && containing.isUnionOrIntersection()) {
            for (const ct of containing.types) {
              stack.push(this.checker.getPropertyOfType(ct, s.name));
            }
          }
        }
      }
    }
    return out;
  }

  /** Every key of the schema with its declaration, from the runtime table and CONFIG's type. */
  #collectKeys(): void {
    const checker = this.checker;
    const sf = this.program.getSourceFile(SCHEMA)!;
    const configSym = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).find((s) =>
      s.name === "CONFIG"
    )!;
    const prop = (t: ts.Type, name: string) => {
      const p = checker.getPropertyOfType(t, name);
      return p === undefined ? undefined : checker.getTypeOfSymbol(p);
    };
    const key = (fieldsType: ts.Type, key: string, s: Spec, parent: string, keyPath: string) => {
      const p = checker.getPropertyOfType(fieldsType, key)!;
      const decl = p.declarations?.[0];
      if (decl === undefined) throw new Error(`${keyPath}: no declaration`);
      this.#schemaDecls.add(decl);
      this.#parentOf.set(decl, parent);
      const parts = PARTS[s.kind];
      if (s.flatten === true && parts !== undefined) {
        const m = this.#flat.get(parent) ?? new Map<string, ts.Node>();
        for (const part of parts) if (!m.has(part)) m.set(part, decl);
        this.#flat.set(parent, m);
      }
      this.keys.push({ path: keyPath, spec: s, decl: where(decl) });
      return checker.getTypeOfSymbol(p);
    };
    const walk = (spec: Spec, type: ts.Type, path: string): void => {
      switch (spec.kind) {
        case "object": {
          const ft = prop(type, "fields")!;
          for (const [k, s] of Object.entries(spec.fields)) {
            const kp = path === "" ? k : `${path}.${k}`;
            walk(s, key(ft, k, s, path, kp), kp);
          }
          return;
        }
        case "tagged": {
          const vt = prop(type, "variants")!;
          for (const [tag, fields] of Object.entries(spec.variants)) {
            const t = prop(vt, tag)!;
            for (const [k, s] of Object.entries(fields)) {
              const kp = `${path}[${tag}].${k}`;
              walk(s, key(t, k, s, `${path}[${tag}]`, kp), kp);
            }
          }
          return;
        }
        case "list":
          walk(spec.of, prop(type, "of")!, `${path}[]`);
          return;
        case "map":
          walk(spec.of, prop(type, "of")!, `${path}.*`);
          return;
        default:
          return;
      }
    };
    walk(CONFIG, checker.getTypeOfSymbol(configSym), "");
  }
}
