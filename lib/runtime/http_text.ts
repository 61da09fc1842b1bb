/**
 * A small HTTP/1.1 server for text pages (the Prometheus `/metrics` page): one GET or HEAD per
 * connection, answered and closed. It replaces `Deno.serve`, whose accept loop ended the
 * process (an uncaught "Too many open files") at the first EMFILE: this one runs on
 * accept_loop.ts (survives EMFILE, at most `maxConnections` at once), gives a client
 * REQUEST_TIMEOUT_MS to send its request and REPLY_TIMEOUT_MS to take the answer, and names the
 * address when it cannot listen.
 *
 * @module
 */
import { type AcceptLoop, acceptLoop, withDeadline } from "./accept_loop.ts";

/** Request head bytes read at most. */
const MAX_HEAD_BYTES = 16 * 1024;
/** A connection that has not sent its request head by then is closed. */
export const REQUEST_TIMEOUT_MS = 5000;
/** A client that has not taken the answer by then is dropped. */
export const REPLY_TIMEOUT_MS = 10_000;

/** What a page handler returns. */
export interface TextPage {
  status: number;
  contentType: string;
  body: string;
}

/** A running server. */
export interface TextServer {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Accept errors (EMFILE included) and connections refused over the cap so far. */
  readonly stats: { active: number; errors: number; refused: number };
  /** Stops listening; connections being served finish. */
  shutdown(): Promise<void>;
}

/** `host:port`, with brackets for IPv6. */
export function formatHostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Listens on `address:port` and answers each GET/HEAD with `page(path)`. Throws, naming the
 * address, when it cannot listen (`Cannot listen for metrics on 127.0.0.1:9650: Address already
 * in use (os error 98)`).
 */
export function serveText(
  what: string,
  listen: { address: string; port: number },
  page: (path: string) => TextPage,
  opts: { maxConnections: number; onError(message: string): void },
): TextServer {
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: listen.address, port: listen.port, transport: "tcp" });
  } catch (e) {
    throw new Error(
      `Cannot listen for ${what} on ${formatHostPort(listen.address, listen.port)}: ${
        e instanceof Error ? e.message : e
      }`,
      { cause: e },
    );
  }
  const loop: AcceptLoop = acceptLoop(listener, (c) => answer(c, page), {
    maxConnections: opts.maxConnections,
    onError: (m) => opts.onError(`${what} on ${formatHostPort(listen.address, listen.port)}: ${m}`),
  });
  return {
    addr: listener.addr as Deno.NetAddr,
    get stats() {
      return { active: loop.active, errors: loop.errors, refused: loop.refused };
    },
    async shutdown() {
      try {
        listener.close();
      } catch { /* closed */ }
      await loop.done;
    },
  };
}

async function answer(conn: Deno.Conn, page: (path: string) => TextPage): Promise<void> {
  const head = await withDeadline(conn, REQUEST_TIMEOUT_MS, () => readHead(conn));
  if (head === null) return;
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]\r?\n/.exec(head);
  let res: TextPage;
  if (m === null) {
    res = { status: 400, contentType: "text/plain", body: "bad request\n" };
  } else if (m[1] !== "GET" && m[1] !== "HEAD") {
    res = { status: 405, contentType: "text/plain", body: "method not allowed\n" };
  } else {
    try {
      res = page(m[2]!.split("?")[0]!);
    } catch (e) {
      res = { status: 500, contentType: "text/plain", body: `internal error: ${e}\n` };
    }
  }
  const body = new TextEncoder().encode(res.body);
  const text = `HTTP/1.1 ${res.status} ${REASONS[res.status] ?? "Status"}\r\n` +
    `content-type: ${res.contentType}\r\ncontent-length: ${body.length}\r\n` +
    `connection: close\r\n\r\n`;
  const headBytes = new TextEncoder().encode(text);
  const all = m?.[1] === "HEAD" ? headBytes : concat(headBytes, body);
  await withDeadline(conn, REPLY_TIMEOUT_MS, async () => {
    let off = 0;
    while (off < all.length) off += await conn.write(all.subarray(off));
  });
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  500: "Internal Server Error",
};

/** The request line and headers (up to the blank line), at most MAX_HEAD_BYTES. */
async function readHead(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(MAX_HEAD_BYTES);
  let len = 0;
  for (;;) {
    const n = await conn.read(buf.subarray(len));
    if (n === null) break;
    len += n;
    const text = new TextDecoder().decode(buf.subarray(0, len));
    if (text.includes("\r\n\r\n") || text.includes("\n\n") || len === buf.length) return text;
  }
  return new TextDecoder().decode(buf.subarray(0, len));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
