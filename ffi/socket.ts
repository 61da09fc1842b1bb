/**
 * Raw IP sockets (IPv4 and IPv6) for VRRP: opened non-blocking, multicast membership and
 * options, `sendTo` and `recv` with the receiving interface, destination and hop limit.
 * `recv` and `sendTo` never block; EAGAIN is `null` / `false`, other failures throw
 * `SyscallError` naming the object.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import { linkName } from "./ioctl.ts";
import {
  AF_INET,
  AF_INET6,
  cmsgAlign,
  encodeCmsgs,
  encodeIn6Pktinfo,
  encodeInPktinfo,
  encodeInt,
  encodeIovec,
  encodeIpMreqn,
  encodeIpv6Mreq,
  encodeMsghdr,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  IP_ADD_MEMBERSHIP,
  IP_DROP_MEMBERSHIP,
  IP_MULTICAST_ALL,
  IP_MULTICAST_IF,
  IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL,
  IP_PKTINFO,
  IP_RECVTTL,
  IP_TOS,
  IP_TTL,
  IPV6_ADD_MEMBERSHIP,
  IPV6_CHECKSUM,
  IPV6_DROP_MEMBERSHIP,
  IPV6_HOPLIMIT,
  IPV6_MULTICAST_ALL,
  IPV6_MULTICAST_HOPS,
  IPV6_MULTICAST_IF,
  IPV6_MULTICAST_LOOP,
  IPV6_PKTINFO,
  IPV6_RECVHOPLIMIT,
  IPV6_RECVPKTINFO,
  IPV6_TCLASS,
  IPV6_UNICAST_HOPS,
  MSG_DONTWAIT,
  OFFSET,
  SIZEOF,
  SO_BINDTODEVICE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
} from "./structs.ts";
import { addressText, familyOf, isLinkLocal6Bytes, isMulticastBytes } from "./address.ts";

/** An address family. */
export type Family = "ipv4" | "ipv6";

/** One datagram read from a raw socket. */
export interface Received {
  /** The IP payload (IPv4: the header is stripped). */
  payload: Uint8Array;
  /** Source address (4 or 16 bytes). */
  src: Uint8Array;
  /** Destination address (from the IP header / pktinfo; `::` when IPv6 did not say). */
  dst: Uint8Array;
  /** Index of the interface the datagram arrived on (0 if unknown). */
  ifindex: number;
  /** IPv4 TTL or IPv6 hop limit as received. */
  hopLimit: number;
}

/** Sets an int socket option; throws SyscallError `what` on failure. */
export function setIntOption(
  fd: number,
  level: number,
  name: number,
  value: number,
  what: string,
): void {
  const v = encodeInt(value);
  if (libc().setsockopt(fd, level, name, v, v.byteLength) < 0) {
    throw new SyscallError("setsockopt", errno(), what);
  }
}

/** The numeric value of a buffer's address, for struct fields that hold pointers. */
function pointerValue(buf: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
}

const RECV_BUFFER_BYTES = 65536;
const CONTROL_BYTES = 256;
const DEST_CACHE_SIZE = 64;

/** A destination ready for sendto / sendmsg; `msg` points into `sa`, `iov` and `keep`. */
interface Destination {
  sa: Uint8Array;
  iov: DataView;
  msg: Uint8Array | null;
  /** Buffers `msg` points to, held so they live as long as it does. */
  keep: Uint8Array[];
}

/** recvmsg buffers, allocated once per socket on first use; `msg` points into the others. */
interface RecvState {
  buf: Uint8Array;
  name: Uint8Array;
  control: Uint8Array;
  controlView: DataView;
  iov: Uint8Array;
  msg: Uint8Array;
  msgView: DataView;
}

function newRecvState(): RecvState {
  const buf = new Uint8Array(RECV_BUFFER_BYTES);
  const name = new Uint8Array(SIZEOF.sockaddr_in6);
  const control = new Uint8Array(CONTROL_BYTES);
  const iov = encodeIovec(pointerValue(buf), buf.byteLength);
  const msg = encodeMsghdr({
    name: pointerValue(name),
    namelen: name.byteLength,
    iov: pointerValue(iov),
    iovlen: 1,
    control: pointerValue(control),
    controllen: control.byteLength,
    flags: 0,
  });
  return {
    buf,
    name,
    control,
    controlView: new DataView(control.buffer),
    iov,
    msg,
    msgView: new DataView(msg.buffer),
  };
}

