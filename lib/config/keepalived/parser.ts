/**
 * keepalived.conf text -> a tree of keyword nodes, pure. Follows keepalived 2.2.7's reader:
 * `#` and `!` comments anywhere outside double quotes (`\#`, `\!` escape them), `{` and `}`
 * split lines (`vrrp_instance VI_1{` works), quoted strings (`"` and `'`), `include GLOB`
 * (and includer/includem/includew/includeb/includea) relative to the including file,
 * `@id` / `@^id` conditional lines, `$NAME=value` definitions (multi-line with a trailing `\`)
 * with `$NAME` / `${NAME}` substitution. Files are read through an injected {@linkcode ReadFs}.
 *
 * @module
 */

/** A problem found in a keepalived configuration, with its source position (1-based). */
export interface KaIssue {
  file: string;
  line: number;
  col: number;
  message: string;
  severity: "error" | "warning";
}

/** One keyword line, with the block that follows it (`null` when there is none). */
export interface KaNode {
  keyword: string;
  args: string[];
  children: KaNode[] | null;
  file: string;
  line: number;
  col: number;
}

/** The file access the parser needs: read a file, expand an include pattern. */
export interface ReadFs {
  /** The file's text, or null when it cannot be read. */
  readText(path: string): string | null;
  /** Paths matching `pattern` (relative patterns resolve against `relativeTo`), sorted. */
  glob(pattern: string, relativeTo: string): string[];
}

/** Options of {@linkcode parseKeepalived}. */
export interface ParseOptions {
  /** keepalived's config-id (`-i`), compared with `@id` lines; none by default. */
  configId?: string;
}

/** A character of a logical line with where it came from. */
interface Pos {
  file: string;
  line: number;
  col: number;
}

/** A logical line: text plus the position of each character. */
interface SrcLine {
  text: string;
  pos: Pos[];
}

type Token =
  | { kind: "word"; text: string; pos: Pos }
  | { kind: "open"; pos: Pos }
  | { kind: "close"; pos: Pos }
  | { kind: "eol" };

const INCLUDE_WORDS = new Set([
  "include",
  "includer",
  "includem",
  "includew",
  "includeb",
  "includea",
]);
const MAX_INCLUDE_DEPTH = 32;
const MAX_SUBST_ROUNDS = 16;
const DEF_RE = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Collapses `.`, `..` and repeated slashes in a path. */
export function normalizePath(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (part !== ".." || !abs) out.push(part);
  }
  const joined = out.join("/");
  return abs ? "/" + joined : joined === "" ? "." : joined;
}

