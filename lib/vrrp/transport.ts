/**
 * The VRRP transport: what a runner needs to receive and send VRRP messages
 * (`VrrpTransport`, implemented in memory by the tests' net), and the real one on raw
 * sockets (`SocketTransport`): one receive socket per (interface, family), shared by every
 * instance on it and demultiplexed by VRID, plus send sockets per source address. Multicast to
 * 224.0.0.18 / ff02::12 with TTL / hop limit 255, or unicast to configured peers.
 *
 * @module
 */
import { RawSocket } from "../../ffi/socket.ts";
import type { Reactor } from "../../ffi/reactor.ts";
import { formatIp, parseIp } from "../net/ip.ts";
import type { Logger } from "../runtime/log.ts";

/** IP protocol number of VRRP. */
export const IPPROTO_VRRP = 112;
/** IPv4 multicast group of VRRP. */
export const VRRP_GROUP4 = "224.0.0.18";
/** IPv6 multicast group of VRRP. */
export const VRRP_GROUP6 = "ff02::12";
/** Offset of the checksum in a VRRP message (for IPV6_CHECKSUM). */
const VRRP_CHECKSUM_OFFSET = 6;
/** DSCP CS6 / "network control", as keepalived sends (TOS 0xc0). */
const TOS_NETWORK_CONTROL = 0xc0;

/** A received VRRP message with what the IP layer said about it. */
export interface Datagram {
  /** The VRRP message (no IP header). */
  payload: Uint8Array;
  /** Source address (4 or 16 bytes). */
  src: Uint8Array;
  /** Destination address (4 or 16 bytes). */
  dst: Uint8Array;
  /** Index of the interface it arrived on (0 if unknown). */
  ifindex: number;
  /** IPv4 TTL or IPv6 hop limit as received. */
  hopLimit: number;
}

/** A received datagram handed to the instance that owns its VRID. */
export type AdvertHandler = (pkt: Datagram) => void;

/** Where a packet for an unknown VRID goes (for counting). */
export type UnknownHandler = (pkt: Datagram) => void;

/** Sends VRRP messages from one source on one interface. */
export interface VrrpSender extends Disposable {
  /** Sends a VRRP message (no IP header) to `dst`; false when it could not be sent. */
  send(payload: Uint8Array, dst: Uint8Array): boolean;
}

/** What a runner needs to exchange VRRP messages (raw sockets in the agent, memory in tests). */
export interface VrrpTransport {
  /** The multicast group used for a family. */
  group(family: "ipv4" | "ipv6"): Uint8Array;
  /**
   * Starts delivering adverts for `vrid` on (ifname, family) to `handler` until disposed;
   * `group` (keepalived mcast_dst_ip) is joined besides the family's group. Throws (naming
   * the interface) when the interface cannot receive VRRP.
   */
  listen(
    ifname: string,
    ifindex: number,
    family: "ipv4" | "ipv6",
    vrid: number,
    handler: AdvertHandler,
    group?: Uint8Array,
  ): Disposable;
  /**
   * A sender on (ifname, family) from `source` (null: the kernel's choice); unicast goes out
   * with TTL / hop limit `unicastTtl` (default 255, keepalived unicast_ttl). Throws (naming the
   * interface) when it cannot be opened.
   */
  sender(
    ifname: string,
    ifindex: number,
    family: "ipv4" | "ipv6",
    source: Uint8Array | null,
    unicastTtl?: number,
  ): VrrpSender;
  /** Delivers whatever is waiting on (ifname, family) now, as the handlers would get it. */
  poll(ifname: string, family: "ipv4" | "ipv6"): void;
}

interface Channel {
  readonly key: string;
  readonly ifname: string;
  readonly ifindex: number;
  readonly family: "ipv4" | "ipv6";
  readonly group: Uint8Array;
  readonly rx: RawSocket;
  readonly watch: Disposable;
  readonly handlers: Map<number, AdvertHandler>;
  /** Groups joined for instances' mcast_dst_ip, with the number of instances using each. */
  readonly extraGroups: Map<string, number>;
  refs: number;
}