/** A non-blocking raw IP socket for one protocol and family. */
export class RawSocket implements Disposable {
  readonly family: Family;
  readonly protocol: number;
  #fd: number;
  #device = "";
  /** The IPv4 address bound with `bindAddress`: the source of every send (pktinfo spec_dst). */
  #boundV4: Uint8Array | null = null;
  readonly #dests = new Map<string, Destination>();
  readonly #level: number;
  // Send-only sockets never pay for the 64 KiB receive buffer.
  #rx: RecvState | null = null;

  private constructor(fd: number, family: Family, protocol: number) {
    this.#fd = fd;
    this.family = family;
    this.protocol = protocol;
    this.#level = family === "ipv4" ? SOL_IP : SOL_IPV6;
  }

  /**
   * Opens `socket(family, SOCK_RAW|SOCK_NONBLOCK|SOCK_CLOEXEC, protocol)` and turns on
   * reception of pktinfo and TTL / hop limit. Multicast is only delivered for groups this
   * socket joined (IP_MULTICAST_ALL / IPV6_MULTICAST_ALL off, as keepalived does).
   */
  static open(family: Family, protocol: number): RawSocket {
    if (family !== "ipv4" && family !== "ipv6") {
      throw new TypeError(`Invalid address family "${family}": expected "ipv4" or "ipv6"`);
    }
    if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) {
      throw new RangeError(`Invalid IP protocol ${protocol}: expected 0 to 255`);
    }
    const af = family === "ipv4" ? AF_INET : AF_INET6;
    const fd = libc().socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      throw new SyscallError("socket", errno(), `Cannot open ${family} raw socket ${protocol}`);
    }
    const s = new RawSocket(fd, family, protocol);
    try {
      const what = `Cannot configure ${family} raw socket ${protocol}`;
      if (family === "ipv4") {
        setIntOption(fd, SOL_IP, IP_PKTINFO, 1, what);
        setIntOption(fd, SOL_IP, IP_RECVTTL, 1, what);
        setIntOption(fd, SOL_IP, IP_MULTICAST_ALL, 0, what);
      } else {
        setIntOption(fd, SOL_IPV6, IPV6_RECVPKTINFO, 1, what);
        setIntOption(fd, SOL_IPV6, IPV6_RECVHOPLIMIT, 1, what);
        try {
          setIntOption(fd, SOL_IPV6, IPV6_MULTICAST_ALL, 0, what);
        } catch (e) {
          // Linux < 4.20 has no IPV6_MULTICAST_ALL; membership filtering is then not possible.
          if (!(e instanceof SyscallError && e.errno === Errno.ENOPROTOOPT)) throw e;
        }
      }
    } catch (e) {
      s.close();
      throw e;
    }
    return s;
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** SO_BINDTODEVICE: send and receive only through `ifname`. */
  bindToDevice(ifname: string): void {
    const name = new TextEncoder().encode(ifname);
    if (name.byteLength === 0 || name.byteLength > 15 || name.includes(0)) {
      throw new RangeError(`Invalid interface name "${ifname}": must be 1 to 15 bytes`);
    }
    const buf = new Uint8Array(name.byteLength + 1);
    buf.set(name);
    if (
      libc().setsockopt(this.#fdOrThrow(), SOL_SOCKET, SO_BINDTODEVICE, buf, buf.byteLength) < 0
    ) {
      throw new SyscallError("setsockopt", errno(), `Cannot bind raw socket to "${ifname}"`);
    }
    this.#device = ifname;
  }

  /** bind() to a local address (the source of what this socket sends). */
  bindAddress(address: Uint8Array, ifindex = 0): void {
    this.#check(address, "local address");
    const sa = this.family === "ipv4"
      ? encodeSockaddrIn({ addr: address, port: 0 })
      : encodeSockaddrIn6({ addr: address, port: 0, flowinfo: 0, scopeId: ifindex });
    if (libc().bind(this.#fdOrThrow(), sa, sa.byteLength) < 0) {
      throw new SyscallError("bind", errno(), `Cannot bind raw socket to ${addressText(address)}`);
    }
    if (this.family === "ipv4") {
      this.#boundV4 = address.slice();
      this.#dests.clear();
    }
  }

  /** Joins multicast `group` on interface `ifindex` (`ifname` names it in errors). */
  joinGroup(group: Uint8Array, ifindex: number, ifname: string): void {
    this.#membership(group, ifindex, ifname, true);
  }

  /** Leaves multicast `group` on interface `ifindex`. */
  leaveGroup(group: Uint8Array, ifindex: number, ifname: string): void {
    this.#membership(group, ifindex, ifname, false);
  }

  #membership(group: Uint8Array, ifindex: number, ifname: string, join: boolean): void {
    this.#check(group, "multicast group");
    const text = addressText(group);
    if (!isMulticastBytes(group)) {
      throw new TypeError(`Invalid multicast group ${text}: not a multicast address`);
    }
    const v4 = this.family === "ipv4";
    const req = v4 ? encodeIpMreqn(group, ifindex) : encodeIpv6Mreq(group, ifindex);
    const name = v4
      ? (join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP)
      : (join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP);
    if (libc().setsockopt(this.#fdOrThrow(), this.#level, name, req, req.byteLength) < 0) {
      throw new SyscallError(
        "setsockopt",
        errno(),
        `Cannot ${join ? "join" : "leave"} ${text} on "${ifname}"`,
      );
    }
  }

  /** IP_MULTICAST_IF (by ifindex) / IPV6_MULTICAST_IF: where multicast is sent. */
  setMulticastInterface(ifindex: number, ifname: string): void {
    const fd = this.#fdOrThrow();
    const what = `Cannot send multicast through "${ifname}"`;
    if (this.family === "ipv4") {
      const req = encodeIpMreqn(new Uint8Array(4), ifindex);
      if (libc().setsockopt(fd, SOL_IP, IP_MULTICAST_IF, req, req.byteLength) < 0) {
        throw new SyscallError("setsockopt", errno(), what);
      }
    } else {
      setIntOption(fd, SOL_IPV6, IPV6_MULTICAST_IF, ifindex, what);
    }
  }

  /** IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (VRRP sends 255). */
  setMulticastHops(hops: number): void {
    this.#hops(hops);
    const v4 = this.family === "ipv4";
    setIntOption(
      this.#fdOrThrow(),
      this.#level,
      v4 ? IP_MULTICAST_TTL : IPV6_MULTICAST_HOPS,
      hops,
      `Cannot set multicast hop limit ${hops}`,
    );
  }

  /** IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP. */
  setMulticastLoop(on: boolean): void {
    const v4 = this.family === "ipv4";
    setIntOption(
      this.#fdOrThrow(),
      this.#level,
      v4 ? IP_MULTICAST_LOOP : IPV6_MULTICAST_LOOP,
      on ? 1 : 0,
      `Cannot turn multicast loop ${on ? "on" : "off"}`,
    );
  }

  /** IP_TTL / IPV6_UNICAST_HOPS. */
  setUnicastHops(hops: number): void {
    this.#hops(hops);
    const v4 = this.family === "ipv4";
    setIntOption(
      this.#fdOrThrow(),
      this.#level,
      v4 ? IP_TTL : IPV6_UNICAST_HOPS,
      hops,
      `Cannot set unicast hop limit ${hops}`,
    );
  }

  /** IP_TOS / IPV6_TCLASS. */
  setTrafficClass(tos: number): void {
    if (!Number.isInteger(tos) || tos < 0 || tos > 255) {
      throw new RangeError(`Invalid traffic class ${tos}: expected 0 to 255`);
    }
    const v4 = this.family === "ipv4";
    setIntOption(
      this.#fdOrThrow(),
      this.#level,
      v4 ? IP_TOS : IPV6_TCLASS,
      tos,
      `Cannot set traffic class ${tos}`,
    );
  }

  /** IPV6_CHECKSUM: the kernel fills and checks the checksum at `offset` (-1 turns it off). */
  setChecksumOffset(offset: number): void {
    if (this.family !== "ipv6") {
      throw new TypeError("IPV6_CHECKSUM applies to IPv6 raw sockets only");
    }
    setIntOption(
      this.#fdOrThrow(),
      SOL_IPV6,
      IPV6_CHECKSUM,
      offset,
      `Cannot set checksum offset ${offset}`,
    );
  }

  /**
   * Sends one datagram with MSG_DONTWAIT; returns false on EAGAIN. With `ifindex`, the datagram
   * leaves through that interface (pktinfo); an IPv6 link-local or multicast `dst` also gets it
   * as `sin6_scope_id`.
   */
  sendTo(payload: Uint8Array, dst: Uint8Array, ifindex?: number): boolean {
    const fd = this.#fdOrThrow();
    const key = `${dst.join(",")}%${ifindex ?? 0}`;
    let d = this.#dests.get(key);
    if (d === undefined) {
      d = this.#destination(dst, ifindex);
      if (this.#dests.size >= DEST_CACHE_SIZE) this.#dests.clear();
      this.#dests.set(key, d);
    }
    let n: number | bigint;
    if (d.msg === null) {
      n = libc().sendto(
        fd,
        payload,
        BigInt(payload.byteLength),
        MSG_DONTWAIT,
        d.sa,
        d.sa.byteLength,
      );
    } else {
      d.iov.setBigUint64(OFFSET.iovec.base, pointerValue(payload), true);
      d.iov.setBigUint64(OFFSET.iovec.len, BigInt(payload.byteLength), true);
      n = libc().sendmsg(fd, d.msg, MSG_DONTWAIT);
    }
    if (Number(n) >= 0) return true;
    const e = errno();
    if (e === Errno.EAGAIN) return false;
    const on = (ifindex !== undefined && ifindex > 0 ? linkName(ifindex) : null) ??
      (this.#device !== "" ? this.#device : null);
    throw new SyscallError(
      "sendto",
      e,
      `Cannot send to ${addressText(dst)}${on ? ` on "${on}"` : ""}`,
    );
  }

  // Builds (once per destination) the sockaddr and, when an interface is named and the
  // address does not carry it as a scope, a msghdr with a pktinfo cmsg choosing it.
  #destination(dst: Uint8Array, ifindex: number | undefined): Destination {
    this.#check(dst, "destination");
    const addr = dst.slice();
    const oif = ifindex !== undefined && ifindex > 0 ? ifindex : 0;
    let sa: Uint8Array;
    let control: Uint8Array | null = null;
    if (this.family === "ipv4") {
      sa = encodeSockaddrIn({ addr, port: 0 });
      if (oif > 0) {
        // A pktinfo's spec_dst replaces the bound address as the source (ip_cmsg_send): a zero
        // one would let the kernel pick any address of the interface, a VIP included.
        const zero = new Uint8Array(4);
        control = encodeCmsgs([{
          level: SOL_IP,
          type: IP_PKTINFO,
          data: encodeInPktinfo({ ifindex: oif, specDst: this.#boundV4 ?? zero, addr: zero }),
        }]);
      }
    } else {
      const scoped = oif > 0 && (isLinkLocal6Bytes(addr) || isMulticastBytes(addr));
      sa = encodeSockaddrIn6({ addr, port: 0, flowinfo: 0, scopeId: scoped ? oif : 0 });
      if (oif > 0 && !scoped) {
        control = encodeCmsgs([{
          level: SOL_IPV6,
          type: IPV6_PKTINFO,
          data: encodeIn6Pktinfo({ addr: new Uint8Array(16), ifindex: oif }),
        }]);
      }
    }
    const iov = encodeIovec(0n, 0);
    if (control === null) return { sa, iov: new DataView(iov.buffer), msg: null, keep: [] };
    const msg = encodeMsghdr({
      name: pointerValue(sa),
      namelen: sa.byteLength,
      iov: pointerValue(iov),
      iovlen: 1,
      control: pointerValue(control),
      controllen: control.byteLength,
      flags: 0,
    });
    return { sa, iov: new DataView(iov.buffer), msg, keep: [iov, control] };
  }

  /** Reads one datagram with MSG_DONTWAIT, or returns null when none is queued. */
  recv(): Received | null {
    if (this.#fd < 0) return null;
    const x = this.#rx ??= newRecvState();
    for (;;) {
      const m = x.msgView;
      m.setUint32(OFFSET.msghdr.namelen, x.name.byteLength, true);
      m.setBigUint64(OFFSET.msghdr.controllen, BigInt(x.control.byteLength), true);
      m.setInt32(OFFSET.msghdr.flags, 0, true);
      const n = Number(libc().recvmsg(this.#fd, x.msg, MSG_DONTWAIT));
      if (n < 0) {
        const e = errno();
        if (e === Errno.EAGAIN) return null;
        if (e === Errno.EINTR) continue;
        throw new SyscallError("recvmsg", e, `Cannot read ${this.family} raw socket`);
      }
      const controlLen = Number(m.getBigUint64(OFFSET.msghdr.controllen, true));
      const r = this.family === "ipv4" ? decode4(x, n, controlLen) : decode6(x, n, controlLen);
      if (r !== null) return r;
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
    if (this.#fd < 0) throw new Error(`The ${this.family} raw socket is closed`);
    return this.#fd;
  }

  /** Throws TypeError unless `address` is of this socket's family. */
  #check(address: Uint8Array, what: string): void {
    const family = familyOf(address);
    if (family === null) {
      throw new TypeError(`Invalid ${what}: ${address.length} bytes is not an IP address`);
    }
    if (family !== this.family) {
      throw new TypeError(
        `Invalid ${what} ${addressText(address)}: an ${family} address on an ${this.family} socket`,
      );
    }
  }

  #hops(hops: number): void {
    if (!Number.isInteger(hops) || hops < 0 || hops > 255) {
      throw new RangeError(`Invalid hop limit ${hops}: expected 0 to 255`);
    }
  }
}

// The hot path walks the control buffer in place (CMSG_FIRSTHDR / CMSG_NXTHDR) instead of
// decodeCmsgs(), which allocates per message: this keeps recv() near the cost of the syscall.
function walkControl(
  x: RecvState,
  controlLen: number,
  level: number,
): { ifindex: number; dstAt: number; hops: number } {
  const v = x.controlView;
  const end = Math.min(controlLen, x.control.byteLength);
  const pktinfo = level === SOL_IP ? IP_PKTINFO : IPV6_PKTINFO;
  const hopType = level === SOL_IP ? IP_TTL : IPV6_HOPLIMIT;
  const pktinfoBytes = level === SOL_IP ? SIZEOF.in_pktinfo : SIZEOF.in6_pktinfo;
  const out = { ifindex: 0, dstAt: -1, hops: -1 };
  let at = 0;
  while (at + SIZEOF.cmsghdr <= end) {
    const len = v.getUint32(at + OFFSET.cmsghdr.len, true);
    if (len < SIZEOF.cmsghdr || at + len > end) break;
    const data = at + OFFSET.cmsghdr.data;
    const dataLen = len - SIZEOF.cmsghdr;
    if (v.getInt32(at + OFFSET.cmsghdr.level, true) === level) {
      const type = v.getInt32(at + OFFSET.cmsghdr.type, true);
      if (type === pktinfo && dataLen >= pktinfoBytes) {
        if (level === SOL_IP) {
          out.ifindex = v.getInt32(data + OFFSET.in_pktinfo.ifindex, true);
          out.dstAt = data + OFFSET.in_pktinfo.addr;
        } else {
          out.ifindex = v.getUint32(data + OFFSET.in6_pktinfo.ifindex, true);
          out.dstAt = data + OFFSET.in6_pktinfo.addr;
        }
      } else if (type === hopType && dataLen >= 4) {
        out.hops = v.getInt32(data, true);
      }
    }
    at += cmsgAlign(len);
  }
  return out;
}

function decode4(x: RecvState, n: number, controlLen: number): Received | null {
  const b = x.buf;
  // The kernel hands raw IPv4 sockets the whole datagram, header included (RFC 791 3.1).
  if (n < 20 || b[0]! >> 4 !== 4) return null;
  const ihl = (b[0]! & 0x0f) * 4;
  if (ihl < 20 || ihl > n) return null;
  const c = walkControl(x, controlLen, SOL_IP);
  const d = c.dstAt >= 0 ? x.control : b;
  const at = c.dstAt >= 0 ? c.dstAt : 16;
  return {
    payload: b.slice(ihl, n),
    src: b.slice(12, 16),
    dst: d.slice(at, at + 4),
    ifindex: c.ifindex,
    hopLimit: c.hops >= 0 ? c.hops : b[8]!,
  };
}

function decode6(x: RecvState, n: number, controlLen: number): Received | null {
  const c = walkControl(x, controlLen, SOL_IPV6);
  const src = x.name.subarray(OFFSET.sockaddr_in6.addr, OFFSET.sockaddr_in6.addr + 16);
  return {
    payload: x.buf.slice(0, n),
    src: src.slice(),
    dst: c.dstAt < 0 ? new Uint8Array(16) : x.control.slice(c.dstAt, c.dstAt + 16),
    ifindex: c.ifindex,
    hopLimit: c.hops,
  };
}