/** Directory part of a path ("." when there is none). */
export function dirName(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

/** Parses keepalived.conf text into keyword nodes; never throws on bad input. */
export function parseKeepalived(
  text: string,
  file: string,
  fs: ReadFs,
  opts: ParseOptions = {},
): { nodes: KaNode[]; errors: KaIssue[] } {
  const issues: KaIssue[] = [];
  const issue = (p: Pos, severity: KaIssue["severity"], message: string) =>
    issues.push({ file: p.file, line: p.line, col: p.col, message, severity });
  const defs = new Map<string, string>();
  const tokens: Token[] = [];

  const emitLine = (l: SrcLine) => {
    tokenizeLine(l, tokens, (p, m) => issue(p, "error", m));
  };

  const processLogical = (l: SrcLine, stack: string[]) => {
    let cur = l;
    const first = cur.text.split(/[ \t]+/, 1)[0] ?? "";
    if (INCLUDE_WORDS.has(first)) {
      const pattern = cur.text.slice(first.length).trim();
      doInclude(first, pattern, cur.pos[0]!, stack);
      return;
    }
    if (cur.text.startsWith("@")) {
      const neg = cur.text.startsWith("@^");
      const rest = cur.text.slice(neg ? 2 : 1);
      const m = /^(\S*)[ \t]+/.exec(rest);
      if (m === null) return;
      const id = m[1]!;
      const match = opts.configId !== undefined && opts.configId === id;
      if (match === neg) {
        issue(
          cur.pos[0]!,
          "warning",
          `conditional line for config-id "${neg ? "^" : ""}${id}" skipped (config-id is ${
            opts.configId === undefined ? "not set" : `"${opts.configId}"`
          })`,
        );
        return;
      }
      const skip = (neg ? 2 : 1) + m[0].length;
      cur = { text: cur.text.slice(skip), pos: cur.pos.slice(skip) };
    }
    const def = DEF_RE.exec(cur.text);
    if (def !== null) {
      defs.set(def[1]!, def[2]!.trim());
      return;
    }
    if (cur.text.startsWith("~SEQ") || cur.text.startsWith("~LST")) {
      issue(
        cur.pos[0]!,
        "warning",
        `"${cur.text.slice(0, 4)}" blocks are not supported; line dropped`,
      );
      return;
    }
    for (const out of substitute(cur, defs)) emitLine(out);
  };

  const doInclude = (word: string, pattern: string, at: Pos, stack: string[]) => {
    if (pattern === "") {
      issue(at, "error", `${word}: missing file name`);
      return;
    }
    const paths = fs.glob(pattern, dirName(at.file));
    if (paths.length === 0) {
      issue(at, word === "include" ? "warning" : "error", `${word}: "${pattern}" matched no files`);
      return;
    }
    for (const found of paths) {
      const p = normalizePath(found);
      if (stack.includes(p)) {
        issue(at, "error", `${word}: "${p}" includes itself (loop: ${[...stack, p].join(" -> ")})`);
        continue;
      }
      if (stack.length >= MAX_INCLUDE_DEPTH) {
        issue(at, "error", `${word}: includes nested deeper than ${MAX_INCLUDE_DEPTH}`);
        continue;
      }
      const t = fs.readText(p);
      if (t === null) {
        issue(at, "error", `${word}: cannot read "${p}"`);
        continue;
      }
      readFile(t, p, [...stack, p]);
    }
  };

  const readFile = (t: string, f: string, stack: string[]) => {
    const saved = defs.get("_PWD");
    defs.set("_PWD", dirName(f));
    const phys = t.split(/\r?\n/);
    let pending: SrcLine | null = null;
    let pendingIsDef = false;
    for (let i = 0; i < phys.length; i++) {
      const d = decomment(phys[i]!, f, i + 1, (p, m) => issue(p, "error", m));
      if (pending !== null) {
        const sep = pendingIsDef ? "\n" : " ";
        pending = {
          text: pending.text + sep + d.line.text,
          pos: [...pending.pos, d.line.pos[0] ?? pending.pos.at(-1)!, ...d.line.pos],
        };
      } else {
        if (d.line.text === "") continue;
        pending = d.line;
        pendingIsDef = DEF_RE.test(d.line.text.replace(/^@\^?\S*[ \t]+/, ""));
      }
      if (d.cont) {
        if (!pendingIsDef && pending.text.trim() !== "") {
          issue(
            d.line.pos.at(-1) ?? { file: f, line: i + 1, col: 1 },
            "warning",
            "line continuation outside a $NAME= definition; joined with the next line",
          );
        }
        continue;
      }
      const l: SrcLine = pending;
      pending = null;
      if (l.text.trim() !== "") processLogical(l, stack);
    }
    if (pending !== null && pending.text.trim() !== "") processLogical(pending, stack);
    if (saved === undefined) defs.delete("_PWD");
    else defs.set("_PWD", saved);
  };

  readFile(text, file, [normalizePath(file)]);
  const nodes = buildTree(tokens, issues);
  return { nodes, errors: issues };
}

/** Strips comments and outer whitespace from one physical line; reports a trailing `\`. */
function decomment(
  raw: string,
  file: string,
  line: number,
  err: (p: Pos, m: string) => void,
): { line: SrcLine; cont: boolean } {
  let text = "";
  const pos: Pos[] = [];
  let quote = false;
  let cont = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') quote = !quote;
    if (c === "\\") {
      if (i === raw.length - 1 || raw.slice(i + 1).trim() === "" && !quote) {
        cont = true;
        break;
      }
      if (!quote && (raw[i + 1] === "#" || raw[i + 1] === "!")) {
        text += raw[i + 1]!;
        pos.push({ file, line, col: i + 2 });
        i++;
        continue;
      }
      text += c + raw[i + 1]!;
      pos.push({ file, line, col: i + 1 }, { file, line, col: i + 2 });
      i++;
      continue;
    }
    if (!quote && (c === "#" || c === "!")) break;
    text += c;
    pos.push({ file, line, col: i + 1 });
  }
  if (quote) err({ file, line, col: 1 }, "unterminated quote");
  let a = 0;
  let b = text.length;
  while (a < b && /\s/.test(text[a]!)) a++;
  while (b > a && /\s/.test(text[b - 1]!)) b--;
  return { line: { text: text.slice(a, b), pos: pos.slice(a, b) }, cont };
}

