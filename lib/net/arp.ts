/**
 * ARP for IPv4 over Ethernet (RFC 826), pure: the gratuitous ARP keepalived sends on becoming
 * master, and a decoder for received frames.
 *
 * @module
 */
import {
  BROADCAST_MAC,
  decodeEthernet,
  ETHERNET_HEADER_LEN,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  writeEthernetHeader,
} from "./ethernet.ts";

/** ARP operation: request. */
export const ARP_REQUEST = 1;
/** ARP operation: reply. */
export const ARP_REPLY = 2;
/** Length of an Ethernet/IPv4 ARP message (no Ethernet header). */
export const ARP_LEN = 28;
/** Length of an Ethernet frame carrying ARP, before padding to 60 bytes. */
export const ARP_FRAME_LEN = ETHERNET_HEADER_LEN + ARP_LEN;

/** Offsets inside the ARP message (after the Ethernet header). */
const OFF = {
  htype: 0,
  ptype: 2,
  hlen: 4,
  plen: 5,
  op: 6,
  sha: 8,
  spa: 14,
  tha: 18,
  tpa: 24,
} as const;

/** A decoded Ethernet/IPv4 ARP packet with its Ethernet addresses. */
export interface ArpPacket {
  /** Ethernet destination. */
  ethDst: Uint8Array;
  /** Ethernet source. */
  ethSrc: Uint8Array;
  /** 1 request, 2 reply. */
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

/** Encodes an Ethernet/IPv4 ARP frame (42 bytes, unpadded; the kernel pads to 60). */
export function encodeArp(p: ArpPacket): Uint8Array {
  for (
    const [name, v, n] of [
      ["senderMac", p.senderMac, 6],
      ["targetMac", p.targetMac, 6],
      ["senderIp", p.senderIp, 4],
      ["targetIp", p.targetIp, 4],
    ] as const
  ) {
    if (v.length !== n) throw new RangeError(`ARP ${name} must have ${n} bytes, not ${v.length}`);
  }
  const out = new Uint8Array(ARP_FRAME_LEN);
  writeEthernetHeader(out, 0, p.ethDst, p.ethSrc, ETHERTYPE_ARP);
  const a = ETHERNET_HEADER_LEN;
  const dv = new DataView(out.buffer);
  dv.setUint16(a + OFF.htype, 1);
  dv.setUint16(a + OFF.ptype, ETHERTYPE_IPV4);
  out[a + OFF.hlen] = 6;
  out[a + OFF.plen] = 4;
  dv.setUint16(a + OFF.op, p.op);
  out.set(p.senderMac, a + OFF.sha);
  out.set(p.senderIp, a + OFF.spa);
  out.set(p.targetMac, a + OFF.tha);
  out.set(p.targetIp, a + OFF.tpa);
  return out;
}

/**
 * The gratuitous ARP keepalived 2.2.7 sends (42 bytes): an ARP request to ff:ff:ff:ff:ff:ff
 * from `mac`, sender IP = target IP = `ip`, target MAC ff:ff:ff:ff:ff:ff.
 */
export function gratuitousArp(mac: Uint8Array, ip: Uint8Array): Uint8Array {
  return encodeArp({
    ethDst: BROADCAST_MAC,
    ethSrc: mac,
    op: ARP_REQUEST,
    senderMac: mac,
    senderIp: ip,
    targetMac: BROADCAST_MAC,
    targetIp: ip,
  });
}

/**
 * Decodes an Ethernet frame carrying Ethernet/IPv4 ARP (trailing padding ignored, one VLAN tag
 * allowed); never throws.
 */
export function decodeArp(
  frame: Uint8Array,
): { ok: true; value: ArpPacket } | { ok: false; reason: string } {
  const eth = decodeEthernet(frame);
  if (!eth.ok) return eth;
  if (eth.value.etherType !== ETHERTYPE_ARP) {
    return { ok: false, reason: `EtherType 0x${eth.value.etherType.toString(16)} is not ARP` };
  }
  const m = decodeArpMessage(eth.value.payload);
  if (!m.ok) return m;
  return { ok: true, value: { ...m.value, ethDst: eth.value.dst, ethSrc: eth.value.src } };
}

/**
 * Decodes the 28-byte ARP message alone (as read from an AF_PACKET SOCK_DGRAM socket); the
 * Ethernet fields of the result are empty. Never throws.
 */
export function decodeArpMessage(
  msg: Uint8Array,
): { ok: true; value: ArpPacket } | { ok: false; reason: string } {
  if (msg.length < ARP_LEN) {
    return { ok: false, reason: `ARP message of ${msg.length} bytes is shorter than ${ARP_LEN}` };
  }
  const htype = (msg[OFF.htype]! << 8) | msg[OFF.htype + 1]!;
  const ptype = (msg[OFF.ptype]! << 8) | msg[OFF.ptype + 1]!;
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || msg[OFF.hlen] !== 6 || msg[OFF.plen] !== 4) {
    return {
      ok: false,
      reason: `not Ethernet/IPv4 ARP (htype ${htype}, ptype 0x${ptype.toString(16)}, ` +
        `hlen ${msg[OFF.hlen]}, plen ${msg[OFF.plen]})`,
    };
  }
  const op = (msg[OFF.op]! << 8) | msg[OFF.op + 1]!;
  if (op !== ARP_REQUEST && op !== ARP_REPLY) {
    return { ok: false, reason: `ARP operation ${op} is neither request nor reply` };
  }
  return {
    ok: true,
    value: {
      ethDst: new Uint8Array(0),
      ethSrc: new Uint8Array(0),
      op,
      senderMac: msg.slice(OFF.sha, OFF.sha + 6),
      senderIp: msg.slice(OFF.spa, OFF.spa + 4),
      targetMac: msg.slice(OFF.tha, OFF.tha + 6),
      targetIp: msg.slice(OFF.tpa, OFF.tpa + 4),
    },
  };
}

/** Whether an ARP packet is gratuitous (sender IP equals target IP; request or reply). */
export function isGratuitous(p: ArpPacket): boolean {
  for (let i = 0; i < 4; i++) if (p.senderIp[i] !== p.targetIp[i]) return false;
  return p.senderIp.length === 4 && p.targetIp.length === 4;
}
