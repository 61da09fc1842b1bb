/**
 * Reads the golden vectors: text from `tcpdump -n -tt -e -xx` (one summary line per packet, then
 * `\t0x0000:  hhhh hhhh ...` lines; `#` lines are comments) into packets, and splits their
 * Ethernet / IPv4 / IPv6 headers to get at the payload.
 *
 * @module
 */

/** One captured packet. */
export interface CapturedPacket {
  /** Seconds since the epoch, as printed by `-tt`. */
  timestamp: number;
  /** The summary line after the timestamp. */
  summary: string;
  /** The whole frame, Ethernet header included. */
  bytes: Uint8Array;
}

/** Parses tcpdump -xx text; throws on malformed hex lines (a broken vector is a test bug). */
export function parseHexdump(text: string): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let cur: { timestamp: number; summary: string; hex: number[] } | null = null;
  const flush = () => {
    if (cur !== null) {
      out.push({ timestamp: cur.timestamp, summary: cur.summary, bytes: new Uint8Array(cur.hex) });
    }
  };
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trimEnd();
    if (line === "" || line.startsWith("#")) continue;
    const hexLine = /^\s+0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4}\s*)+)$/i.exec(line);
    if (hexLine !== null) {
      if (cur === null) throw new Error(`line ${n + 1}: hex before any packet line`);
      const offset = parseInt(hexLine[1]!, 16);
      if (offset !== cur.hex.length) {
        throw new Error(`line ${n + 1}: offset 0x${hexLine[1]} but ${cur.hex.length} bytes so far`);
      }
      for (const group of hexLine[2]!.trim().split(/\s+/)) {
        for (let i = 0; i < group.length; i += 2) cur.hex.push(parseInt(group.slice(i, i + 2), 16));
      }
      continue;
    }
    const head = /^(\d+\.\d+) (.*)$/.exec(line);
    if (head === null) throw new Error(`line ${n + 1}: neither a packet line nor hex: ${line}`);
    flush();
    cur = { timestamp: Number(head[1]), summary: head[2]!, hex: [] };
  }
  flush();
  return out;
}

/** Reads and parses a vector file (path relative to the repository's tests/vectors/). */
export function readVector(name: string): CapturedPacket[] {
  const url = new URL(`../vectors/${name}`, import.meta.url);
  return parseHexdump(Deno.readTextFileSync(url));
}

/** The Ethernet II header of a frame. */
export interface EthernetHeader {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
  payload: Uint8Array;
}

/** Splits an untagged Ethernet II frame. */
export function splitEthernet(frame: Uint8Array): EthernetHeader {
  if (frame.length < 14) throw new Error(`frame of ${frame.length} bytes`);
  return {
    dst: frame.slice(0, 6),
    src: frame.slice(6, 12),
    etherType: (frame[12]! << 8) | frame[13]!,
    payload: frame.subarray(14),
  };
}

/** The fields of an IPv4 header, and the payload cut to the total length. */
export interface Ipv4Header {
  ihl: number;
  tos: number;
  totalLength: number;
  id: number;
  flagsFragment: number;
  ttl: number;
  protocol: number;
  headerChecksum: number;
  src: Uint8Array;
  dst: Uint8Array;
  header: Uint8Array;
  payload: Uint8Array;
}

/** Splits an IPv4 packet into header fields and payload (options skipped). */
export function splitIpv4(packet: Uint8Array): Ipv4Header {
  if (packet.length < 20 || packet[0]! >> 4 !== 4) throw new Error("not an IPv4 packet");
  const ihl = (packet[0]! & 0x0f) * 4;
  const totalLength = (packet[2]! << 8) | packet[3]!;
  if (totalLength > packet.length || ihl < 20 || ihl > totalLength) {
    throw new Error(`IPv4 lengths do not fit: ihl ${ihl}, total ${totalLength}, ${packet.length}`);
  }
  return {
    ihl,
    tos: packet[1]!,
    totalLength,
    id: (packet[4]! << 8) | packet[5]!,
    flagsFragment: (packet[6]! << 8) | packet[7]!,
    ttl: packet[8]!,
    protocol: packet[9]!,
    headerChecksum: (packet[10]! << 8) | packet[11]!,
    src: packet.slice(12, 16),
    dst: packet.slice(16, 20),
    header: packet.subarray(0, ihl),
    payload: packet.subarray(ihl, totalLength),
  };
}

