/**
 * Non-blocking TCP connect probes driven by the Reactor: `socket(SOCK_STREAM|SOCK_NONBLOCK)`,
 * an optional `bind` to a source address, `connect` (EINPROGRESS), wait for writability,
 * `getsockopt(SO_ERROR)`, `close`. Every call is synchronous on the JS thread, so errno is read
 * right after the call that failed. Results are values, never exceptions.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, errnoName, SyscallError } from "./errno.ts";
import { setIntOption } from "./socket.ts";
import type { Reactor } from "./reactor.ts";
import {
  AF_INET,
  AF_INET6,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  IPPROTO_TCP,
  SO_BINDTODEVICE,
  SO_ERROR,
  SO_MARK,
  SO_REUSEADDR,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from "./structs.ts";
import { addressText, familyOf } from "./address.ts";

/** How one connect attempt ended. */
export type ConnectResult =
  | { readonly ok: true }
  | {
    readonly ok: false;
    readonly kind: "error";
    /**
     * The call that failed: "socket", "setsockopt SO_MARK", "setsockopt SO_BINDTODEVICE",
     * "bind", "connect" (SO_ERROR counts as connect), "epoll".
     */
    readonly syscall: string;
    readonly errno: number;
    /** The errno name, e.g. "ECONNREFUSED". */
    readonly code: string;
  }
  | { readonly ok: false; readonly kind: "timeout" }
  | { readonly ok: false; readonly kind: "aborted" };

/** Where a probe connects. */
export interface TcpProbeTarget {
  /** IPv4 or IPv6 address (4 or 16 bytes). */
  address: Uint8Array;
  port: number;
  /** Source address to bind, of the same family. */
  bindto?: Uint8Array;
  /** Source port to bind (with `bindto`, or the family's any address). */
  bindPort?: number;
  /** Interface for SO_BINDTODEVICE. */
  bindIf?: string;
  /** SO_MARK of the connection's packets. */
  fwmark?: number;
  /**
   * Ask `poll(fd, POLLOUT, 0)` right after `connect` whether the handshake already finished, as
   * it does on loopback and between local namespaces, and skip the Reactor then (default true).
   */
  pollFirst?: boolean;
}

const CONNECTED: ConnectResult = Object.freeze({ ok: true });
const TIMED_OUT: ConnectResult = Object.freeze({ ok: false, kind: "timeout" });
const ABORTED: ConnectResult = Object.freeze({ ok: false, kind: "aborted" });
// <poll.h>: struct pollfd { int fd; short events; short revents; }.
const POLLOUT = 0x004;
const SIZEOF_POLLFD = 8;
const EINPROGRESS = Errno.EINPROGRESS;
const EINTR = Errno.EINTR;
const ECONNABORTED = Errno.ECONNABORTED;
const EBADF = Errno.EBADF;

function failure(syscall: string, e: number): ConnectResult {
  return { ok: false, kind: "error", syscall, errno: e, code: errnoName(e) };
}

function sockaddr(family: "ipv4" | "ipv6", addr: Uint8Array, port: number): Uint8Array {
  return family === "ipv4"
    ? encodeSockaddrIn({ addr, port })
    : encodeSockaddrIn6({ addr, port, flowinfo: 0, scopeId: 0 });
}

/**
 * A reusable TCP connect probe to one address and port: the socket addresses are encoded once,
 * so an attempt costs socket, (bind), connect, epoll_ctl x 2, getsockopt and close.
 */
export class TcpProbe {
  /** The destination's family. */
  readonly family: "ipv4" | "ipv6";
  readonly #af: number;
  readonly #dst: Uint8Array;
  readonly #src: Uint8Array | null;
  readonly #ifname: Uint8Array | null;
  readonly #mark: Uint8Array | null;
  readonly #label: string;
  readonly #optval = new Uint8Array(4);
  readonly #optlen = new Uint8Array(4);
  readonly #optView = new DataView(this.#optval.buffer);
  readonly #lenView = new DataView(this.#optlen.buffer);
  readonly #pollFirst: boolean;
  readonly #pollfd = new Uint8Array(SIZEOF_POLLFD);
  readonly #pollView = new DataView(this.#pollfd.buffer);

  /** Throws TypeError when the address or port is invalid or `bindto` is of another family. */
  constructor(t: TcpProbeTarget) {
    const family = familyOf(t.address);
    const text = addressText(t.address);
    if (family === null) throw new TypeError(`Invalid address ${text}: not an IP address`);
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
      throw new RangeError(`Invalid port ${t.port}: expected 1 to 65535`);
    }
    this.family = family;
    this.#af = family === "ipv4" ? AF_INET : AF_INET6;
    this.#dst = sockaddr(family, t.address, t.port);
    if (t.bindto !== undefined) {
      if (familyOf(t.bindto) !== family) {
        throw new TypeError(`bindto ${addressText(t.bindto)} is not of the family of ${text}`);
      }
      this.#src = sockaddr(family, t.bindto, t.bindPort ?? 0);
    } else if (t.bindPort !== undefined) {
      this.#src = sockaddr(family, new Uint8Array(t.address.length), t.bindPort);
    } else {
      this.#src = null;
    }
    if (
      t.bindPort !== undefined &&
      (!Number.isInteger(t.bindPort) || t.bindPort < 1 || t.bindPort > 65535)
    ) {
      throw new RangeError(`Invalid bind_port ${t.bindPort}: expected 1 to 65535`);
    }
    this.#ifname = t.bindIf === undefined ? null : new TextEncoder().encode(`${t.bindIf}\0`);
    if (t.fwmark !== undefined) {
      this.#mark = new Uint8Array(4);
      new DataView(this.#mark.buffer).setUint32(0, t.fwmark, true);
    } else {
      this.#mark = null;
    }
    this.#label = `tcp connect ${text} ${t.port}`;
    this.#pollFirst = t.pollFirst ?? true;
  }

