/**
 * The control socket: a Unix stream socket speaking one JSON request line and one JSON
 * reply per connection (`{"cmd":"status"}` -> `{"ok":true,"result":...}`). The accept loop
 * survives EMFILE (accept_loop.ts); at most MAX_CONNECTIONS are served at once, a request must
 * arrive within REQUEST_TIMEOUT_MS of connecting and a reply be taken within REPLY_TIMEOUT_MS, so
 * idle or slow clients cannot hold descriptors.
 *
 * @module
 */
import { type AcceptLoop, acceptLoop, withDeadline } from "./accept_loop.ts";

/** A control command handler. */
export type ControlHandler = (req: Record<string, unknown>) => unknown | Promise<unknown>;

const MAX_REQUEST_BYTES = 64 * 1024;
/** Control connections served at once; more are closed on accept. */
export const MAX_CONNECTIONS = 32;
/** A connection that has not sent its request line by then is closed. */
export const REQUEST_TIMEOUT_MS = 5000;
/** A client that has not taken its reply by then is dropped. */
export const REPLY_TIMEOUT_MS = 10_000;

/** Serves control requests until closed. */
export class ControlServer implements AsyncDisposable {
  readonly path: string;
  readonly #listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
  readonly #handlers: Map<string, ControlHandler>;
  readonly #onError: (e: unknown) => void;
  #closed = false;
  readonly #loop: AcceptLoop;

  private constructor(
    path: string,
    listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>,
    handlers: Map<string, ControlHandler>,
    onError: (e: unknown) => void,
  ) {
    this.path = path;
    this.#listener = listener;
    this.#handlers = handlers;
    this.#onError = onError;
    this.#loop = acceptLoop(listener, (c) => this.#serve(c), {
      maxConnections: MAX_CONNECTIONS,
      onError: (m) => onError(m),
    });
  }

  /** Connections being served, accept errors, connections refused over the cap. */
  get stats(): { active: number; errors: number; refused: number } {
    return { active: this.#loop.active, errors: this.#loop.errors, refused: this.#loop.refused };
  }

  /**
   * Listens on `path`. A stale socket file is replaced; a live one (another agent answers)
   * is an error naming the path.
   */
  static async listen(
    path: string,
    handlers: Record<string, ControlHandler>,
    onError: (e: unknown) => void = () => {},
  ): Promise<ControlServer> {
    try {
      const st = await Deno.lstat(path);
      if (st.isSocket) {
        if (await isAlive(path)) {
          throw new Error(`Another agent is already listening on control socket ${path}`);
        }
      } else {
        throw new Error(`Control socket path ${path} exists and is not a socket`);
      }
      await Deno.remove(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true }).catch(() => {});
    let listener: Deno.Listener<Deno.UnixConn, Deno.UnixAddr>;
    try {
      listener = Deno.listen({ transport: "unix", path });
    } catch (e) {
      throw new Error(`Cannot listen on control socket ${path}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    await Deno.chmod(path, 0o600).catch(() => {});
    return new ControlServer(path, listener, new Map(Object.entries(handlers)), onError);
  }

  async #serve(conn: Deno.UnixConn): Promise<void> {
    try {
      const line = await withDeadline(
        conn,
        REQUEST_TIMEOUT_MS,
        () => readLine(conn, MAX_REQUEST_BYTES),
      );
      if (line === null) return; // idle: closed by the deadline
      let reply: unknown;
      try {
        const req = JSON.parse(line) as Record<string, unknown>;
        const h = typeof req.cmd === "string" ? this.#handlers.get(req.cmd) : undefined;
        reply = h === undefined
          ? { ok: false, error: `unknown command ${JSON.stringify(req.cmd)}` }
          : { ok: true, result: await h(req) };
      } catch (e) {
        reply = { ok: false, error: e instanceof Error ? e.message : String(e) };
      }
      await withDeadline(
        conn,
        REPLY_TIMEOUT_MS,
        () => writeAll(conn, new TextEncoder().encode(JSON.stringify(reply) + "\n")),
      );
    } finally {
      try {
        conn.close();
      } catch { /* closed by peer or by a deadline */ }
    }
  }

  /** Stops listening and removes the socket file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    await Deno.remove(this.path).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function readLine(conn: Deno.Conn, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    total += n;
    if (buf.subarray(0, n).includes(10)) break;
    if (total > max) throw new Error(`request longer than ${max} bytes`);
  }
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return new TextDecoder().decode(all).split("\n")[0] ?? "";
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

async function isAlive(path: string): Promise<boolean> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    return true;
  } catch {
    return false;
  }
}

/** Sends one request to the agent at `path` and returns its `result`; throws on failure. */
export async function controlRequest(
  path: string,
  req: Record<string, unknown>,
  timeoutMs = 5000,
): Promise<unknown> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (e) {
    throw new ControlUnreachable(path, e);
  }
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    await writeAll(conn, new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const line = await readLine(conn, 64 * 1024 * 1024);
    const reply = JSON.parse(line) as { ok: boolean; result?: unknown; error?: string };
    if (!reply.ok) throw new Error(reply.error ?? "the agent refused the request");
    return reply.result;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** No agent answered on the control socket. */
export class ControlUnreachable extends Error {
  constructor(path: string, cause: unknown) {
    super(
      `No agent is answering on control socket ${path}: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
    this.name = "ControlUnreachable";
  }
}
