/**
 * Byte layouts of the C structs haagent hands to libc (x86-64 glibc, little-endian), and the
 * constants that go with them. Encoders return fresh `Uint8Array`s; decoders take a
 * `Uint8Array` and check its length first. Pure: nothing here calls libc.
 *
 * @module
 */

// Address families and socket types (<bits/socket.h>, <bits/socket_type.h>).
/** AF_UNSPEC. */
export const AF_UNSPEC = 0;
/** AF_UNIX (AF_LOCAL). */
export const AF_UNIX = 1;
/** AF_INET. */
export const AF_INET = 2;
/** AF_INET6. */
export const AF_INET6 = 10;
/** AF_NETLINK. */
export const AF_NETLINK = 16;
/** AF_PACKET. */
export const AF_PACKET = 17;
/** SOCK_STREAM. */
export const SOCK_STREAM = 1;
/** SOCK_DGRAM. */
export const SOCK_DGRAM = 2;
/** SOCK_RAW. */
export const SOCK_RAW = 3;
/** SOCK_NONBLOCK (O_NONBLOCK). */
export const SOCK_NONBLOCK = 0o4000;
/** SOCK_CLOEXEC (O_CLOEXEC). */
export const SOCK_CLOEXEC = 0o2000000;

// Protocol numbers and option levels.
/** IPPROTO_IP, also the level SOL_IP. */
export const IPPROTO_IP = 0;
/** IPPROTO_ICMP. */
export const IPPROTO_ICMP = 1;
/** IPPROTO_TCP. */
export const IPPROTO_TCP = 6;
/** IPPROTO_UDP. */
export const IPPROTO_UDP = 17;
/** IPPROTO_IPV6, also the level SOL_IPV6. */
export const IPPROTO_IPV6 = 41;
/** IPPROTO_ICMPV6. */
export const IPPROTO_ICMPV6 = 58;
/** IPPROTO_VRRP (112). */
export const IPPROTO_VRRP = 112;
/** SOL_SOCKET. */
export const SOL_SOCKET = 1;
/** SOL_IP. */
export const SOL_IP = 0;
/** SOL_IPV6. */
export const SOL_IPV6 = 41;
/** SOL_PACKET. */
export const SOL_PACKET = 263;

// SOL_SOCKET options.
/** SO_REUSEADDR. */
export const SO_REUSEADDR = 2;
/** SO_ERROR. */
export const SO_ERROR = 4;
/** SO_SNDBUF. */
export const SO_SNDBUF = 7;
/** SO_RCVBUF. */
export const SO_RCVBUF = 8;
/** SO_PRIORITY. */
export const SO_PRIORITY = 12;
/** SO_BINDTODEVICE. */
export const SO_BINDTODEVICE = 25;
/** SO_MARK: the firewall mark of the socket's packets (needs CAP_NET_ADMIN). */
export const SO_MARK = 36;

// SOL_IP options (<linux/in.h>).
/** IP_TOS. */
export const IP_TOS = 1;
/** IP_TTL; also the cmsg type carrying the received TTL. */
export const IP_TTL = 2;
/** IP_HDRINCL. */
export const IP_HDRINCL = 3;
/** IP_PKTINFO; also the cmsg type carrying `in_pktinfo`. */
export const IP_PKTINFO = 8;
/** IP_RECVTTL. */
export const IP_RECVTTL = 12;
/** IP_MULTICAST_IF. */
export const IP_MULTICAST_IF = 32;
/** IP_MULTICAST_TTL. */
export const IP_MULTICAST_TTL = 33;
/** IP_MULTICAST_LOOP. */
export const IP_MULTICAST_LOOP = 34;
/** IP_ADD_MEMBERSHIP. */
export const IP_ADD_MEMBERSHIP = 35;
/** IP_DROP_MEMBERSHIP. */
export const IP_DROP_MEMBERSHIP = 36;
/** IP_MULTICAST_ALL. */
export const IP_MULTICAST_ALL = 49;

