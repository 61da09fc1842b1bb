/**
 * Interface facts through `ioctl(SIOCGIF*)` on a throw-away datagram socket: index, name,
 * MAC, flags and MTU of a link in the calling process's network namespace.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import {
  AF_INET,
  decodeIfreq,
  encodeIfreqIndex,
  encodeIfreqName,
  IFF_RUNNING,
  IFF_UP,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFINDEX,
  SIOCGIFMTU,
  SIOCGIFNAME,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from "./structs.ts";

/** What `linkInfo` reports about an interface. */
export interface LinkInfo {
  name: string;
  index: number;
  /** The hardware address (6 bytes on Ethernet; empty when the link has none). */
  mac: Uint8Array;
  /** IFF_* flags (the 16 bits SIOCGIFFLAGS returns). */
  flags: number;
  up: boolean;
  running: boolean;
  mtu: number;
}

function withSocket<T>(fn: (fd: number) => T): T {
  const fd = libc().socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw new SyscallError("socket", errno(), "Cannot open a socket for interface ioctls");
  }
  try {
    return fn(fd);
  } finally {
    libc().close(fd);
  }
}

function ioctl(fd: number, request: number, ifr: Uint8Array, what: string): void {
  if (libc().ioctl(fd, BigInt(request), ifr) < 0) {
    throw new SyscallError("ioctl", errno(), what);
  }
}

/**
 * The index of interface `name`. Throws SyscallError ENODEV
 * (`Unknown interface "eth9": ENODEV (No such device)`), or RangeError for names over 15 bytes.
 */
export function linkIndex(name: string): number {
  const ifr = encodeIfreqName(name);
  return withSocket((fd) => {
    ioctl(fd, SIOCGIFINDEX, ifr, `Unknown interface "${name}"`);
    return decodeIfreq(ifr).int;
  });
}

/** Index, MAC, flags and MTU of interface `name`; errors as for `linkIndex`. */
export function linkInfo(name: string): LinkInfo {
  const ifr = () => encodeIfreqName(name);
  return withSocket((fd) => {
    const unknown = `Unknown interface "${name}"`;
    const idx = ifr();
    ioctl(fd, SIOCGIFINDEX, idx, unknown);
    const hw = ifr();
    ioctl(fd, SIOCGIFHWADDR, hw, unknown);
    const fl = ifr();
    ioctl(fd, SIOCGIFFLAGS, fl, unknown);
    const mt = ifr();
    ioctl(fd, SIOCGIFMTU, mt, unknown);
    const flags = decodeIfreq(fl).flags;
    const hwaddr = decodeIfreq(hw).hwaddr;
    return {
      name,
      index: decodeIfreq(idx).int,
      mac: hwaddr.some((b) => b !== 0) ? hwaddr : new Uint8Array(0),
      flags,
      up: (flags & IFF_UP) !== 0,
      running: (flags & IFF_RUNNING) !== 0,
      mtu: decodeIfreq(mt).int,
    };
  });
}

/** The name of interface `index`, or null when no such interface exists. */
export function linkName(index: number): string | null {
  if (!Number.isInteger(index) || index <= 0 || index > 0x7fffffff) return null;
  const ifr = encodeIfreqIndex(index);
  return withSocket((fd) => {
    if (libc().ioctl(fd, BigInt(SIOCGIFNAME), ifr) < 0) {
      const e = errno();
      if (e === Errno.ENODEV) return null;
      throw new SyscallError("ioctl", e, `Cannot name interface ${index}`);
    }
    return decodeIfreq(ifr).name;
  });
}
