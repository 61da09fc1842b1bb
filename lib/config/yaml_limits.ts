/**
 * Bounds on the YAML itself, checked where it is parsed (limits.ts has the numbers):
 * - before parsing, `scanDepth` estimates the nesting from the text alone, because the YAML
 *   parser recurses once per level and overflows the stack at about 850 nested brackets
 *   ("Maximum call stack size exceeded", with no line);
 * - after parsing, `checkStructure` walks the document once, without recursion: it resolves every
 *   alias to its anchor (refusing unknown and self-containing aliases), counts the nodes and the
 *   depth with aliases expanded (an alias bomb is refused before anything expands it), bounds the
 *   entries of each mapping and list, and finds duplicate keys (the parser's own check is
 *   quadratic: 30,000 keys took 6.5 s).
 *
 * @module
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from "./yaml.ts";
import type { Alias, Document, LineCounter, Node } from "yaml";
import { MAX_DEPTH, MAX_ITEMS, MAX_NODES } from "./limits.ts";

/** A problem with its place; `fatal` ones stop the load at once. */
export interface YamlIssue {
  line: number;
  col: number;
  message: string;
}

const deepMessage = (max: number) =>
  `nesting deeper than ${max} levels of mappings and lists (a real configuration needs about 8)`;

/**
 * Estimates the nesting depth of YAML text line by line (block indentation, compact `- `
 * entries, flow brackets; quoted and block scalars skipped) and returns where it first exceeds
 * `max`, or null. A list at its key's own indentation (`key:` then `- item`) is not counted,
 * so the estimate can be up to half the real depth: still 6 times below where the parser
 * overflows. `checkStructure` checks the exact depth after parsing.
 */
export function scanDepth(text: string, max: number = MAX_DEPTH): YamlIssue | null {
  const blocks: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | null = null;
  let blockScalarParent = -1;
  let lineNo = 0;
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end);
    pos = end + 1;
    lineNo++;
    let i = 0;
    while (i < line.length && line[i] === " ") i++;
    const indent = i;
    const blank = i === line.length || line[i] === "\r" || line[i] === "#";
    if (blockScalarParent >= 0) {
      if (blank || indent > blockScalarParent) continue;
      blockScalarParent = -1;
    }
    if (quote === null && flow === 0) {
      if (blank) continue;
      if (line.startsWith("---") || line.startsWith("...") || line.startsWith("%")) {
        blocks.length = 0;
        continue;
      }
      // Compact nodes on this line: "- - key: v" opens two lists and a mapping.
      const opened: number[] = [];
      for (;;) {
        const c = line[i];
        const next = line[i + 1];
        const sep = next === undefined || next === " " || next === "\r";
        if ((c === "-" || c === "?") && sep) {
          opened.push(i);
          i += 2;
        } else if ((c === "&" || c === "!") && opened.length > 0) {
          while (i < line.length && line[i] !== " ") i++;
          i++;
        } else break;
        while (line[i] === " ") i++;
      }
      const keyAt = mappingKeyEnd(line, i);
      if (keyAt >= 0) opened.push(i);
      if (opened.length > 0) {
        const first = opened[0]!;
        while (blocks.length > 0 && blocks[blocks.length - 1]! > first) blocks.pop();
        for (const col of opened) {
          if (blocks.length > 0 && blocks[blocks.length - 1]! >= col) continue;
          blocks.push(col);
          if (blocks.length > max) return { line: lineNo, col: col + 1, message: deepMessage(max) };
        }
      }
      if (keyAt >= 0) i = keyAt + 1;
      while (line[i] === " ") i++;
      if (/^[|>][-+0-9]*\s*(#.*)?\r?$/.test(line.slice(i))) {
        blockScalarParent = indent;
        continue;
      }
    }
    // The rest of the line: quotes, comments and flow brackets.
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (quote !== null) {
        if (quote === '"' && c === "\\") i++;
        else if (c === quote) {
          if (quote === "'" && line[i + 1] === "'") i++;
          else quote = null;
        }
        continue;
      }
      const prev = i === 0 ? " " : line[i - 1]!;
      const tokenStart = prev === " " || prev === "\t" || prev === "[" || prev === "{" ||
        prev === ",";
      if ((c === '"' || c === "'") && tokenStart) quote = c;
      else if (c === "#" && (prev === " " || prev === "\t" || i === 0)) break;
      else if (c === "[" || c === "{") {
        flow++;
        if (blocks.length + flow > max) {
          return { line: lineNo, col: i + 1, message: deepMessage(max) };
        }
      } else if ((c === "]" || c === "}") && flow > 0) flow--;
    }
  }
  return null;
}

/**
 * The index of the `:` ending an implicit mapping key that starts at `from` (plain or quoted,
 * outside flow brackets), or -1 when the line holds no key there.
 */
function mappingKeyEnd(line: string, from: number): number {
  let i = from;
  const c = line[i];
  if (c === undefined || c === "[" || c === "{" || c === "#" || c === "|" || c === ">") return -1;
  if (c === '"' || c === "'") {
    i++;
    while (i < line.length && line[i] !== c) i += line[i] === "\\" && c === '"' ? 2 : 1;
    i++;
  }
  for (; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "#" && line[i - 1] === " ") return -1;
    if (ch === ":" && (i + 1 === line.length || line[i + 1] === " " || line[i + 1] === "\r")) {
      return i;
    }
  }
  return -1;
}