// SOL_IPV6 options (<linux/in6.h>, <linux/ipv6.h>).
/** IPV6_CHECKSUM. */
export const IPV6_CHECKSUM = 7;
/** IPV6_UNICAST_HOPS. */
export const IPV6_UNICAST_HOPS = 16;
/** IPV6_MULTICAST_IF. */
export const IPV6_MULTICAST_IF = 17;
/** IPV6_MULTICAST_HOPS. */
export const IPV6_MULTICAST_HOPS = 18;
/** IPV6_MULTICAST_LOOP. */
export const IPV6_MULTICAST_LOOP = 19;
/** IPV6_ADD_MEMBERSHIP (IPV6_JOIN_GROUP). */
export const IPV6_ADD_MEMBERSHIP = 20;
/** IPV6_DROP_MEMBERSHIP (IPV6_LEAVE_GROUP). */
export const IPV6_DROP_MEMBERSHIP = 21;
/** IPV6_V6ONLY. */
export const IPV6_V6ONLY = 26;
/** IPV6_MULTICAST_ALL. */
export const IPV6_MULTICAST_ALL = 29;
/** IPV6_RECVPKTINFO. */
export const IPV6_RECVPKTINFO = 49;
/** IPV6_PKTINFO; also the cmsg type carrying `in6_pktinfo`. */
export const IPV6_PKTINFO = 50;
/** IPV6_RECVHOPLIMIT. */
export const IPV6_RECVHOPLIMIT = 51;
/** IPV6_HOPLIMIT; the cmsg type carrying the received hop limit. */
export const IPV6_HOPLIMIT = 52;
/** IPV6_TCLASS. */
export const IPV6_TCLASS = 67;

// send/recv flags.
/** MSG_PEEK. */
export const MSG_PEEK = 0x2;
/** MSG_CTRUNC. */
export const MSG_CTRUNC = 0x8;
/** MSG_TRUNC. */
export const MSG_TRUNC = 0x20;
/** MSG_NOSIGNAL: no SIGPIPE when the peer is gone (EPIPE instead). */
export const MSG_NOSIGNAL = 0x4000;
/** MSG_DONTWAIT. */
export const MSG_DONTWAIT = 0x40;

// epoll and eventfd.
/** EPOLL_CLOEXEC. */
export const EPOLL_CLOEXEC = 0o2000000;
/** EPOLL_CTL_ADD. */
export const EPOLL_CTL_ADD = 1;
/** EPOLL_CTL_DEL. */
export const EPOLL_CTL_DEL = 2;
/** EPOLL_CTL_MOD. */
export const EPOLL_CTL_MOD = 3;
/** EPOLLIN. */
export const EPOLLIN = 0x001;
/** EPOLLOUT. */
export const EPOLLOUT = 0x004;
/** EPOLLERR. */
export const EPOLLERR = 0x008;
/** EPOLLHUP. */
export const EPOLLHUP = 0x010;
/** EFD_NONBLOCK. */
export const EFD_NONBLOCK = 0o4000;
/** EFD_CLOEXEC. */
export const EFD_CLOEXEC = 0o2000000;

// Ethernet and AF_PACKET (<linux/if_ether.h>, <linux/if_packet.h>).
/** ETH_P_ALL. */
export const ETH_P_ALL = 0x0003;
/** ETH_P_IP. */
export const ETH_P_IP = 0x0800;
/** ETH_P_ARP. */
export const ETH_P_ARP = 0x0806;
/** ETH_P_IPV6. */
export const ETH_P_IPV6 = 0x86dd;
/** ARPHRD_ETHER. */
export const ARPHRD_ETHER = 1;
/** PACKET_HOST: `sll_pkttype` of a frame addressed to this host. */
export const PACKET_HOST = 0;
/** PACKET_BROADCAST. */
export const PACKET_BROADCAST = 1;
/** PACKET_MULTICAST. */
export const PACKET_MULTICAST = 2;
/** PACKET_OTHERHOST. */
export const PACKET_OTHERHOST = 3;
/** PACKET_OUTGOING: a frame this host sent, looped back to packet sockets. */
export const PACKET_OUTGOING = 4;

// Interface ioctls and flags (<linux/sockios.h>, <net/if.h>).
/** SIOCGIFNAME. */
export const SIOCGIFNAME = 0x8910;
/** SIOCGIFFLAGS. */
export const SIOCGIFFLAGS = 0x8913;
/** SIOCGIFMTU. */
export const SIOCGIFMTU = 0x8921;
/** SIOCGIFHWADDR. */
export const SIOCGIFHWADDR = 0x8927;
/** SIOCGIFINDEX. */
export const SIOCGIFINDEX = 0x8933;
/** IFF_UP. */
export const IFF_UP = 0x1;
/** IFF_BROADCAST. */
export const IFF_BROADCAST = 0x2;
/** IFF_LOOPBACK. */
export const IFF_LOOPBACK = 0x8;
/** IFF_RUNNING. */
export const IFF_RUNNING = 0x40;
/** IFF_NOARP. */
export const IFF_NOARP = 0x80;
/** IFF_MULTICAST. */
export const IFF_MULTICAST = 0x1000;
/** IFNAMSIZ: interface names are at most 15 bytes plus a NUL. */
export const IFNAMSIZ = 16;