  /** SO_ERROR of `fd` as a result (0 = connected). */
  #soError(fd: number): ConnectResult {
    this.#lenView.setUint32(0, 4, true);
    if (libc().getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#optval, this.#optlen) < 0) {
      return failure("getsockopt", errno());
    }
    const e = this.#optView.getInt32(0, true);
    return e === 0 ? CONNECTED : failure("connect", e);
  }

  /** Whether `poll` says `fd` is writable (or failed) now, without waiting. */
  #settledNow(fd: number): boolean {
    const v = this.#pollView;
    v.setInt32(0, fd, true);
    v.setInt16(4, POLLOUT, true);
    v.setInt16(6, 0, true);
    return libc().poll(this.#pollfd, 1n, 0) === 1;
  }

  /**
   * One connect attempt, settled by the reactor's writability report, `timeoutMs`, or `signal`.
   * The socket is closed whatever the outcome. Never rejects.
   */
  connect(reactor: Reactor, timeoutMs: number, signal?: AbortSignal): Promise<ConnectResult> {
    if (signal?.aborted) return Promise.resolve(ABORTED);
    const c = libc();
    const fd = c.socket(this.#af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return Promise.resolve(failure("socket", errno()));
    // keepalived's socket_bind_connect order: SO_MARK, SO_BINDTODEVICE, bind, connect.
    if (this.#mark !== null && c.setsockopt(fd, SOL_SOCKET, SO_MARK, this.#mark, 4) < 0) {
      const e = errno();
      c.close(fd);
      return Promise.resolve(failure("setsockopt SO_MARK", e));
    }
    if (
      this.#ifname !== null &&
      c.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, this.#ifname, this.#ifname.byteLength) < 0
    ) {
      const e = errno();
      c.close(fd);
      return Promise.resolve(failure("setsockopt SO_BINDTODEVICE", e));
    }
    if (this.#src !== null && c.bind(fd, this.#src, this.#src.byteLength) < 0) {
      const e = errno();
      c.close(fd);
      return Promise.resolve(failure("bind", e));
    }
    const rc = c.connect(fd, this.#dst, this.#dst.byteLength);
    let e = rc < 0 ? errno() : 0;
    // A signal during a non-blocking connect leaves it in progress (connect(2), EINTR).
    if (rc < 0 && e === EINTR) e = EINPROGRESS;
    if (rc === 0 || e !== EINPROGRESS) {
      c.close(fd);
      return Promise.resolve(rc === 0 ? CONNECTED : failure("connect", e));
    }
    if (this.#pollFirst && this.#settledNow(fd)) {
      const r = this.#soError(fd);
      c.close(fd);
      return Promise.resolve(r);
    }
    let watch: Disposable;
    try {
      watch = reactor.watchWritable(fd, () => settle(this.#soError(fd)), this.#label);
    } catch (err) {
      c.close(fd);
      // A closed reactor has no epoll set left: EBADF, as epoll_ctl would say.
      return Promise.resolve(
        failure("epoll_ctl", err instanceof SyscallError ? err.errno : EBADF),
      );
    }
    let resolve!: (r: ConnectResult) => void;
    const result = new Promise<ConnectResult>((res) => (resolve = res));
    let done = false;
    const settle = (r: ConnectResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      watch[Symbol.dispose]();
      c.close(fd);
      resolve(r);
    };
    const onAbort = () => settle(ABORTED);
    // Both fire only after this function returned, so `settle` sees every binding set.
    const timer = setTimeout(() => settle(TIMED_OUT), Math.max(0, timeoutMs));
    signal?.addEventListener("abort", onAbort, { once: true });
    return result;
  }
}

/**
 * A listening TCP socket that accepts and at once closes every connection, on a Reactor: the
 * cheapest server a connect check can target (benchmarks and tests).
 */
export class TcpSink implements Disposable {
  /** Connections accepted so far. */
  accepted = 0;
  readonly #fd: number;
  readonly #watch: Disposable;
  #closed = false;

  /** Binds `address`:`port` (SO_REUSEADDR), listens with `backlog`, and watches on `reactor`. */
  constructor(reactor: Reactor, address: Uint8Array, port: number, backlog = 4096) {
    const family = familyOf(address);
    const text = addressText(address);
    if (family === null) throw new TypeError(`Invalid address ${text}: not an IP address`);
    const c = libc();
    const what = `Cannot listen on ${text} port ${port}`;
    const fd = c.socket(
      family === "ipv4" ? AF_INET : AF_INET6,
      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      IPPROTO_TCP,
    );
    if (fd < 0) throw new SyscallError("socket", errno(), what);
    try {
      setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, what);
      const sa = sockaddr(family, address, port);
      if (c.bind(fd, sa, sa.byteLength) < 0) throw new SyscallError("bind", errno(), what);
      if (c.listen(fd, backlog) < 0) throw new SyscallError("listen", errno(), what);
      this.#watch = reactor.watch(fd, () => this.#drain(), `tcp sink ${text} ${port}`);
    } catch (e) {
      c.close(fd);
      throw e;
    }
    this.#fd = fd;
  }

  #drain(): void {
    const c = libc();
    for (;;) {
      const s = c.accept4(this.#fd, null, null, SOCK_CLOEXEC);
      if (s < 0) {
        // A connection reset while queued is skipped; anything else waits for the next event.
        if (errno() === ECONNABORTED) continue;
        return;
      }
      c.close(s);
      this.accepted++;
    }
  }

  /** Stops listening; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch[Symbol.dispose]();
    libc().close(this.#fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