interface Sender {
  readonly sock: RawSocket;
  refs: number;
}

/** The real transport: owns every VRRP socket of the agent. */
export class SocketTransport implements VrrpTransport, Disposable {
  readonly #reactor: Reactor;
  readonly #log: Logger;
  readonly #channels = new Map<string, Channel>();
  readonly #senders = new Map<string, Sender>();
  readonly #onUnknown: UnknownHandler;
  readonly #groups: { ipv4: Uint8Array; ipv6: Uint8Array };

  constructor(
    reactor: Reactor,
    log: Logger,
    onUnknown: UnknownHandler,
    groups: { ipv4: string; ipv6: string } = { ipv4: VRRP_GROUP4, ipv6: VRRP_GROUP6 },
  ) {
    this.#reactor = reactor;
    this.#log = log;
    this.#onUnknown = onUnknown;
    this.#groups = { ipv4: parseIp(groups.ipv4)!.bytes, ipv6: parseIp(groups.ipv6)!.bytes };
  }

  group(family: "ipv4" | "ipv6"): Uint8Array {
    return this.#groups[family];
  }

  listen(
    ifname: string,
    ifindex: number,
    family: "ipv4" | "ipv6",
    vrid: number,
    handler: AdvertHandler,
    groupBytes?: Uint8Array,
  ): Disposable {
    const key = `${ifname}/${family}`;
    let ch = this.#channels.get(key);
    if (ch !== undefined && ch.ifindex !== ifindex) {
      // The interface was re-created with another index: start afresh.
      this.#closeChannel(ch);
      ch = undefined;
    }
    if (ch === undefined) ch = this.#openChannel(key, ifname, ifindex, family);
    if (ch.handlers.has(vrid)) {
      throw new Error(`VRID ${vrid} is already in use on ${ifname} (${family})`);
    }
    const extra = groupBytes === undefined ? null : formatIp(groupBytes);
    const own = formatIp(ch.group);
    if (extra !== null && groupBytes !== undefined && extra !== own) {
      const n = ch.extraGroups.get(extra) ?? 0;
      if (n === 0) {
        try {
          ch.rx.joinGroup(groupBytes, ifindex, ifname);
        } catch (e) {
          if (ch.refs === 0) this.#closeChannel(ch);
          throw e;
        }
      }
      ch.extraGroups.set(extra, n + 1);
    }
    ch.handlers.set(vrid, handler);
    ch.refs++;
    const channel = ch;
    let done = false;
    return {
      [Symbol.dispose]: () => {
        if (done) return;
        done = true;
        channel.handlers.delete(vrid);
        if (extra !== null && groupBytes !== undefined && extra !== own) {
          const n = (channel.extraGroups.get(extra) ?? 1) - 1;
          if (n > 0) channel.extraGroups.set(extra, n);
          else {
            channel.extraGroups.delete(extra);
            try {
              channel.rx.leaveGroup(groupBytes, channel.ifindex, channel.ifname);
            } catch { /* interface gone */ }
          }
        }
        if (--channel.refs === 0) this.#closeChannel(channel);
      },
    };
  }

