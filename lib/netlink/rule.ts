/**
 * Policy routing rules (RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE): the fib_rule_hdr and FRA_*
 * attribute codec, pure. Requests carry what keepalived 2.2.7's netlink_rule() sends, in the
 * same order; `decodeRule` reads the kernel's dump back into the same shape.
 *
 * @module
 */

import { formatIp, parseIp } from "../net/ip.ts";
import { AttributeDecoder, AttributeEncoder } from "./attrs.ts";
import {
  AF_INET,
  AF_INET6,
  type Decoded,
  type NlMessage,
  RT_TABLE_MAIN,
  RTPROT_KEEPALIVED,
} from "./message.ts";

/** Add a rule. */
export const RTM_NEWRULE = 32;
/** Delete a rule. */
export const RTM_DELRULE = 33;
/** Dump rules. */
export const RTM_GETRULE = 34;

/** Size of struct fib_rule_hdr. */
export const FIB_RULE_HDR_LEN = 12;
/** fib_rule_hdr.flags: the selector is inverted (`not`). */
export const FIB_RULE_INVERT = 0x2;

// linux/fib_rules.h attribute types.
/** Destination prefix. */
export const FRA_DST = 1;
/** Source prefix. */
export const FRA_SRC = 2;
/** Input interface name (`iif`, `dev`). */
export const FRA_IIFNAME = 3;
/** Target rule preference of a goto. */
export const FRA_GOTO = 4;
/** Rule preference. */
export const FRA_PRIORITY = 6;
/** Firewall mark. */
export const FRA_FWMARK = 10;
/** Realms. */
export const FRA_FLOW = 11;
/** Suppress routes whose prefix is this long or shorter. */
export const FRA_SUPPRESS_PREFIXLEN = 14;
/** Table id, u32. */
export const FRA_TABLE = 15;
/** Firewall mark mask. */
export const FRA_FWMASK = 16;
/** Output interface name. */
export const FRA_OIFNAME = 17;
/** UID range: two u32. */
export const FRA_UID_RANGE = 20;
/** Which routing protocol added the rule, u8. */
export const FRA_PROTOCOL = 21;
/** IP protocol, u8. */
export const FRA_IP_PROTO = 22;
/** Source port range: two u16. */
export const FRA_SPORT_RANGE = 23;
/** Destination port range: two u16. */
export const FRA_DPORT_RANGE = 24;

/** What a matching rule does (fib_rule_hdr.action). */
export const FR_ACTION = {
  table: 1,
  goto: 2,
  nop: 3,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
} as const;

/** A rule action by name. */
export type RuleAction = keyof typeof FR_ACTION;

/** An inclusive range of ports or uids. */
export interface NumRange {
  start: number;
  end: number;
}

/** A policy routing rule to add or delete, or one read back from the kernel. */
export interface RuleSpec {
  family: "ipv4" | "ipv6";
  action: RuleAction;
  /** Table looked up by a `table` action; default main. */
  table?: number;
  /** Rule preference (`priority`, `preference`, `order`). */
  priority?: number;
  /** Source prefix. */
  from?: { address: string; prefix: number };
  /** Destination prefix. */
  to?: { address: string; prefix: number };
  /** Inverts the selector (`not`). */
  invert?: boolean;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  /** goto target preference. */
  goto?: number;
  suppressPrefixLength?: number;
  uidRange?: NumRange;
  ipProto?: number;
  sport?: NumRange;
  dport?: NumRange;
  /** RTPROT_*; default RTPROT_KEEPALIVED (18), as keepalived stamps every tracked rule. */
  protocol?: number;
}

function prefixBytes(p: { address: string; prefix: number }, family: string, what: string) {
  const a = parseIp(p.address);
  if (a === null || a.family !== family) {
    throw new TypeError(`Invalid rule ${what} "${p.address}": not an ${family} address`);
  }
  if (!Number.isInteger(p.prefix) || p.prefix < 0 || p.prefix > a.bytes.length * 8) {
    throw new RangeError(`Invalid prefix length ${p.prefix} for rule ${what} ${p.address}`);
  }
  return a.bytes;
}