/** Replaces `$NAME` (before whitespace or end) and `${NAME}`; splits multi-line values. */
function substitute(l: SrcLine, defs: Map<string, string>): SrcLine[] {
  let cur = l;
  for (let round = 0; round < MAX_SUBST_ROUNDS && cur.text.includes("$"); round++) {
    let changed = false;
    let text = "";
    const pos: Pos[] = [];
    const re = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/g;
    let last = 0;
    for (let m = re.exec(cur.text); m !== null; m = re.exec(cur.text)) {
      const name = m[1] ?? m[2]!;
      const value = name === "_HASH" ? "#" : name === "_BANG" ? "!" : defs.get(name);
      if (value === undefined) continue;
      text += cur.text.slice(last, m.index) + value;
      pos.push(
        ...cur.pos.slice(last, m.index),
        ...new Array<Pos>(value.length).fill(cur.pos[m.index]!),
      );
      last = m.index + m[0].length;
      changed = true;
    }
    if (!changed) break;
    text += cur.text.slice(last);
    pos.push(...cur.pos.slice(last));
    cur = { text, pos };
  }
  const out: SrcLine[] = [];
  let start = 0;
  for (let i = 0; i <= cur.text.length; i++) {
    if (i === cur.text.length || cur.text[i] === "\n") {
      const t = cur.text.slice(start, i);
      if (t.trim() !== "") out.push({ text: t, pos: cur.pos.slice(start, i) });
      start = i + 1;
    }
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** Splits a logical line into words and braces; quotes are removed, escapes decoded in them. */
function tokenizeLine(l: SrcLine, out: Token[], err: (p: Pos, m: string) => void): void {
  const t = l.text;
  let i = 0;
  while (i < t.length) {
    const c = t[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === "{" || c === "}") {
      out.push({ kind: c === "{" ? "open" : "close", pos: l.pos[i]! }, { kind: "eol" });
      i++;
      continue;
    }
    const start = l.pos[i]!;
    let word = "";
    let quote: string | null = null;
    while (i < t.length) {
      const ch = t[i]!;
      if (quote === null) {
        if (/\s/.test(ch) || ch === "{" || ch === "}") break;
        if (ch === '"' || ch === "'") {
          quote = ch;
          i++;
          continue;
        }
        word += ch;
        i++;
        continue;
      }
      if (ch === quote) {
        quote = null;
        i++;
        continue;
      }
      if (ch === "\\" && i + 1 < t.length) {
        const [s, used] = unescape(t, i + 1);
        word += s;
        i += 1 + used;
        continue;
      }
      word += ch;
      i++;
    }
    if (quote !== null) err(start, "unterminated quote");
    out.push({ kind: "word", text: word, pos: start });
  }
  out.push({ kind: "eol" });
}

/** Decodes one escape after a backslash at `at`: returns the text and characters used. */
function unescape(t: string, at: number): [string, number] {
  const c = t[at]!;
  if (c in ESCAPES) return [ESCAPES[c]!, 1];
  if (c === "x") {
    const m = /^[0-9a-fA-F]+/.exec(t.slice(at + 1));
    if (m !== null) return [String.fromCharCode(parseInt(m[0].slice(-2), 16)), 1 + m[0].length];
  }
  if (/[0-7]/.test(c)) {
    const m = /^[0-7]{1,3}/.exec(t.slice(at))!;
    return [String.fromCharCode(parseInt(m[0], 8) & 0xff), m[0].length];
  }
  if (c === "c" && at + 1 < t.length) {
    return [String.fromCharCode(t.charCodeAt(at + 1) & 0x1f), 2];
  }
  return [c, 1];
}

/**
 * Keywords whose block keepalived reads as a list of value lines (lib/parser.c
 * alloc_value_block), by the block they are in (top level: ""): written `track_interface eth0`
 * without a "{", keepalived reports the extra word and takes the following lines, up to the
 * next "}", as the values. (virtual_server_group takes its name first: one word is normal.)
 */
const TRACKS = ["track_interface", "track_script", "track_file", "track_process", "track_bfd"];
const VALUE_BLOCKS: Record<string, ReadonlySet<string>> = {
  vrrp_instance: new Set([
    ...TRACKS,
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "virtual_routes",
    "virtual_rules",
    "unicast_peer",
  ]),
  vrrp_sync_group: new Set(TRACKS),
  "": new Set(["static_ipaddress", "static_routes", "static_rules"]),
};

/**
 * Builds keyword nodes from the token stream as keepalived's reader does: unbalanced braces are
 * warnings (keepalived logs them and goes on), a stray "{" is ignored on its own, and a value
 * block opened without "{" takes the lines up to the next "}" (VALUE_BLOCKS).
 */
function buildTree(tokens: Token[], issues: KaIssue[]): KaNode[] {
  let i = 0;
  const warn = (p: Pos, message: string) =>
    issues.push({ file: p.file, line: p.line, col: p.col, message, severity: "warning" });
  const skipEol = () => {
    while (i < tokens.length && tokens[i]!.kind === "eol") i++;
  };
  const line = (): KaNode | null => {
    const words: { text: string; pos: Pos }[] = [];
    while (i < tokens.length && tokens[i]!.kind === "word") {
      words.push(tokens[i] as { text: string; pos: Pos });
      i++;
    }
    const head = words[0];
    if (head === undefined) return null;
    return {
      keyword: head.text,
      args: words.slice(1).map((w) => w.text),
      children: null,
      file: head.pos.file,
      line: head.pos.line,
      col: head.pos.col,
    };
  };
  /** The lines after `node` up to the next "}" (consumed), as alloc_value_block reads them. */
  const valueLines = (node: KaNode): KaNode[] => {
    const values: KaNode[] = [];
    for (;;) {
      skipEol();
      const tok = tokens[i];
      if (tok === undefined) return values;
      if (tok.kind === "close") {
        i++;
        return values;
      }
      if (tok.kind === "open") {
        i++;
        values.push({ ...node, keyword: "{", args: [], children: null, ...tok.pos });
        continue;
      }
      const v = line();
      if (v !== null) values.push(v);
    }
  };
  const block = (opener: { keyword: string; pos: Pos } | null): KaNode[] => {
    const nodes: KaNode[] = [];
    for (;;) {
      skipEol();
      const tok = tokens[i];
      if (tok === undefined) {
        if (opener !== null) {
          warn(
            opener.pos,
            `"${opener.keyword}" block is not closed (missing "}"); keepalived reads on to the ` +
              "end of the file, and so does the import",
          );
        }
        return nodes;
      }
      if (tok.kind === "close") {
        i++;
        if (opener !== null) return nodes;
        warn(tok.pos, `extra "}" ignored, as keepalived ignores it`);
        continue;
      }
      if (tok.kind === "open") {
        i++;
        warn(tok.pos, `"{" without a keyword before it ignored, as keepalived ignores it`);
        continue;
      }
      const node = line();
      if (node === null) continue;
      skipEol();
      if (tokens[i]?.kind === "open") {
        i++;
        node.children = block({ keyword: node.keyword, pos: node });
      } else if (
        VALUE_BLOCKS[opener?.keyword ?? ""]?.has(node.keyword) === true && node.args.length > 0
      ) {
        warn(
          node,
          `${node.keyword} "${
            node.args.join(" ")
          }" without "{": keepalived drops the words after ` +
            `${node.keyword} and takes the lines after it, up to the next "}" (which then closes ` +
            `nothing else), as its values; so does the import`,
        );
        node.args = [];
        node.children = valueLines(node);
      }
      nodes.push(node);
    }
  };
  return block(null);
}