/** Struct sizes in bytes (x86-64). */
export const SIZEOF = Object.freeze({
  sockaddr_in: 16,
  sockaddr_in6: 28,
  sockaddr_ll: 20,
  sockaddr_nl: 12,
  ip_mreqn: 12,
  ipv6_mreq: 20,
  ifreq: 40,
  iovec: 16,
  msghdr: 56,
  cmsghdr: 16,
  in_pktinfo: 12,
  in6_pktinfo: 20,
  epoll_event: 12,
  sockaddr_un: 110,
});

/** Field offsets, one table per struct. */
export const OFFSET = Object.freeze({
  sockaddr_in: { family: 0, port: 2, addr: 4 },
  sockaddr_in6: { family: 0, port: 2, flowinfo: 4, addr: 8, scopeId: 24 },
  sockaddr_ll: { family: 0, protocol: 2, ifindex: 4, hatype: 8, pkttype: 10, halen: 11, addr: 12 },
  sockaddr_nl: { family: 0, pid: 4, groups: 8 },
  ip_mreqn: { multiaddr: 0, address: 4, ifindex: 8 },
  ipv6_mreq: { multiaddr: 0, ifindex: 16 },
  ifreq: { name: 0, ifindex: 16, flags: 16, mtu: 16, hwaddrFamily: 16, hwaddrData: 18 },
  iovec: { base: 0, len: 8 },
  msghdr: { name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48 },
  cmsghdr: { len: 0, level: 8, type: 12, data: 16 },
  in_pktinfo: { ifindex: 0, specDst: 4, addr: 8 },
  in6_pktinfo: { addr: 0, ifindex: 16 },
  epoll_event: { events: 0, data: 4 },
  sockaddr_un: { family: 0, path: 2 },
});

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

function need(b: Uint8Array, n: number, what: string): void {
  if (b.byteLength < n) {
    throw new RangeError(`A ${what} needs ${n} bytes, got ${b.byteLength}`);
  }
}

function addrBytes(addr: Uint8Array, n: number, what: string): Uint8Array {
  if (addr.byteLength !== n) {
    throw new RangeError(`A ${what} address has ${n} bytes, not ${addr.byteLength}`);
  }
  return addr;
}

/** An IPv4 socket address. */
export interface SockaddrIn {
  addr: Uint8Array;
  port: number;
}

/** Encodes `struct sockaddr_in` (port in network order). */
export function encodeSockaddrIn(a: SockaddrIn): Uint8Array {
  const b = new Uint8Array(SIZEOF.sockaddr_in);
  const v = view(b);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, a.port, false);
  b.set(addrBytes(a.addr, 4, "sockaddr_in"), 4);
  return b;
}

/** Decodes `struct sockaddr_in`; throws RangeError when short. */
export function decodeSockaddrIn(b: Uint8Array): SockaddrIn {
  need(b, SIZEOF.sockaddr_in, "sockaddr_in");
  return { port: view(b).getUint16(2, false), addr: b.slice(4, 8) };
}

/** An IPv6 socket address. */
export interface SockaddrIn6 {
  addr: Uint8Array;
  port: number;
  flowinfo: number;
  scopeId: number;
}

/** Encodes `struct sockaddr_in6` (port and flowinfo in network order, scope id in host order). */
export function encodeSockaddrIn6(a: SockaddrIn6): Uint8Array {
  const b = new Uint8Array(SIZEOF.sockaddr_in6);
  const v = view(b);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, a.port, false);
  v.setUint32(4, a.flowinfo, false);
  b.set(addrBytes(a.addr, 16, "sockaddr_in6"), 8);
  v.setUint32(24, a.scopeId, true);
  return b;
}

/** Decodes `struct sockaddr_in6`; throws RangeError when short. */
export function decodeSockaddrIn6(b: Uint8Array): SockaddrIn6 {
  need(b, SIZEOF.sockaddr_in6, "sockaddr_in6");
  const v = view(b);
  return {
    port: v.getUint16(2, false),
    flowinfo: v.getUint32(4, false),
    addr: b.slice(8, 24),
    scopeId: v.getUint32(24, true),
  };
}