function range16(r: NumRange): Uint8Array {
  const b = new Uint8Array(4);
  const v = new DataView(b.buffer);
  v.setUint16(0, r.start, true);
  v.setUint16(2, r.end, true);
  return b;
}

function range32(r: NumRange): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, r.start, true);
  v.setUint32(4, r.end, true);
  return b;
}

/** fib_rule_hdr + attributes of an RTM_NEWRULE / RTM_DELRULE request (keepalived's order). */
export function encodeRuleRequest(spec: RuleSpec): Uint8Array {
  const hdr = new Uint8Array(FIB_RULE_HDR_LEN);
  hdr[0] = spec.family === "ipv4" ? AF_INET : AF_INET6;
  hdr[3] = spec.tos ?? 0;
  hdr[7] = FR_ACTION[spec.action];
  if (spec.invert) new DataView(hdr.buffer).setUint32(8, FIB_RULE_INVERT, true);
  const e = new AttributeEncoder();
  if (spec.action === "table") {
    const table = spec.table ?? RT_TABLE_MAIN;
    if (table < 256) hdr[4] = table;
    else e.u32(FRA_TABLE, table);
  }
  if (spec.from !== undefined) {
    e.bytes(FRA_SRC, prefixBytes(spec.from, spec.family, "from"));
    hdr[2] = spec.from.prefix;
  }
  if (spec.to !== undefined) {
    e.bytes(FRA_DST, prefixBytes(spec.to, spec.family, "to"));
    hdr[1] = spec.to.prefix;
  }
  if (spec.priority !== undefined) e.u32(FRA_PRIORITY, spec.priority);
  if (spec.fwmark !== undefined) e.u32(FRA_FWMARK, spec.fwmark);
  if (spec.fwmask !== undefined) e.u32(FRA_FWMASK, spec.fwmask);
  if (spec.suppressPrefixLength !== undefined) {
    e.u32(FRA_SUPPRESS_PREFIXLEN, spec.suppressPrefixLength);
  }
  if (spec.iif !== undefined) e.string(FRA_IIFNAME, spec.iif);
  if (spec.oif !== undefined) e.string(FRA_OIFNAME, spec.oif);
  if (spec.uidRange !== undefined) e.bytes(FRA_UID_RANGE, range32(spec.uidRange));
  e.u8(FRA_PROTOCOL, spec.protocol ?? RTPROT_KEEPALIVED);
  if (spec.ipProto !== undefined) e.u8(FRA_IP_PROTO, spec.ipProto);
  if (spec.sport !== undefined) e.bytes(FRA_SPORT_RANGE, range16(spec.sport));
  if (spec.dport !== undefined) e.bytes(FRA_DPORT_RANGE, range16(spec.dport));
  if (spec.action === "goto") {
    if (spec.goto === undefined) throw new TypeError("A goto rule needs a target preference");
    e.u32(FRA_GOTO, spec.goto);
  }
  const attrs = e.finish();
  const out = new Uint8Array(hdr.length + attrs.length);
  out.set(hdr);
  out.set(attrs, hdr.length);
  return out;
}

const ACTION_NAMES = new Map<number, RuleAction>(
  Object.entries(FR_ACTION).map(([k, v]) => [v, k as RuleAction]),
);