  #openChannel(
    key: string,
    ifname: string,
    ifindex: number,
    family: "ipv4" | "ipv6",
  ): Channel {
    const rx = RawSocket.open(family, IPPROTO_VRRP);
    try {
      rx.bindToDevice(ifname);
      const group = this.#groups[family];
      rx.joinGroup(group, ifindex, ifname);
      const handlers = new Map<number, AdvertHandler>();
      // Quiet: receiving is synchronous; a runner that starts more says so (RunnerHost.busy).
      const watch = this.#reactor.watch(
        rx.fd,
        () => this.#drain(ch),
        `VRRP ${family} on ${ifname}`,
        undefined,
        { quiet: true },
      );
      const ch: Channel = {
        key,
        ifname,
        ifindex,
        family,
        group,
        rx,
        watch,
        handlers,
        extraGroups: new Map(),
        refs: 0,
      };
      this.#channels.set(key, ch);
      return ch;
    } catch (e) {
      rx.close();
      throw e;
    }
  }

  poll(ifname: string, family: "ipv4" | "ipv6"): void {
    const ch = this.#channels.get(`${ifname}/${family}`);
    if (ch !== undefined) this.#drain(ch);
  }

  #drain(ch: Channel): void {
    // Bounded per wake-up so one flooded interface cannot starve the loop.
    for (let i = 0; i < 256; i++) {
      let pkt: Datagram | null;
      try {
        pkt = ch.rx.recv();
      } catch (e) {
        this.#log.warn(`receive on ${ch.ifname} failed`, { error: (e as Error).message });
        return;
      }
      if (pkt === null) return;
      // VRID is byte 1 of the VRRP header; shorter packets go to the unknown counter.
      const vrid = pkt.payload.length >= 2 ? pkt.payload[1]! : -1;
      const h = ch.handlers.get(vrid);
      try {
        if (h !== undefined) h(pkt);
        else this.#onUnknown(pkt);
      } catch (e) {
        this.#log.error(`advert handler failed on ${ch.ifname}`, { error: String(e) });
      }
    }
  }

  #closeChannel(ch: Channel): void {
    this.#channels.delete(ch.key);
    ch.watch[Symbol.dispose]();
    for (const g of [ch.group, ...[...ch.extraGroups.keys()].map((t) => parseIp(t)!.bytes)]) {
      try {
        ch.rx.leaveGroup(g, ch.ifindex, ch.ifname);
      } catch { /* interface gone */ }
    }
    ch.rx.close();
  }

  /** Send sockets are shared per (interface, family, source) and reference-counted. */
  sender(
    ifname: string,
    ifindex: number,
    family: "ipv4" | "ipv6",
    source: Uint8Array | null,
    unicastTtl = 255,
  ): VrrpSender {
    const key = `${ifname}/${ifindex}/${family}/${
      source === null ? "*" : formatIp(source)
    }/${unicastTtl}`;
    let s = this.#senders.get(key);
    if (s === undefined) {
      const sock = RawSocket.open(family, IPPROTO_VRRP);
      try {
        sock.bindToDevice(ifname);
        if (source !== null) sock.bindAddress(source);
        sock.setMulticastInterface(ifindex, ifname);
        sock.setMulticastHops(255);
        sock.setUnicastHops(unicastTtl);
        sock.setMulticastLoop(false);
        sock.setTrafficClass(TOS_NETWORK_CONTROL);
        // IPv6: the kernel fills the checksum with the real pseudo-header (as keepalived).
        if (family === "ipv6") sock.setChecksumOffset(VRRP_CHECKSUM_OFFSET);
      } catch (e) {
        sock.close();
        throw e;
      }
      s = { sock, refs: 0 };
      this.#senders.set(key, s);
    }
    s.refs++;
    const sender = s;
    let done = false;
    return {
      send: (payload, dst) => {
        try {
          return sender.sock.sendTo(payload, dst, ifindex);
        } catch (e) {
          this.#log.warn(`cannot send VRRP advert on ${ifname} to ${formatIp(dst)}`, {
            error: (e as Error).message,
          });
          return false;
        }
      },
      [Symbol.dispose]: () => {
        if (done) return;
        done = true;
        if (--sender.refs === 0) {
          this.#senders.delete(key);
          sender.sock.close();
        }
      },
    };
  }

  /** Closes every socket. */
  [Symbol.dispose](): void {
    for (const ch of [...this.#channels.values()]) this.#closeChannel(ch);
    for (const s of this.#senders.values()) s.sock.close();
    this.#senders.clear();
  }
}