/** A link-layer (AF_PACKET) socket address. */
export interface SockaddrLl {
  protocol: number;
  ifindex: number;
  hatype: number;
  pkttype: number;
  addr: Uint8Array;
}

/** Encodes `struct sockaddr_ll` (protocol in network order; up to 8 address bytes). */
export function encodeSockaddrLl(a: SockaddrLl): Uint8Array {
  if (a.addr.byteLength > 8) {
    throw new RangeError(`A sockaddr_ll address has at most 8 bytes, not ${a.addr.byteLength}`);
  }
  const b = new Uint8Array(SIZEOF.sockaddr_ll);
  const v = view(b);
  v.setUint16(0, AF_PACKET, true);
  v.setUint16(2, a.protocol, false);
  v.setInt32(4, a.ifindex, true);
  v.setUint16(8, a.hatype, true);
  b[10] = a.pkttype;
  b[11] = a.addr.byteLength;
  b.set(a.addr, 12);
  return b;
}

/** Decodes `struct sockaddr_ll`; throws RangeError when short. */
export function decodeSockaddrLl(b: Uint8Array): SockaddrLl {
  need(b, SIZEOF.sockaddr_ll, "sockaddr_ll");
  const v = view(b);
  const halen = Math.min(b[11]!, 8);
  return {
    protocol: v.getUint16(2, false),
    ifindex: v.getInt32(4, true),
    hatype: v.getUint16(8, true),
    pkttype: b[10]!,
    addr: b.slice(12, 12 + halen),
  };
}

/** A netlink socket address. */
export interface SockaddrNl {
  pid: number;
  groups: number;
}

/** Encodes `struct sockaddr_nl`. */
export function encodeSockaddrNl(a: SockaddrNl): Uint8Array {
  const b = new Uint8Array(SIZEOF.sockaddr_nl);
  const v = view(b);
  v.setUint16(0, AF_NETLINK, true);
  v.setUint32(4, a.pid, true);
  v.setUint32(8, a.groups, true);
  return b;
}

/** Decodes `struct sockaddr_nl`; throws RangeError when short. */
export function decodeSockaddrNl(b: Uint8Array): SockaddrNl {
  need(b, SIZEOF.sockaddr_nl, "sockaddr_nl");
  const v = view(b);
  return { pid: v.getUint32(4, true), groups: v.getUint32(8, true) };
}

/** Encodes `struct ip_mreqn` (group, local address or 0.0.0.0, ifindex). */
export function encodeIpMreqn(group: Uint8Array, ifindex: number, local?: Uint8Array): Uint8Array {
  const b = new Uint8Array(SIZEOF.ip_mreqn);
  b.set(addrBytes(group, 4, "ip_mreqn"), 0);
  if (local !== undefined) b.set(addrBytes(local, 4, "ip_mreqn"), 4);
  view(b).setInt32(8, ifindex, true);
  return b;
}

/** Encodes `struct ipv6_mreq` (group, ifindex). */
export function encodeIpv6Mreq(group: Uint8Array, ifindex: number): Uint8Array {
  const b = new Uint8Array(SIZEOF.ipv6_mreq);
  b.set(addrBytes(group, 16, "ipv6_mreq"), 0);
  view(b).setUint32(16, ifindex, true);
  return b;
}

/** Encodes `struct ifreq` with `ifr_name` set; throws RangeError for names over 15 bytes. */
export function encodeIfreqName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.byteLength === 0 || bytes.byteLength >= IFNAMSIZ || bytes.includes(0)) {
    throw new RangeError(
      `Invalid interface name "${name}": must be 1 to ${IFNAMSIZ - 1} bytes without NUL`,
    );
  }
  const b = new Uint8Array(SIZEOF.ifreq);
  b.set(bytes, 0);
  return b;
}

/** Encodes `struct ifreq` with `ifr_ifindex` set (for SIOCGIFNAME). */
export function encodeIfreqIndex(ifindex: number): Uint8Array {
  const b = new Uint8Array(SIZEOF.ifreq);
  view(b).setInt32(16, ifindex, true);
  return b;
}

