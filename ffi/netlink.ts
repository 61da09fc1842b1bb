/**
 * The netlink socket: `socket(AF_NETLINK, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, proto)`, bound
 * with a kernel-assigned port id, optional multicast groups, a large receive buffer, capped and
 * extended ACKs. Reads never block (`MSG_DONTWAIT`): no data is `null`, an overrun
 * (`ENOBUFS`) is `"overrun"`, anything else throws `SyscallError`.
 *
 * @module
 */

import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";

/** Netlink protocol: routing (links, addresses, routes). */
export const NETLINK_ROUTE = 0;
/** Netlink protocol: netfilter (nf_tables). */
export const NETLINK_NETFILTER = 12;
/** Netlink protocol: generic netlink (IPVS and others). */
export const NETLINK_GENERIC = 16;

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_ADD_MEMBERSHIP = 1;
const NETLINK_DROP_MEMBERSHIP = 2;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
const EMSGSIZE = 90;

/** Size of `struct sockaddr_nl`. */
const SOCKADDR_NL_SIZE = 12;

/** Encodes `struct sockaddr_nl` { family u16, pad u16, pid u32, groups u32 } (host order). */
export function encodeSockaddrNl(pid: number, groups: number): Uint8Array {
  const b = new Uint8Array(SOCKADDR_NL_SIZE);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_NETLINK, true);
  v.setUint32(4, pid >>> 0, true);
  v.setUint32(8, groups >>> 0, true);
  return b;
}

/** Decodes `struct sockaddr_nl`, or null when it is short or not AF_NETLINK. */
export function decodeSockaddrNl(b: Uint8Array): { pid: number; groups: number } | null {
  if (b.length < SOCKADDR_NL_SIZE) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint16(0, true) !== AF_NETLINK) return null;
  return { pid: v.getUint32(4, true), groups: v.getUint32(8, true) };
}

/** What one non-blocking read gives: a datagram, an overrun (ENOBUFS), or nothing (EAGAIN). */
export type NetlinkRead = Uint8Array | "overrun" | null;

/** Options for `NetlinkSocket.open`. */
export interface NetlinkSocketOptions {
  /** Multicast groups to join (numbers, e.g. RTNLGRP_LINK = 1). */
  groups?: number[];
  /** Receive buffer size; default 4 MiB (forced past rmem_max when root). */
  rcvbufBytes?: number;
  /** Largest datagram accepted; default 256 KiB. */
  maxDatagramBytes?: number;
}

function int32(v: number): Uint8Array {
  return new Uint8Array(Int32Array.of(v).buffer);
}

/** An open netlink socket. Close it (or `using`) when done. */
export class NetlinkSocket implements Disposable {
  /** The file descriptor, for the reactor. */
  readonly fd: number;
  /** The port id the kernel assigned (`nl_pid`). */
  readonly pid: number;
  /** The netlink protocol. */
  readonly protocol: number;
  readonly #recvBuf: Uint8Array;
  readonly #recvLen: bigint;
  readonly #kernel = encodeSockaddrNl(0, 0);
  #closed = false;

  private constructor(fd: number, pid: number, protocol: number, maxBytes: number) {
    this.fd = fd;
    this.pid = pid;
    this.protocol = protocol;
    this.#recvBuf = new Uint8Array(maxBytes);
    this.#recvLen = BigInt(maxBytes);
  }

  /** Opens, configures and binds a netlink socket; throws `SyscallError` naming the step. */
  static open(protocol: number, opts: NetlinkSocketOptions = {}): NetlinkSocket {
    const c = libc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      throw new SyscallError(
        "socket",
        errno(),
        `Cannot open netlink socket (protocol ${protocol})`,
      );
    }
    try {
      const rcv = opts.rcvbufBytes ?? 4 << 20;
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int32(rcv), 4) < 0) {
        setopt(fd, SOL_SOCKET, SO_RCVBUF, rcv, "SO_RCVBUF");
      }
      setopt(fd, SOL_SOCKET, SO_SNDBUF, 1 << 20, "SO_SNDBUF");
      // Optional: a kernel without them still works, with plainer errors.
      c.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, int32(1), 4);
      c.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, int32(1), 4);
      if (c.bind(fd, encodeSockaddrNl(0, 0), SOCKADDR_NL_SIZE) < 0) {
        throw new SyscallError(
          "bind",
          errno(),
          `Cannot bind netlink socket (protocol ${protocol})`,
        );
      }
      for (const g of opts.groups ?? []) {
        if (c.setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, int32(g), 4) < 0) {
          throw new SyscallError("setsockopt", errno(), `Cannot join netlink group ${g}`);
        }
      }
      const sa = new Uint8Array(SOCKADDR_NL_SIZE);
      const salen = new Uint8Array(Uint32Array.of(SOCKADDR_NL_SIZE).buffer);
      if (c.getsockname(fd, sa, salen) < 0) {
        throw new SyscallError("getsockname", errno(), "Cannot read netlink port id");
      }
      const pid = decodeSockaddrNl(sa)?.pid ?? 0;
      return new NetlinkSocket(fd, pid, protocol, opts.maxDatagramBytes ?? 256 << 10);
    } catch (e) {
      c.close(fd);
      throw e;
    }
  }

  /** Joins a multicast group after opening. */
  join(group: number): void {
    setopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group, `group ${group}`);
  }

  /** Leaves a multicast group. */
  leave(group: number): void {
    setopt(this.fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, group, `group ${group}`);
  }

  /** Sends one datagram to the kernel; throws `SyscallError` (EAGAIN included) on failure. */
  send(bytes: Uint8Array, what: string): void {
    for (;;) {
      const n = Number(
        libc().sendto(this.fd, bytes, BigInt(bytes.length), 0, this.#kernel, SOCKADDR_NL_SIZE),
      );
      if (n >= 0) return;
      const e = errno();
      if (e !== EINTR) throw new SyscallError("sendto", e, what);
    }
  }

  /** Reads one datagram without blocking (a copy); see `NetlinkRead`. */
  recv(): NetlinkRead {
    const r = this.recvView();
    return r instanceof Uint8Array ? r.slice() : r;
  }

  /**
   * As `recv`, but the datagram is a view into the socket's own buffer, valid only until the
   * next read: for callers that decode it at once.
   */
  recvView(): NetlinkRead {
    const buf = this.#recvBuf;
    for (;;) {
      const n = Number(
        libc().recvfrom(this.fd, buf, this.#recvLen, MSG_DONTWAIT | MSG_TRUNC, null, null),
      );
      if (n >= 0) {
        if (n > buf.length) {
          throw new SyscallError(
            "recvfrom",
            EMSGSIZE,
            `Netlink datagram of ${n} bytes exceeds the ${buf.length}-byte buffer`,
          );
        }
        return buf.subarray(0, n);
      }
      const e = errno();
      if (e === EINTR) continue;
      if (e === EAGAIN) return null;
      if (e === ENOBUFS) return "overrun";
      throw new SyscallError("recvfrom", e, `Cannot read netlink socket ${this.fd}`);
    }
  }

  /** Closes the socket; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().close(this.fd);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function setopt(fd: number, level: number, name: number, value: number, what: string): void {
  if (libc().setsockopt(fd, level, name, int32(value), 4) < 0) {
    throw new SyscallError("setsockopt", errno(), `Cannot set netlink socket option ${what}`);
  }
}
