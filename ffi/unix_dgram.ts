/**
 * Unix datagram sockets (AF_UNIX, SOCK_DGRAM), the transport of the service manager's notify
 * protocol, and CLOCK_MONOTONIC in microseconds (its `MONOTONIC_USEC=`). Opened non-blocking
 * and close-on-exec; sends never block (EAGAIN is `false`), other failures throw
 * `SyscallError` naming the socket path. Paths starting with "@" are abstract names.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import {
  AF_UNIX,
  encodeSockaddrUn,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
} from "./structs.ts";

const RECV_BUFFER_BYTES = 4096;
const CLOCK_MONOTONIC = 1;

/** A non-blocking unix datagram socket. */
export class UnixDatagramSocket implements Disposable {
  #fd: number;
  /** Encoded destinations by path (the notify socket is one path for the process's life). */
  readonly #dests = new Map<string, Uint8Array>();
  #buf: Uint8Array | null = null;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Opens `socket(AF_UNIX, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0)`. */
  static open(): UnixDatagramSocket {
    const fd = libc().socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw new SyscallError("socket", errno(), "Cannot open a unix datagram socket");
    return new UnixDatagramSocket(fd);
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Binds to `path` (a file name, or "@name" for an abstract name), to receive on it. */
  bind(path: string): void {
    const sa = encodeSockaddrUn(path);
    if (libc().bind(this.#fdOrThrow(), sa, sa.byteLength) < 0) {
      throw new SyscallError("bind", errno(), `Cannot bind unix datagram socket to ${path}`);
    }
  }

  /**
   * Sends one datagram to `path` with MSG_DONTWAIT; returns false when the receiver's queue is
   * full (EAGAIN), so a stalled receiver never blocks the caller.
   */
  sendTo(path: string, data: Uint8Array): boolean {
    const fd = this.#fdOrThrow();
    let sa = this.#dests.get(path);
    if (sa === undefined) {
      sa = encodeSockaddrUn(path);
      this.#dests.set(path, sa);
    }
    for (;;) {
      const n = libc().sendto(
        fd,
        data,
        BigInt(data.byteLength),
        MSG_DONTWAIT | MSG_NOSIGNAL,
        sa,
        sa.byteLength,
      );
      if (Number(n) >= 0) return true;
      const e = errno();
      if (e === Errno.EINTR) continue;
      if (e === Errno.EAGAIN) return false;
      throw new SyscallError("sendto", e, `Cannot send to unix socket ${path}`);
    }
  }

  /** Reads one datagram with MSG_DONTWAIT, or returns null when none is queued. */
  recv(): Uint8Array | null {
    if (this.#fd < 0) return null;
    const buf = this.#buf ??= new Uint8Array(RECV_BUFFER_BYTES);
    for (;;) {
      const n = Number(
        libc().recvfrom(this.#fd, buf, BigInt(buf.byteLength), MSG_DONTWAIT, null, null),
      );
      if (n >= 0) return buf.slice(0, n);
      const e = errno();
      if (e === Errno.EINTR) continue;
      if (e === Errno.EAGAIN) return null;
      throw new SyscallError("recvfrom", e, "Cannot read a unix datagram socket");
    }
  }

  /** Closes the socket; idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    libc().close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #fdOrThrow(): number {
    if (this.#fd < 0) throw new Error("The unix datagram socket is closed");
    return this.#fd;
  }
}

/** CLOCK_MONOTONIC in microseconds, as the service manager reads `MONOTONIC_USEC=`. */
export function monotonicUsec(): bigint {
  const ts = new BigInt64Array(2);
  if (libc().clock_gettime(CLOCK_MONOTONIC, new Uint8Array(ts.buffer)) !== 0) {
    throw new SyscallError("clock_gettime", errno(), "Cannot read CLOCK_MONOTONIC");
  }
  return ts[0]! * 1_000_000n + ts[1]! / 1000n;
}
