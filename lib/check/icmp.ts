/**
 * One shared ICMP endpoint per family for PING_CHECK (echo request / reply matched by id and
 * sequence) and UDP_CHECK (port-unreachable errors matched by the quoted UDP header). Raw
 * sockets come from ffi/socket.ts and are read from the process's one Reactor.
 *
 * @module
 */
import type { Reactor } from "../../ffi/reactor.ts";
import { type Family, RawSocket } from "../../ffi/socket.ts";
import { internetChecksum } from "../net/checksum.ts";
import { formatIp, parseIp } from "../net/ip.ts";

/** An ICMP error about a datagram we sent. */
export interface IcmpError {
  /** e.g. "port unreachable", "host unreachable". */
  what: string;
  /** The router or host that sent it. */
  from: string;
}

interface Pending {
  resolve: (r: { ok: true; rttMs: number } | { ok: false; reason: string }) => void;
  sentAt: number;
  dst: string;
}

const V4_UNREACH: Record<number, string> = {
  0: "net unreachable",
  1: "host unreachable",
  2: "protocol unreachable",
  3: "port unreachable",
  9: "net prohibited",
  10: "host prohibited",
  13: "administratively prohibited",
};
const V6_UNREACH: Record<number, string> = {
  0: "no route",
  1: "administratively prohibited",
  3: "address unreachable",
  4: "port unreachable",
};

/** Builds an echo request (ICMPv4 type 8, ICMPv6 type 128) with a checksum for ICMPv4. */
export function encodeEcho(
  family: Family,
  id: number,
  seq: number,
  payload: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  const v = new DataView(b.buffer);
  b[0] = family === "ipv4" ? 8 : 128;
  v.setUint16(4, id);
  v.setUint16(6, seq);
  b.set(payload, 8);
  // RFC 792: checksum over the ICMP message. ICMPv6: the kernel fills it in (RFC 3542 3.1).
  if (family === "ipv4") v.setUint16(2, internetChecksum(b));
  return b;
}

/** Decoded ICMP message of interest. */
export type IcmpMessage =
  | { kind: "echo-reply"; id: number; seq: number }
  | {
    kind: "unreachable";
    what: string;
    /** The quoted datagram's destination, protocol and ports. */
    dst: string;
    protocol: number;
    srcPort: number;
    dstPort: number;
  }
  | { kind: "other" };

/** Decodes an ICMP / ICMPv6 message (without the outer IP header). Never throws. */
export function decodeIcmp(family: Family, p: Uint8Array): IcmpMessage {
  if (p.length < 8) return { kind: "other" };
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const type = p[0]!;
  const code = p[1]!;
  if ((family === "ipv4" && type === 0) || (family === "ipv6" && type === 129)) {
    return { kind: "echo-reply", id: v.getUint16(4), seq: v.getUint16(6) };
  }
  if (family === "ipv4" && type === 3) {
    const inner = p.subarray(8);
    if (inner.length < 20 || inner[0]! >> 4 !== 4) return { kind: "other" };
    const ihl = (inner[0]! & 0xf) * 4;
    if (inner.length < ihl + 4) return { kind: "other" };
    const iv = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
    return {
      kind: "unreachable",
      what: V4_UNREACH[code] ?? `unreachable code ${code}`,
      dst: formatIp(inner.subarray(16, 20)),
      protocol: inner[9]!,
      srcPort: iv.getUint16(ihl),
      dstPort: iv.getUint16(ihl + 2),
    };
  }
  if (family === "ipv6" && type === 1) {
    const inner = p.subarray(8);
    if (inner.length < 44 || inner[0]! >> 4 !== 6) return { kind: "other" };
    const iv = new DataView(inner.buffer, inner.byteOffset, inner.byteLength);
    return {
      kind: "unreachable",
      what: V6_UNREACH[code] ?? `unreachable code ${code}`,
      dst: formatIp(inner.subarray(24, 40)),
      protocol: inner[6]!,
      srcPort: iv.getUint16(40),
      dstPort: iv.getUint16(42),
    };
  }
  return { kind: "other" };
}

interface Endpoint {
  sock: RawSocket;
  watch: Disposable;
}