/** Decodes the views of an `ifreq` union that haagent reads after an ioctl. */
export function decodeIfreq(b: Uint8Array): {
  name: string;
  int: number;
  flags: number;
  hwFamily: number;
  hwaddr: Uint8Array;
} {
  need(b, SIZEOF.ifreq, "ifreq");
  const v = view(b);
  const nul = b.subarray(0, IFNAMSIZ).indexOf(0);
  return {
    name: new TextDecoder().decode(b.subarray(0, nul < 0 ? IFNAMSIZ : nul)),
    int: v.getInt32(16, true),
    flags: v.getUint16(16, true),
    hwFamily: v.getUint16(16, true),
    hwaddr: b.slice(18, 24),
  };
}

/** Encodes `struct iovec` from a pointer value and a length. */
export function encodeIovec(base: bigint, len: number): Uint8Array {
  const b = new Uint8Array(SIZEOF.iovec);
  const v = view(b);
  v.setBigUint64(0, base, true);
  v.setBigUint64(8, BigInt(len), true);
  return b;
}

/** The fields of `struct msghdr`, with pointers as numeric values. */
export interface Msghdr {
  name: bigint;
  namelen: number;
  iov: bigint;
  iovlen: number;
  control: bigint;
  controllen: number;
  flags: number;
}

/** Encodes `struct msghdr`. */
export function encodeMsghdr(m: Msghdr): Uint8Array {
  const b = new Uint8Array(SIZEOF.msghdr);
  const v = view(b);
  v.setBigUint64(0, m.name, true);
  v.setUint32(8, m.namelen, true);
  v.setBigUint64(16, m.iov, true);
  v.setBigUint64(24, BigInt(m.iovlen), true);
  v.setBigUint64(32, m.control, true);
  v.setBigUint64(40, BigInt(m.controllen), true);
  v.setInt32(48, m.flags, true);
  return b;
}

/** Decodes `struct msghdr`; throws RangeError when short. */
export function decodeMsghdr(b: Uint8Array): Msghdr {
  need(b, SIZEOF.msghdr, "msghdr");
  const v = view(b);
  return {
    name: v.getBigUint64(0, true),
    namelen: v.getUint32(8, true),
    iov: v.getBigUint64(16, true),
    iovlen: Number(v.getBigUint64(24, true)),
    control: v.getBigUint64(32, true),
    controllen: Number(v.getBigUint64(40, true)),
    flags: v.getInt32(48, true),
  };
}

/** CMSG_ALIGN: rounds up to the size of `size_t` (8). */
export function cmsgAlign(n: number): number {
  return (n + 7) & ~7;
}

/** CMSG_SPACE: bytes one control message with `dataLen` bytes of data occupies. */
export function cmsgSpace(dataLen: number): number {
  return SIZEOF.cmsghdr + cmsgAlign(dataLen);
}

/** One ancillary (control) message. */
export interface Cmsg {
  level: number;
  type: number;
  data: Uint8Array;
}

/** Encodes control messages back to back, each padded to CMSG_ALIGN. */
export function encodeCmsgs(msgs: readonly Cmsg[]): Uint8Array {
  const b = new Uint8Array(msgs.reduce((n, m) => n + cmsgSpace(m.data.byteLength), 0));
  const v = view(b);
  let at = 0;
  for (const m of msgs) {
    v.setBigUint64(at, BigInt(SIZEOF.cmsghdr + m.data.byteLength), true);
    v.setInt32(at + 8, m.level, true);
    v.setInt32(at + 12, m.type, true);
    b.set(m.data, at + SIZEOF.cmsghdr);
    at += cmsgSpace(m.data.byteLength);
  }
  return b;
}

/**
 * Decodes the first `len` bytes of a control buffer as CMSG_FIRSTHDR/CMSG_NXTHDR would;
 * stops at the first header that does not fit. Never throws.
 */
export function decodeCmsgs(b: Uint8Array, len = b.byteLength): Cmsg[] {
  const out: Cmsg[] = [];
  const end = Math.min(len, b.byteLength);
  const v = view(b);
  let at = 0;
  while (at + SIZEOF.cmsghdr <= end) {
    const cmsgLen = Number(v.getBigUint64(at, true));
    if (cmsgLen < SIZEOF.cmsghdr || at + cmsgLen > end) break;
    out.push({
      level: v.getInt32(at + 8, true),
      type: v.getInt32(at + 12, true),
      data: b.slice(at + SIZEOF.cmsghdr, at + cmsgLen),
    });
    at += cmsgAlign(cmsgLen);
  }
  return out;
}