/** The fields of a fixed IPv6 header, and the payload cut to the payload length. */
export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  header: Uint8Array;
  payload: Uint8Array;
}

/** Splits an IPv6 packet (no extension headers) into header fields and payload. */
export function splitIpv6(packet: Uint8Array): Ipv6Header {
  if (packet.length < 40 || packet[0]! >> 4 !== 6) throw new Error("not an IPv6 packet");
  const payloadLength = (packet[4]! << 8) | packet[5]!;
  if (40 + payloadLength > packet.length) throw new Error("IPv6 payload length exceeds packet");
  const word = new DataView(packet.buffer, packet.byteOffset).getUint32(0);
  return {
    trafficClass: (word >>> 20) & 0xff,
    flowLabel: word & 0xfffff,
    payloadLength,
    nextHeader: packet[6]!,
    hopLimit: packet[7]!,
    src: packet.slice(8, 24),
    dst: packet.slice(24, 40),
    header: packet.subarray(0, 40),
    payload: packet.subarray(40, 40 + payloadLength),
  };
}

/** The IP layer of a captured frame, whichever family it is. */
export interface IpLayer {
  family: "ipv4" | "ipv6";
  src: Uint8Array;
  dst: Uint8Array;
  /** TTL or hop limit. */
  hopLimit: number;
  protocol: number;
  payload: Uint8Array;
}

/** Splits Ethernet + IPv4/IPv6 and returns the IP layer; throws for other EtherTypes. */
export function ipLayer(frame: Uint8Array): IpLayer {
  const eth = splitEthernet(frame);
  if (eth.etherType === 0x0800) {
    const h = splitIpv4(eth.payload);
    return {
      family: "ipv4",
      src: h.src,
      dst: h.dst,
      hopLimit: h.ttl,
      protocol: h.protocol,
      payload: h.payload,
    };
  }
  if (eth.etherType === 0x86dd) {
    const h = splitIpv6(eth.payload);
    return {
      family: "ipv6",
      src: h.src,
      dst: h.dst,
      hopLimit: h.hopLimit,
      protocol: h.nextHeader,
      payload: h.payload,
    };
  }
  throw new Error(`EtherType 0x${eth.etherType.toString(16)} is not IP`);
}

/** Lowercase hex of bytes (for readable assertion failures). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** One labelled datagram of a `== label` hex file (captured with strace -e write=all). */
export interface LabelledBytes {
  label: string;
  bytes: Uint8Array;
}

/**
 * Parses the `== label (N bytes)` files (netlink datagrams captured with strace): `#` lines are
 * comments, every other line is space-separated hex bytes of the current block. Throws when a
 * block's length differs from its header (a broken vector is a test bug).
 */
export function parseLabelledHex(text: string): LabelledBytes[] {
  const out: { label: string; want: number; hex: number[] }[] = [];
  for (const [n, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const head = /^== (.+) \((\d+) bytes\)$/.exec(line);
    if (head !== null) {
      out.push({ label: head[1]!, want: Number(head[2]), hex: [] });
      continue;
    }
    const cur = out.at(-1);
    if (cur === undefined) throw new Error(`line ${n + 1}: bytes before any == header`);
    for (const h of line.split(/\s+/)) {
      if (!/^[0-9a-f]{2}$/i.test(h)) throw new Error(`line ${n + 1}: "${h}" is not a hex byte`);
      cur.hex.push(parseInt(h, 16));
    }
  }
  return out.map((b) => {
    if (b.hex.length !== b.want) {
      throw new Error(`block "${b.label}": ${b.hex.length} bytes, header says ${b.want}`);
    }
    return { label: b.label, bytes: new Uint8Array(b.hex) };
  });
}

/** The sequence numbers of the netlink messages in a datagram, in order. */
export function netlinkSeqs(datagram: Uint8Array): number[] {
  const v = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const seqs: number[] = [];
  for (let off = 0; off + 16 <= datagram.length;) {
    const len = v.getUint32(off, true);
    if (len < 16) throw new Error(`netlink message of ${len} bytes at ${off}`);
    seqs.push(v.getUint32(off + 8, true));
    off += (len + 3) & ~3;
  }
  return seqs;
}