/** What `checkStructure` found: problems (stop at the first `fatal`) and every alias's target. */
export interface StructureResult {
  issues: (YamlIssue & { fatal: boolean })[];
  aliases: Map<Alias, Node>;
  /** Nodes with aliases expanded. */
  nodes: number;
}

interface Frame {
  node: Node;
  children: Node[];
  next: number;
  size: number;
  depth: number;
}

/**
 * Walks a parsed document once, iteratively. Fatal: an alias without an earlier anchor, an alias
 * inside the node it names, more than MAX_NODES nodes or MAX_DEPTH levels with aliases expanded,
 * more than MAX_ITEMS entries in one mapping or list. Not fatal: duplicate keys in a mapping
 * (`<<` merge keys excepted), each reported.
 */
export function checkStructure(
  doc: Document.Parsed,
  lc: LineCounter,
  limits: { nodes?: number; depth?: number; items?: number } = {},
): StructureResult {
  const maxNodes = limits.nodes ?? MAX_NODES;
  const maxDepth = limits.depth ?? MAX_DEPTH;
  const maxItems = limits.items ?? MAX_ITEMS;
  const issues: StructureResult["issues"] = [];
  const aliases = new Map<Alias, Node>();
  const anchors = new Map<string, Node>();
  /** Expanded size and depth of every finished anchored node (what an alias may name). */
  const done = new Map<Node, { size: number; depth: number }>();
  const at = (n: unknown) => lc.linePos((n as Node | null)?.range?.[0] ?? 0);
  const fail = (n: unknown, message: string, fatal = true) => {
    const p = at(n);
    issues.push({ line: p.line, col: p.col, message, fatal });
  };
  let total = 0;
  const root = doc.contents as Node | null;
  if (root === null) return { issues, aliases, nodes: 0 };
  const stack: Frame[] = [];

  /** Enters a node; false when a fatal problem was found. */
  const enter = (node: Node): boolean => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) {
        fail(node, `alias *${node.source} has no anchor &${node.source} before it`);
        return false;
      }
      const t = done.get(target);
      if (t === undefined) {
        fail(node, `alias *${node.source} is inside the node it names (a loop)`);
        return false;
      }
      aliases.set(node, target);
      total += t.size;
      if (total > maxNodes) {
        fail(
          node,
          `alias *${node.source} expands to ${t.size.toLocaleString("en-US")} nodes: with its ` +
            `aliases expanded the file has more than ${
              maxNodes.toLocaleString("en-US")
            } nodes (an alias bomb?)`,
        );
        return false;
      }
      if (stack.length + t.depth > maxDepth) {
        fail(node, `alias *${node.source} nests ${deepMessage(maxDepth)}`);
        return false;
      }
      const top = stack[stack.length - 1];
      if (top !== undefined) {
        top.size += t.size;
        top.depth = Math.max(top.depth, t.depth + 1);
      }
      return true;
    }
    if (node.anchor) anchors.set(node.anchor, node);
    total++;
    if (total > maxNodes) {
      fail(node, `the file has more than ${maxNodes.toLocaleString("en-US")} nodes`);
      return false;
    }
    const children: Node[] = [];
    if (isMap(node) || isSeq(node)) {
      if (node.items.length > maxItems) {
        fail(
          node,
          `${isMap(node) ? "a mapping" : "a list"} of ${
            node.items.length.toLocaleString("en-US")
          } entries (at most ${maxItems.toLocaleString("en-US")})`,
        );
        return false;
      }
      if (stack.length + 1 > maxDepth) {
        fail(node, deepMessage(maxDepth));
        return false;
      }
      const keys = new Map<string, unknown>();
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          const k = item.key as Node | null;
          if (isScalar(k) && k.value !== "<<" && typeof k.value !== "symbol") {
            const name = String(k.value);
            const first = keys.get(name);
            if (first !== undefined) {
              const p = at(first);
              fail(
                k,
                `Map keys must be unique: "${name}" is already at line ${p.line}, column ${p.col}`,
                false,
              );
            } else keys.set(name, k);
          }
          if (k !== null && typeof k === "object") children.push(k);
          if (item.value !== null && typeof item.value === "object") {
            children.push(item.value as Node);
          }
        } else if (item !== null && typeof item === "object") children.push(item as Node);
      }
      stack.push({ node, children, next: 0, size: 1, depth: 1 });
      return true;
    }
    const top = stack[stack.length - 1];
    if (top !== undefined) top.size += 1;
    if (node.anchor) done.set(node, { size: 1, depth: 0 });
    return true;
  };

  if (!enter(root)) return { issues, aliases, nodes: total };
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const child = f.children[f.next++];
    if (child !== undefined) {
      // A leaf or an alias adds its size to `f` at once; a collection is pushed.
      if (!enter(child)) return { issues, aliases, nodes: total };
      continue;
    }
    stack.pop();
    if (f.node.anchor) done.set(f.node, { size: f.size, depth: f.depth });
    const parent = stack[stack.length - 1];
    if (parent !== undefined) {
      parent.size += f.size;
      parent.depth = Math.max(parent.depth, f.depth + 1);
    }
  }
  return { issues, aliases, nodes: total };
}
