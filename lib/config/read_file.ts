/**
 * Reads a configuration file boundedly: only a regular file (keepalived: "not a regular file,
 * skipping"), opened non-blocking so that a FIFO swapped in cannot hang the open, at most
 * MAX_FILE_BYTES, and strict UTF-8 (an invalid byte is refused at its line and column, never
 * replaced).
 *
 * @module
 */
import { NonBlockingFile } from "../../ffi/file.ts";
import { MAX_FILE_BYTES } from "./limits.ts";

/** The file's text, or why it was refused and where (1:1 unless the problem has a place). */
export type ReadResult =
  | { ok: true; text: string }
  | { ok: false; line: number; col: number; message: string };

/** Reads `path` as configuration text; never throws, never blocks on a FIFO or device. */
export async function readConfigFile(
  path: string,
  maxBytes: number = MAX_FILE_BYTES,
): Promise<ReadResult> {
  const refuse = (message: string): ReadResult => ({ ok: false, line: 1, col: 1, message });
  let st: Deno.FileInfo;
  try {
    st = await Deno.stat(path);
  } catch (e) {
    return refuse(`cannot read the file: ${(e as Error).message}`);
  }
  const kind = fileKind(st);
  if (kind !== null) return refuse(`cannot read the file: ${path} is ${kind}, not a regular file`);
  if (st.size > maxBytes) return refuse(tooBig(st.size, maxBytes));
  let bytes: Uint8Array;
  try {
    using fh = NonBlockingFile.open(path);
    // The file may have been replaced since the stat: judge what was opened.
    const now = fh.stat();
    if (!now.isFile) return refuse(`cannot read the file: ${path} is not a regular file`);
    let buf = new Uint8Array(Math.min(now.size, maxBytes) + 1);
    let len = 0;
    for (;;) {
      if (len === buf.length) {
        // It grew since the stat.
        if (len > maxBytes) return refuse(tooBig(maxBytes, maxBytes, true));
        const bigger = new Uint8Array(Math.min(len * 2, maxBytes + 1));
        bigger.set(buf);
        buf = bigger;
      }
      const n = fh.read(buf.subarray(len)) ?? 0;
      if (n === 0) break;
      len += n;
    }
    bytes = buf.subarray(0, len);
  } catch (e) {
    return refuse(`cannot read the file: ${(e as Error).message}`);
  }
  return decodeUtf8(bytes);
}

function tooBig(size: number, max: number, grew = false): string {
  const n = (v: number) => v.toLocaleString("en-US");
  return `the file is ${grew ? "more than " : ""}${n(size)} bytes ` +
    `(a configuration file may have at most ${n(max)} bytes, ${max / 1048576} MiB)`;
}

function fileKind(st: Deno.FileInfo): string | null {
  if (st.isFile) return null;
  if (st.isDirectory) return "a directory";
  if (st.isFifo) return "a FIFO";
  if (st.isCharDevice) return "a character device";
  if (st.isBlockDevice) return "a block device";
  if (st.isSocket) return "a socket";
  return "not a file";
}

/** Decodes strict UTF-8; the first invalid sequence is refused at its line and column. */
export function decodeUtf8(bytes: Uint8Array): ReadResult {
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    const off = invalidUtf8Offset(bytes);
    const lineStart = bytes.lastIndexOf(0x0a, off - 1) + 1;
    let line = 1;
    for (let i = 0; i < lineStart; i++) if (bytes[i] === 0x0a) line++;
    const col = new TextDecoder().decode(bytes.subarray(lineStart, off)).length + 1;
    const b = bytes[off] ?? 0;
    return {
      ok: false,
      line,
      col,
      message: `invalid UTF-8 (byte 0x${b.toString(16).padStart(2, "0")}): ` +
        `a configuration file must be UTF-8 text`,
    };
  }
}

/** Offset of the first byte that does not start a valid UTF-8 sequence (the length if none). */
export function invalidUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number, min: number;
    if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return i;
}