/** Decodes an RTM_NEWRULE message (a dump entry or a notification). */
export function decodeRule(m: NlMessage): Decoded<RuleSpec> {
  const p = m.payload;
  if (p.length < FIB_RULE_HDR_LEN) {
    return { ok: false, reason: `fib_rule_hdr of ${p.length} bytes` };
  }
  const fam = p[0]!;
  if (fam !== AF_INET && fam !== AF_INET6) return { ok: false, reason: `rule family ${fam}` };
  const action = ACTION_NAMES.get(p[7]!);
  if (action === undefined) return { ok: false, reason: `rule action ${p[7]}` };
  const family = fam === AF_INET ? "ipv4" : "ipv6";
  const rule: RuleSpec = { family, action };
  if (action === "table") rule.table = p[4]!;
  if (p[3] !== 0) rule.tos = p[3]!;
  const flags = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(8, true);
  if ((flags & FIB_RULE_INVERT) !== 0) rule.invert = true;
  const d = new AttributeDecoder(p.subarray(FIB_RULE_HDR_LEN));
  const range = (b: Uint8Array, wide: boolean): NumRange => {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return wide
      ? { start: v.getUint32(0, true), end: v.getUint32(4, true) }
      : { start: v.getUint16(0, true), end: v.getUint16(2, true) };
  };
  while (d.next()) {
    switch (d.type) {
      case FRA_SRC:
        rule.from = { address: formatIp(d.bytes()), prefix: p[2]! };
        break;
      case FRA_DST:
        rule.to = { address: formatIp(d.bytes()), prefix: p[1]! };
        break;
      case FRA_TABLE:
        if (action === "table") rule.table = d.u32();
        break;
      case FRA_PRIORITY:
        rule.priority = d.u32();
        break;
      case FRA_FWMARK:
        rule.fwmark = d.u32();
        break;
      case FRA_FWMASK:
        rule.fwmask = d.u32();
        break;
      case FRA_SUPPRESS_PREFIXLEN: {
        const v = d.u32();
        if (v !== 0xffffffff) rule.suppressPrefixLength = v;
        break;
      }
      case FRA_IIFNAME:
        rule.iif = d.string();
        break;
      case FRA_OIFNAME:
        rule.oif = d.string();
        break;
      case FRA_UID_RANGE:
        rule.uidRange = range(d.bytes(), true);
        break;
      case FRA_PROTOCOL:
        rule.protocol = d.u8();
        break;
      case FRA_IP_PROTO:
        rule.ipProto = d.u8();
        break;
      case FRA_SPORT_RANGE:
        rule.sport = range(d.bytes(), false);
        break;
      case FRA_DPORT_RANGE:
        rule.dport = range(d.bytes(), false);
        break;
      case FRA_GOTO:
        rule.goto = d.u32();
        break;
    }
  }
  const err = d.err();
  if (err !== null) return { ok: false, reason: err.message };
  return { ok: true, value: rule };
}

/** `ip rule`-like text of a rule, for log lines and error messages. */
export function ruleText(r: RuleSpec): string {
  const w: string[] = [];
  if (r.priority !== undefined) w.push(`pref ${r.priority}`);
  if (r.invert) w.push("not");
  w.push(`from ${r.from === undefined ? "all" : `${r.from.address}/${r.from.prefix}`}`);
  if (r.to !== undefined) w.push(`to ${r.to.address}/${r.to.prefix}`);
  if (r.tos !== undefined) w.push(`tos ${r.tos}`);
  if (r.fwmark !== undefined) {
    w.push(`fwmark ${r.fwmark}${r.fwmask !== undefined ? `/${r.fwmask}` : ""}`);
  }
  if (r.iif !== undefined) w.push(`iif ${r.iif}`);
  if (r.oif !== undefined) w.push(`oif ${r.oif}`);
  if (r.uidRange !== undefined) w.push(`uidrange ${r.uidRange.start}-${r.uidRange.end}`);
  if (r.ipProto !== undefined) w.push(`ipproto ${r.ipProto}`);
  if (r.sport !== undefined) w.push(`sport ${r.sport.start}-${r.sport.end}`);
  if (r.dport !== undefined) w.push(`dport ${r.dport.start}-${r.dport.end}`);
  if (r.action === "table") w.push(`lookup ${r.table ?? RT_TABLE_MAIN}`);
  else if (r.action === "goto") w.push(`goto ${r.goto}`);
  else w.push(r.action);
  if (r.suppressPrefixLength !== undefined) {
    w.push(`suppress_prefixlength ${r.suppressPrefixLength}`);
  }
  return `${r.family === "ipv6" ? "-6 " : ""}rule ${w.join(" ")}`;
}
