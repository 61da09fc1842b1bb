/**
 * The byte-stream shell under the TCP-based checkers: TCP via `Deno.connect` (or `node:net`
 * when a source address is bound), TLS via `node:tls` (Deno's own `connectTls` cannot skip
 * certificate verification per connection), deadlines that close the stream, and bounded reads.
 *
 * @module
 */
import net from "node:net";
import tls from "node:tls";

/** A connected byte stream. `read` resolves null at end of stream. Closing twice is harmless. */
export interface ByteStream {
  read(): Promise<Uint8Array | null>;
  write(bytes: Uint8Array): Promise<void>;
  close(): void;
}

/** A deadline: `signal` aborts when the parent aborts or `ms` pass; `expired` says which. */
export interface Deadline extends Disposable {
  readonly signal: AbortSignal;
  readonly expired: boolean;
}

/** Creates a deadline of `ms` under `parent`. Dispose it to clear the timer. */
export function deadline(parent: AbortSignal, ms: number): Deadline {
  const ac = new AbortController();
  let expired = false;
  const onParent = () => ac.abort(parent.reason);
  if (parent.aborted) ac.abort(parent.reason);
  else parent.addEventListener("abort", onParent, { once: true });
  const id = setTimeout(() => {
    expired = true;
    ac.abort(new Error("timeout"));
  }, Math.max(0, ms));
  const dispose = () => {
    clearTimeout(id);
    parent.removeEventListener("abort", onParent);
  };
  return {
    signal: ac.signal,
    get expired() {
      return expired;
    },
    [Symbol.dispose]: dispose,
  };
}

/** Where and how to connect. */
export interface ConnectOptions {
  address: string;
  port: number;
  /** Source address. */
  bindto?: string;
  /** Source port. */
  bindPort?: number;
  /** Aborting cancels the connect, or closes the stream once connected. */
  signal: AbortSignal;
}

/** TLS options. */
export interface TlsOptions extends ConnectOptions {
  /** SNI name; none sent when undefined. */
  servername?: string;
  /** Verify the chain and the name (`servername`, or the address). */
  verify: boolean;
  caCerts?: string[];
}

/** Opens a TCP connection; rejects on failure or abort. */
export async function openTcp(o: ConnectOptions): Promise<ByteStream> {
  if (o.bindto !== undefined || o.bindPort !== undefined) {
    return await nodeStream(o.signal, () =>
      net.connect({
        host: o.address,
        port: o.port,
        localAddress: o.bindto ?? (o.address.includes(":") ? "::" : "0.0.0.0"),
        ...(o.bindPort !== undefined ? { localPort: o.bindPort } : {}),
        family: o.address.includes(":") ? 6 : 4,
      }), "connect");
  }
  const conn = await Deno.connect({ hostname: o.address, port: o.port, signal: o.signal });
  return denoStream(conn, o.signal);
}

/** Opens a TLS connection (handshake included); rejects on failure or abort. */
export function openTls(o: TlsOptions): Promise<ByteStream> {
  return nodeStream(o.signal, () =>
    tls.connect({
      host: o.address,
      port: o.port,
      ...(o.bindto !== undefined ? { localAddress: o.bindto } : {}),
      ...(o.bindPort !== undefined ? { localPort: o.bindPort } : {}),
      ...(o.servername !== undefined ? { servername: o.servername } : {}),
      rejectUnauthorized: o.verify,
      ...(o.caCerts !== undefined ? { ca: o.caCerts } : {}),
      // Without verification node:tls still checks the name unless told not to.
      ...(o.verify ? {} : { checkServerIdentity: () => undefined }),
    }), "secureConnect");
}

function denoStream(conn: Deno.Conn, signal: AbortSignal): ByteStream {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    signal.removeEventListener("abort", close);
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  if (signal.aborted) close();
  else signal.addEventListener("abort", close, { once: true });
  const buf = new Uint8Array(16 * 1024);
  return {
    async read() {
      if (closed) throw new Error("stream closed");
      const n = await conn.read(buf);
      if (n === null) return null;
      return buf.slice(0, n);
    },
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    },
    close,
  };
}

function nodeStream(
  signal: AbortSignal,
  make: () => net.Socket,
  readyEvent: "connect" | "secureConnect",
): Promise<ByteStream> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const sock = make();
    const chunks: Uint8Array[] = [];
    let ended = false;
    let error: Error | null = null;
    let waiter: (() => void) | null = null;
    let ready = false;
    const wake = () => {
      const w = waiter;
      waiter = null;
      w?.();
    };
    const close = () => {
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      ended = true;
      wake();
    };
    const onAbort = () => {
      error ??= new Error("aborted");
      close();
      if (!ready) reject(error);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    sock.on("data", (d: Uint8Array) => {
      chunks.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      sock.pause(); // backpressure: resume when the reader takes the chunk
      wake();
    });
    sock.on("end", () => {
      ended = true;
      wake();
    });
    sock.on("close", () => {
      ended = true;
      wake();
    });
    sock.on("error", (e: Error) => {
      error ??= e;
      ended = true;
      wake();
      if (!ready) {
        signal.removeEventListener("abort", onAbort);
        sock.destroy();
        reject(e);
      }
    });
    sock.once(readyEvent, () => {
      ready = true;
      resolve({
        async read() {
          for (;;) {
            const c = chunks.shift();
            if (c !== undefined) {
              if (chunks.length === 0) sock.resume();
              return c;
            }
            if (error !== null) throw error;
            if (ended) return null;
            sock.resume();
            await new Promise<void>((r) => (waiter = r));
          }
        },
        write(bytes) {
          return new Promise((res, rej) => {
            sock.write(bytes, (e?: Error | null) => (e ? rej(e) : res()));
          });
        },
        close,
      });
    });
  });
}
