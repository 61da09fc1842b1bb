/**
 * The file system the importer reads through: `Deno.readTextFileSync` and a small glob for
 * `include` (`*`, `?`, `[..]`, `{a,b}`), as glob(3) with GLOB_BRACE does for keepalived.
 *
 * @module
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { MAX_FILE_BYTES } from "../limits.ts";
import { normalizePath, type ReadFs } from "./parser.ts";

/**
 * The real file system: regular files read boundedly and a small glob (`*`, `?`, `[..]`,
 * `{a,b}`). A FIFO, a device or a directory reads as unreadable, as keepalived skips a file that
 * is "not a regular non-executable file" (opened non-blocking, so a FIFO cannot hang the
 * import); so does a file over MAX_FILE_BYTES.
 */
export const realFs: ReadFs = {
  readText(path: string): string | null {
    let fd: number | null = null;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) return null;
      const buf = new Uint8Array(st.size);
      let len = 0;
      while (len < buf.length) {
        const n = readSync(fd, buf, len, buf.length - len, null);
        if (n === 0) break;
        len += n;
      }
      return new TextDecoder().decode(buf.subarray(0, len));
    } catch {
      return null;
    } finally {
      if (fd !== null) closeSync(fd);
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
