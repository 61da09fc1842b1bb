/**
 * An incremental, bounded HTTP/1.x response parser (pure): status line, headers, and a body
 * delimited by Content-Length, chunked transfer coding, or the end of the connection.
 * Wire input never throws: results are `need-more`, `done` or `error` with a reason.
 *
 * @module
 */

/** A parsed response. */
export interface HttpResponse {
  /** "HTTP/1.0" or "HTTP/1.1". */
  version: string;
  status: number;
  reasonPhrase: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
  /** The decoded body (chunked coding removed). */
  body: Uint8Array;
}

/** What `push` / `end` report. */
export type HttpParseResult =
  | { state: "need-more" }
  | { state: "done"; value: HttpResponse }
  | { state: "error"; reason: string };

/** Parser limits. */
export interface HttpParserLimits {
  /** Status line + headers (default 16 KiB). */
  maxHeaderBytes?: number;
  /** Decoded body (default 1 MiB). */
  maxBodyBytes?: number;
}

type Phase = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-crlf" | "trailer" | "eof";

const CRLF = "\r\n";

/** Feeds response bytes as they arrive; at most one response is parsed. */
export class HttpResponseParser {
  readonly #maxHeader: number;
  readonly #maxBody: number;
  #buf: Uint8Array = new Uint8Array(0);
  #phase: Phase = "head";
  #head: Omit<HttpResponse, "body"> | null = null;
  #body: Uint8Array;
  #bodyLen = 0;
  #remaining = 0;
  #result: HttpParseResult = { state: "need-more" };

  constructor(limits: HttpParserLimits = {}) {
    this.#maxHeader = limits.maxHeaderBytes ?? 16 * 1024;
    this.#maxBody = limits.maxBodyBytes ?? 1024 * 1024;
    this.#body = new Uint8Array(Math.min(this.#maxBody, 64 * 1024));
  }