/** `struct in_pktinfo`. */
export interface InPktinfo {
  ifindex: number;
  specDst: Uint8Array;
  addr: Uint8Array;
}

/** Encodes `struct in_pktinfo`. */
export function encodeInPktinfo(p: InPktinfo): Uint8Array {
  const b = new Uint8Array(SIZEOF.in_pktinfo);
  view(b).setInt32(0, p.ifindex, true);
  b.set(addrBytes(p.specDst, 4, "in_pktinfo"), 4);
  b.set(addrBytes(p.addr, 4, "in_pktinfo"), 8);
  return b;
}

/** Decodes `struct in_pktinfo`; throws RangeError when short. */
export function decodeInPktinfo(b: Uint8Array): InPktinfo {
  need(b, SIZEOF.in_pktinfo, "in_pktinfo");
  return { ifindex: view(b).getInt32(0, true), specDst: b.slice(4, 8), addr: b.slice(8, 12) };
}

/** `struct in6_pktinfo`. */
export interface In6Pktinfo {
  addr: Uint8Array;
  ifindex: number;
}

/** Encodes `struct in6_pktinfo`. */
export function encodeIn6Pktinfo(p: In6Pktinfo): Uint8Array {
  const b = new Uint8Array(SIZEOF.in6_pktinfo);
  b.set(addrBytes(p.addr, 16, "in6_pktinfo"), 0);
  view(b).setUint32(16, p.ifindex, true);
  return b;
}

/** Decodes `struct in6_pktinfo`; throws RangeError when short. */
export function decodeIn6Pktinfo(b: Uint8Array): In6Pktinfo {
  need(b, SIZEOF.in6_pktinfo, "in6_pktinfo");
  return { addr: b.slice(0, 16), ifindex: view(b).getUint32(16, true) };
}

/** `struct epoll_event` (packed on x86-64); `data` is the 64-bit user token. */
export interface EpollEvent {
  events: number;
  data: bigint;
}

/** Encodes one `struct epoll_event`. */
export function encodeEpollEvent(e: EpollEvent): Uint8Array {
  const b = new Uint8Array(SIZEOF.epoll_event);
  const v = view(b);
  v.setUint32(0, e.events, true);
  v.setBigUint64(4, e.data, true);
  return b;
}

/** Decodes the `i`th `struct epoll_event` of an array; throws RangeError when out of range. */
export function decodeEpollEvent(b: Uint8Array, i = 0): EpollEvent {
  const at = i * SIZEOF.epoll_event;
  need(b, at + SIZEOF.epoll_event, "epoll_event array");
  const v = view(b);
  return { events: v.getUint32(at, true), data: v.getBigUint64(at + 4, true) };
}

/** A 32-bit native-endian int, the payload of most socket options. */
export function encodeInt(n: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setInt32(0, n, true);
  return b;
}

/** Reads a 32-bit native-endian int; throws RangeError when short. */
export function decodeInt(b: Uint8Array): number {
  need(b, 4, "int");
  return view(b).getInt32(0, true);
}

/**
 * Encodes `struct sockaddr_un` for `path`, trimmed to the length the kernel needs (the
 * returned length is the `addrlen` to pass). A path starting with "@" is a Linux abstract
 * name: a leading NUL and the bytes after "@", with no terminating NUL (as systemd reads
 * `$NOTIFY_SOCKET`). Throws RangeError when the name is empty or longer than sun_path.
 */
export function encodeSockaddrUn(path: string): Uint8Array {
  const abstract = path.startsWith("@");
  const name = new TextEncoder().encode(abstract ? path.slice(1) : path);
  const room = SIZEOF.sockaddr_un - OFFSET.sockaddr_un.path;
  // A file name needs its NUL inside sun_path; an abstract name needs the leading NUL.
  if (name.byteLength === 0 || name.byteLength + 1 > room || (!abstract && name.includes(0))) {
    throw new RangeError(
      `Invalid unix socket path "${path}": must be 1 to ${room - 1} bytes without NUL`,
    );
  }
  const b = new Uint8Array(OFFSET.sockaddr_un.path + 1 + name.byteLength);
  view(b).setUint16(OFFSET.sockaddr_un.family, AF_UNIX, true);
  b.set(name, OFFSET.sockaddr_un.path + (abstract ? 1 : 0));
  return b;
}