/** Shared ICMP sockets: echo round trips and UDP error watching. */
export class IcmpService implements Disposable {
  readonly #reactor: Reactor;
  readonly #endpoints = new Map<Family, Endpoint>();
  readonly #id = crypto.getRandomValues(new Uint16Array(1))[0]!;
  #seq = 0;
  readonly #pending = new Map<string, Pending>();
  readonly #udpWatch = new Map<string, (e: IcmpError) => void>();

  /** Watches its sockets on `reactor`, which must be running. */
  constructor(reactor: Reactor) {
    this.#reactor = reactor;
  }

  #endpoint(family: Family): Endpoint {
    let ep = this.#endpoints.get(family);
    if (ep === undefined) {
      const sock = RawSocket.open(family, family === "ipv4" ? 1 : 58);
      const watch = this.#reactor.watch(sock.fd, () => this.#drain(family, sock), `icmp ${family}`);
      ep = { sock, watch };
      this.#endpoints.set(family, ep);
    }
    return ep;
  }

  #drain(family: Family, sock: RawSocket): void {
    for (;;) {
      const r = sock.recv();
      if (r === null) return;
      const m = decodeIcmp(family, r.payload);
      if (m.kind === "echo-reply") {
        if (m.id !== this.#id) continue;
        const key = `${formatIp(r.src)}/${m.seq}`;
        const p = this.#pending.get(key);
        if (p === undefined) continue;
        this.#pending.delete(key);
        p.resolve({ ok: true, rttMs: performance.now() - p.sentAt });
      } else if (m.kind === "unreachable" && m.protocol === 17) {
        const cb = this.#udpWatch.get(`${m.dst}/${m.srcPort}/${m.dstPort}`);
        cb?.({ what: m.what, from: formatIp(r.src) });
      }
    }
  }

  /** Sends one echo request and waits up to `timeoutMs` for the matching reply. */
  echo(
    address: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<{ ok: true; rttMs: number } | { ok: false; reason: string }> {
    const ip = parseIp(address);
    if (ip === null) return Promise.resolve({ ok: false, reason: `bad address ${address}` });
    const family: Family = ip.family;
    const dst = formatIp(ip.bytes);
    return new Promise((resolve) => {
      let ep: Endpoint;
      try {
        ep = this.#endpoint(family);
      } catch (e) {
        return resolve({ ok: false, reason: `cannot open ICMP socket: ${(e as Error).message}` });
      }
      const seq = this.#seq = (this.#seq + 1) & 0xffff;
      const key = `${dst}/${seq}`;
      const done = (r: { ok: true; rttMs: number } | { ok: false; reason: string }) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        this.#pending.delete(key);
        resolve(r);
      };
      const timer = setTimeout(
        () => done({ ok: false, reason: `timeout after ${timeoutMs} ms` }),
        timeoutMs,
      );
      const onAbort = () => done({ ok: false, reason: "aborted" });
      signal.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(key, { resolve: done, sentAt: performance.now(), dst });
      try {
        const payload = new TextEncoder().encode("haagent-ping-chk");
        if (!ep.sock.sendTo(encodeEcho(family, this.#id, seq, payload), ip.bytes)) {
          done({ ok: false, reason: "send buffer full" });
        }
      } catch (e) {
        done({ ok: false, reason: (e as Error).message });
      }
    });
  }

  /**
   * Calls `onError` for ICMP errors quoting a UDP datagram from local port `srcPort` to
   * `dst`:`dstPort`, until disposed. Opens the family's socket if needed (throws if it cannot).
   */
  watchUdp(
    dst: string,
    srcPort: number,
    dstPort: number,
    onError: (e: IcmpError) => void,
  ): Disposable {
    const ip = parseIp(dst);
    if (ip === null) throw new TypeError(`Invalid address "${dst}"`);
    this.#endpoint(ip.family);
    const key = `${formatIp(ip.bytes)}/${srcPort}/${dstPort}`;
    this.#udpWatch.set(key, onError);
    return {
      [Symbol.dispose]: () => {
        if (this.#udpWatch.get(key) === onError) this.#udpWatch.delete(key);
      },
    };
  }

  /** Closes the sockets; pending echoes fail. */
  close(): void {
    for (const ep of this.#endpoints.values()) {
      ep.watch[Symbol.dispose]();
      ep.sock.close();
    }
    this.#endpoints.clear();
    for (const p of [...this.#pending.values()]) p.resolve({ ok: false, reason: "closed" });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