  /**
   * Adds bytes (kept by reference until consumed: do not reuse the array); returns the state.
   * Bytes after a complete response are ignored.
   */
  push(chunk: Uint8Array): HttpParseResult {
    if (this.#result.state !== "need-more") return this.#result;
    this.#append(chunk);
    this.#result = this.#advance();
    return this.#result;
  }

  /** The connection ended: completes an EOF-delimited body, or reports truncation. */
  end(): HttpParseResult {
    if (this.#result.state !== "need-more") return this.#result;
    if (this.#phase === "eof" && this.#head !== null) {
      this.#result = this.#done();
    } else if (this.#phase === "head") {
      this.#result = {
        state: "error",
        reason: this.#buf.length === 0 ? "empty response" : "truncated headers",
      };
    } else {
      this.#result = { state: "error", reason: "truncated body" };
    }
    return this.#result;
  }

  #append(chunk: Uint8Array): void {
    if (this.#buf.length === 0) {
      this.#buf = chunk; // kept by reference: callers hand over fresh chunks
      return;
    }
    const next = new Uint8Array(this.#buf.length + chunk.length);
    next.set(this.#buf);
    next.set(chunk, this.#buf.length);
    this.#buf = next;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  #line(): string | null {
    for (let i = 0; i + 1 < this.#buf.length; i++) {
      if (this.#buf[i] === 13 && this.#buf[i + 1] === 10) {
        const s = latin1(this.#buf.subarray(0, i));
        this.#buf = this.#buf.subarray(i + 2);
        return s;
      }
    }
    return null;
  }

  #addBody(bytes: Uint8Array): boolean {
    if (this.#bodyLen + bytes.length > this.#maxBody) return false;
    if (this.#bodyLen + bytes.length > this.#body.length) {
      const cap = Math.min(
        this.#maxBody,
        Math.max(this.#body.length * 2, this.#bodyLen + bytes.length),
      );
      const next = new Uint8Array(cap);
      next.set(this.#body.subarray(0, this.#bodyLen));
      this.#body = next;
    }
    this.#body.set(bytes, this.#bodyLen);
    this.#bodyLen += bytes.length;
    return true;
  }

  #done(): HttpParseResult {
    return { state: "done", value: { ...this.#head!, body: this.#body.slice(0, this.#bodyLen) } };
  }

  #tooLong(): HttpParseResult {
    return { state: "error", reason: `body over ${this.#maxBody} bytes` };
  }

  #advance(): HttpParseResult {
    for (;;) {
      switch (this.#phase) {
        case "head": {
          const end = indexOfCrlfCrlf(this.#buf);
          if (end < 0) {
            if (this.#buf.length > this.#maxHeader) {
              return { state: "error", reason: `headers over ${this.#maxHeader} bytes` };
            }
            return { state: "need-more" };
          }
          if (end > this.#maxHeader) {
            return { state: "error", reason: `headers over ${this.#maxHeader} bytes` };
          }
          const text = latin1(this.#take(end + 4)).slice(0, end);
          const head = parseHead(text);
          if (!head.ok) return { state: "error", reason: head.reason };
          // RFC 9110 15.2: skip interim 1xx responses.
          if (head.value.status >= 100 && head.value.status < 200) continue;
          this.#head = head.value;
          const h = head.value.headers;
          const te = h.get("transfer-encoding");
          const cl = h.get("content-length");
          if (head.value.status === 204 || head.value.status === 304) return this.#done();
          if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
            this.#phase = "chunk-size";
          } else if (cl !== undefined) {
            if (!/^\d{1,15}$/.test(cl.trim())) {
              return { state: "error", reason: `bad Content-Length "${cl.slice(0, 40)}"` };
            }
            this.#remaining = Number(cl.trim());
            if (this.#remaining > this.#maxBody) return this.#tooLong();
            this.#phase = "length";
          } else {
            this.#phase = "eof";
          }
          continue;
        }
        case "length": {
          const n = Math.min(this.#remaining, this.#buf.length);
          if (!this.#addBody(this.#take(n))) return this.#tooLong();
          this.#remaining -= n;
          if (this.#remaining === 0) return this.#done();
          return { state: "need-more" };
        }
        case "eof": {
          if (!this.#addBody(this.#take(this.#buf.length))) return this.#tooLong();
          return { state: "need-more" };
        }
        case "chunk-size": {
          const line = this.#line();
          if (line === null) {
            if (this.#buf.length > 1024) {
              return { state: "error", reason: "chunk size line too long" };
            }
            return { state: "need-more" };
          }
          const m = /^([0-9a-fA-F]{1,8})\s*(;.*)?$/.exec(line);
          if (m === null) {
            return { state: "error", reason: `bad chunk size "${line.slice(0, 40)}"` };
          }
          this.#remaining = parseInt(m[1]!, 16);
          if (this.#remaining === 0) {
            this.#phase = "trailer";
            continue;
          }
          if (this.#bodyLen + this.#remaining > this.#maxBody) return this.#tooLong();
          this.#phase = "chunk-data";
          continue;
        }
        case "chunk-data": {
          const n = Math.min(this.#remaining, this.#buf.length);
          if (!this.#addBody(this.#take(n))) return this.#tooLong();
          this.#remaining -= n;
          if (this.#remaining > 0) return { state: "need-more" };
          this.#phase = "chunk-crlf";
          continue;
        }
        case "chunk-crlf": {
          if (this.#buf.length < 2) return { state: "need-more" };
          if (this.#buf[0] !== 13 || this.#buf[1] !== 10) {
            return { state: "error", reason: "missing CRLF after chunk" };
          }
          this.#take(2);
          this.#phase = "chunk-size";
          continue;
        }
        case "trailer": {
          const line = this.#line();
          if (line === null) {
            if (this.#buf.length > this.#maxHeader) {
              return { state: "error", reason: "trailer too long" };
            }
            return { state: "need-more" };
          }
          if (line === "") return this.#done();
          continue;
        }
      }
    }
  }
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  }
  return s;
}

/** Parses a status line and header block (without the final CRLF CRLF). */
function parseHead(
  text: string,
): { ok: true; value: Omit<HttpResponse, "body"> } | { ok: false; reason: string } {
  const lines = text.split(CRLF);
  const status = lines[0] ?? "";
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(status);
  if (m === null) return { ok: false, reason: `bad status line "${status.slice(0, 40)}"` };
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return { ok: false, reason: `bad header line "${line.slice(0, 40)}"` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return {
    ok: true,
    value: { version: m[1]!, status: Number(m[2]), reasonPhrase: m[3] ?? "", headers },
  };
}
