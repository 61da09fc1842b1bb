/**
 * AF_PACKET sockets for whole Ethernet frames (gratuitous ARP, IPv6 neighbour advertisements):
 * bound to one interface and ethertype, non-blocking.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import {
  AF_PACKET,
  ARPHRD_ETHER,
  decodeSockaddrLl,
  encodeSockaddrLl,
  MSG_DONTWAIT,
  PACKET_OUTGOING,
  SIZEOF,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
} from "./structs.ts";

const FRAME_BYTES = 65536;

/** A frame read from a packet socket, with the link-layer facts the kernel adds. */
export interface ReceivedFrame {
  frame: Uint8Array;
  /** PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST or PACKET_OTHERHOST. */
  pkttype: number;
  ifindex: number;
}

/** A non-blocking `AF_PACKET`/`SOCK_RAW` socket bound to one interface and ethertype. */
export class PacketSocket implements Disposable {
  readonly ifindex: number;
  readonly ifname: string;
  readonly ethertype: number;
  #fd: number;
  readonly #addr: Uint8Array;
  // Allocated on the first recv: announcement sockets only send.
  #buf: Uint8Array | null = null;
  readonly #from = new Uint8Array(SIZEOF.sockaddr_ll);
  readonly #fromLen = new Uint8Array(4);

  private constructor(fd: number, ifindex: number, ifname: string, ethertype: number) {
    this.#fd = fd;
    this.ifindex = ifindex;
    this.ifname = ifname;
    this.ethertype = ethertype;
    this.#addr = encodeSockaddrLl({
      protocol: ethertype,
      ifindex,
      hatype: ARPHRD_ETHER,
      pkttype: 0,
      addr: new Uint8Array(0),
    });
  }

  /** Opens a packet socket for `ethertype` (e.g. ETH_P_ARP) bound to interface `ifindex`. */
  static open(ifindex: number, ifname: string, ethertype: number): PacketSocket {
    if (!Number.isInteger(ethertype) || ethertype < 0 || ethertype > 0xffff) {
      throw new RangeError(`Invalid ethertype ${ethertype}: expected 0 to 0xffff`);
    }
    // Protocol 0 receives nothing until bind() names the ethertype and the interface.
    const fd = libc().socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw new SyscallError("socket", errno(), `Cannot open packet socket on "${ifname}"`);
    }
    const s = new PacketSocket(fd, ifindex, ifname, ethertype);
    if (libc().bind(fd, s.#addr, s.#addr.byteLength) < 0) {
      const e = errno();
      s.close();
      throw new SyscallError("bind", e, `Cannot bind packet socket to "${ifname}"`);
    }
    return s;
  }

  /** The file descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Sends a whole Ethernet frame (header included); returns false on EAGAIN. */
  send(frame: Uint8Array): boolean {
    if (this.#fd < 0) throw new Error(`The packet socket on "${this.ifname}" is closed`);
    const n = libc().sendto(
      this.#fd,
      frame,
      BigInt(frame.byteLength),
      MSG_DONTWAIT,
      this.#addr,
      this.#addr.byteLength,
    );
    if (Number(n) >= 0) return true;
    const e = errno();
    if (e === Errno.EAGAIN) return false;
    throw new SyscallError("sendto", e, `Cannot send frame on "${this.ifname}"`);
  }

  /** Reads one incoming frame, or null when none is queued (frames this host sent are skipped). */
  recv(): Uint8Array | null {
    return this.recvFrame()?.frame ?? null;
  }

  /** Like `recv`, with the packet type and interface the kernel reports. */
  recvFrame(): ReceivedFrame | null {
    if (this.#fd < 0) return null;
    const lenView = new DataView(this.#fromLen.buffer);
    const buf = this.#buf ??= new Uint8Array(FRAME_BYTES);
    for (;;) {
      lenView.setUint32(0, this.#from.byteLength, true);
      const n = Number(
        libc().recvfrom(
          this.#fd,
          buf,
          BigInt(buf.byteLength),
          MSG_DONTWAIT,
          this.#from,
          this.#fromLen,
        ),
      );
      if (n < 0) {
        const e = errno();
        if (e === Errno.EAGAIN) return null;
        if (e === Errno.EINTR) continue;
        throw new SyscallError("recvfrom", e, `Cannot read packet socket on "${this.ifname}"`);
      }
      const from = decodeSockaddrLl(this.#from);
      if (from.pkttype === PACKET_OUTGOING) continue;
      return { frame: buf.slice(0, n), pkttype: from.pkttype, ifindex: from.ifindex };
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
}
