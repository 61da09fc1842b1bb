/**
 * nf_tables over netlink (NETLINK_NETFILTER), pure: message builders for tables, chains, sets,
 * set elements and rules with their expressions, the batch framing (NFNL_MSG_BATCH_BEGIN ... END)
 * the kernel applies as one transaction, and the reading of its answers. Numbers come from
 * linux/netfilter/nf_tables.h and nfnetlink.h; attributes are laid out in the order libnftnl
 * (and so nft and keepalived) sends them, so captured datagrams can be compared byte for byte.
 *
 * @module
 */

import { AttributeEncoder } from "./attrs.ts";
import {
  type Decoded,
  decodeError,
  decodeMessages,
  encodeMessage,
  NLM_F_ACK,
  NLM_F_REQUEST,
  NLMSG_ERROR,
} from "./message.ts";

/** nfnetlink subsystem of nf_tables (`res_id` of batch messages, high byte of types). */
export const NFNL_SUBSYS_NFTABLES = 10;
/** Opens a batch (a transaction). */
export const NFNL_MSG_BATCH_BEGIN = 0x10;
/** Closes and commits a batch. */
export const NFNL_MSG_BATCH_END = 0x11;

/** nf_tables message types (enum nf_tables_msg_types). */
export const NFT_MSG = {
  NEWTABLE: 0,
  GETTABLE: 1,
  DELTABLE: 2,
  NEWCHAIN: 3,
  DELCHAIN: 5,
  NEWRULE: 6,
  DELRULE: 8,
  NEWSET: 9,
  DELSET: 11,
  NEWSETELEM: 12,
  DELSETELEM: 14,
} as const;

/** Netfilter families (NFPROTO_*) used by haagent: `ip` and `ip6` tables. */
export const NFPROTO = { ipv4: 2, ipv6: 10 } as const;

/** Netfilter hooks of the inet families (enum nf_inet_hooks). */
export const NF_INET = { LOCAL_IN: 1, LOCAL_OUT: 3 } as const;

/** Verdicts: NF_DROP, NF_ACCEPT, and nf_tables' own (negative, sent as u32). */
export const VERDICT = { drop: 0, accept: 1, jump: -3, goto: -4 } as const;

/** Registers: the verdict register and the 16-byte data registers. */
export const NFT_REG = { verdict: 0, r1: 1, r2: 2 } as const;

/** Payload bases (enum nft_payload_bases). */
export const PAYLOAD_BASE = { link: 0, network: 1, transport: 2 } as const;

/** Meta keys used here (enum nft_meta_keys). */
export const META = { iif: 4, oif: 5, l4proto: 16, oifkind: 27 } as const;

/** Set flags (enum nft_set_flags). */
export const SET_FLAG = { anonymous: 1, constant: 2, interval: 4, map: 8 } as const;

/** nft's datatype numbers for set keys and map data; a concatenation is `(a << 6) | b`. */
export const NFT_TYPE = { ipv4: 7, ipv6: 8, ifindex: 20, icmpv6Type: 29 } as const;

// Attribute numbers (linux/netfilter/nf_tables.h).
const TABLE_NAME = 1;
const CHAIN_TABLE = 1;
const CHAIN_NAME = 3;
const CHAIN_HOOK = 4;
const CHAIN_POLICY = 5;
const CHAIN_TYPE = 7;
const HOOK_HOOKNUM = 1;
const HOOK_PRIORITY = 2;
const RULE_TABLE = 1;
const RULE_CHAIN = 2;
const RULE_EXPRESSIONS = 4;
const LIST_ELEM = 1;
const EXPR_NAME = 1;
const EXPR_DATA = 2;
const SET_TABLE = 1;
const SET_NAME = 2;
const SET_FLAGS = 3;
const SET_KEY_TYPE = 4;
const SET_KEY_LEN = 5;
const SET_DATA_TYPE = 6;
const SET_DATA_LEN = 7;
const SET_ID = 10;
const SET_USERDATA = 13;
const SET_ELEM_LIST_TABLE = 1;
const SET_ELEM_LIST_SET = 2;
const SET_ELEM_LIST_ELEMENTS = 3;
const SET_ELEM_LIST_SET_ID = 4;
const SET_ELEM_KEY = 1;
const SET_ELEM_DATA = 2;
const DATA_VALUE = 1;
const DATA_VERDICT = 2;
const VERDICT_CODE = 1;
const VERDICT_CHAIN = 2;
/** libnftnl's set user data: key byte order (NFTNL_UDATA_SET_KEYBYTEORDER). */
const UDATA_SET_KEYBYTEORDER = 0;

/** One nf_tables message before framing: type (NFT_MSG_*), extra flags, family, attributes. */
export interface NftMessage {
  /** NFT_MSG_* (the subsystem byte is added when framing). */
  type: number;
  /** Flags beyond NLM_F_REQUEST | NLM_F_ACK (NLM_F_CREATE, NLM_F_EXCL, NLM_F_APPEND). */
  flags: number;
  /** NFPROTO_* of the table. */
  family: number;
  /** The attributes after `struct nfgenmsg`. */
  attrs: Uint8Array;
}

/** An expression of a rule: its name and its NFTA_EXPR_DATA attributes. */
export interface NftExpr {
  name: string;
  data: Uint8Array;
}

/** `struct nfgenmsg`: family, version 0, resource id (big-endian). */
export function nfgenmsg(family: number, resId = 0): Uint8Array {
  return Uint8Array.of(family, 0, (resId >> 8) & 0xff, resId & 0xff);
}

const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
const NLM_F_APPEND = 0x800;

function withHeader(m: NftMessage, seq: number, pid: number, ack: boolean): Uint8Array {
  const payload = new Uint8Array(4 + m.attrs.length);
  payload.set(nfgenmsg(m.family));
  payload.set(m.attrs, 4);
  return encodeMessage({
    type: (NFNL_SUBSYS_NFTABLES << 8) | m.type,
    flags: NLM_F_REQUEST | (ack ? NLM_F_ACK : 0) | m.flags,
    seq,
    pid,
    payload,
  });
}

/** One framed batch: the datagram and the sequence numbers of the messages inside it. */
export interface NftBatch {
  bytes: Uint8Array;
  /** Sequence numbers of `msgs`, in order (begin and end excluded). */
  seqs: number[];
}

/**
 * Frames `msgs` as one transaction: BATCH_BEGIN, each message with NLM_F_ACK (so the kernel
 * answers every one), BATCH_END. `nextSeq` hands out sequence numbers in sending order.
 */
export function encodeBatch(msgs: readonly NftMessage[], nextSeq: () => number, pid = 0): NftBatch {
  const control = (type: number) =>
    encodeMessage({
      type,
      flags: NLM_F_REQUEST,
      seq: nextSeq(),
      pid,
      payload: nfgenmsg(0, NFNL_SUBSYS_NFTABLES),
    });
  const parts = [control(NFNL_MSG_BATCH_BEGIN)];
  const seqs: number[] = [];
  for (const m of msgs) {
    const seq = nextSeq();
    seqs.push(seq);
    parts.push(withHeader(m, seq, pid, true));
  }
  parts.push(control(NFNL_MSG_BATCH_END));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    bytes.set(p, off);
    off += p.length;
  }
  return { bytes, seqs };
}

/** Frames one message outside a batch (a GET), with NLM_F_ACK. */
export function encodeRequest(m: NftMessage, seq: number, pid = 0): Uint8Array {
  return withHeader(m, seq, pid, true);
}

// ---- objects ------------------------------------------------------------------------------

/** NEWTABLE (create or keep), DELTABLE, or GETTABLE of table `name`. */
export function tableMessage(
  op: "new" | "del" | "get",
  family: number,
  name: string,
): NftMessage {
  const e = new AttributeEncoder().string(TABLE_NAME, name);
  const type = op === "new" ? NFT_MSG.NEWTABLE : op === "del" ? NFT_MSG.DELTABLE : NFT_MSG.GETTABLE;
  return { type, flags: op === "new" ? NLM_F_CREATE : 0, family, attrs: e.finish() };
}

/** A base chain's hook: where it runs, its priority, type and policy. */
export interface ChainHook {
  hooknum: number;
  priority: number;
  type: "filter";
  policy: "accept" | "drop";
}

/** NEWCHAIN: a base chain when `hook` is given, else a regular chain (for goto / jump). */
export function chainMessage(
  family: number,
  table: string,
  name: string,
  hook?: ChainHook,
): NftMessage {
  const e = new AttributeEncoder().string(CHAIN_TABLE, table).string(CHAIN_NAME, name);
  if (hook !== undefined) {
    e.nested(CHAIN_HOOK, (h) => {
      h.u32be(HOOK_HOOKNUM, hook.hooknum);
      h.u32be(HOOK_PRIORITY, hook.priority >>> 0);
    });
    e.u32be(CHAIN_POLICY, hook.policy === "accept" ? VERDICT.accept : VERDICT.drop);
    e.string(CHAIN_TYPE, hook.type);
  }
  return { type: NFT_MSG.NEWCHAIN, flags: NLM_F_CREATE, family, attrs: e.finish() };
}

/** A set (or map) declaration. */
export interface SetSpec {
  name: string;
  /** SET_FLAG bits. */
  flags?: number;
  /** NFT_TYPE of the key (a concatenation for composite keys). */
  keyType: number;
  keyLen: number;
  /** Maps: NFT_TYPE and length of the data. */
  dataType?: number;
  dataLen?: number;
  /** Batch-local id, so later messages of the same batch can refer to the set. */
  id: number;
  /** Key byte order for nft's listing: 1 host, 2 big-endian (libnftnl user data). */
  keyByteOrder: 1 | 2;
  /** Maps: data byte order, as `keyByteOrder`. */
  dataByteOrder?: 1 | 2;
}

/** NEWSET. */
export function setMessage(family: number, table: string, s: SetSpec): NftMessage {
  const e = new AttributeEncoder().string(SET_TABLE, table).string(SET_NAME, s.name);
  if (s.flags !== undefined && s.flags !== 0) e.u32be(SET_FLAGS, s.flags);
  e.u32be(SET_KEY_TYPE, s.keyType).u32be(SET_KEY_LEN, s.keyLen);
  if (s.dataType !== undefined) e.u32be(SET_DATA_TYPE, s.dataType);
  if (s.dataLen !== undefined) e.u32be(SET_DATA_LEN, s.dataLen);
  e.u32be(SET_ID, s.id);
  const orders = [s.keyByteOrder, ...(s.dataByteOrder === undefined ? [] : [s.dataByteOrder])];
  const udata = new Uint8Array(6 * orders.length);
  orders.forEach((order, i) => {
    // libnftnl user data TLVs: KEYBYTEORDER (0), DATABYTEORDER (1), each a u32.
    udata[6 * i] = UDATA_SET_KEYBYTEORDER + i;
    udata[6 * i + 1] = 4;
    new DataView(udata.buffer).setUint32(6 * i + 2, order, true);
  });
  e.bytes(SET_USERDATA, udata);
  return { type: NFT_MSG.NEWSET, flags: NLM_F_CREATE, family, attrs: e.finish() };
}

/** One element: its key and, for maps, its data. */
export interface SetElement {
  key: Uint8Array;
  data?: Uint8Array;
}

/**
 * NEWSETELEM (with NLM_F_EXCL when `exclusive`: an element already there fails the batch) or
 * DELSETELEM. `setId` names a set created earlier in the same batch.
 */
export function setElementsMessage(
  op: "new" | "del",
  family: number,
  table: string,
  set: string,
  elements: readonly SetElement[],
  opts: { setId?: number; exclusive?: boolean } = {},
): NftMessage {
  const e = new AttributeEncoder().string(SET_ELEM_LIST_SET, set);
  if (opts.setId !== undefined) e.u32be(SET_ELEM_LIST_SET_ID, opts.setId);
  e.string(SET_ELEM_LIST_TABLE, table);
  e.nested(SET_ELEM_LIST_ELEMENTS, (list) => {
    elements.forEach((el, i) => {
      list.nested(i + 1, (item) => {
        item.nested(SET_ELEM_KEY, (k) => k.bytes(DATA_VALUE, el.key));
        if (el.data !== undefined) {
          const data = el.data;
          item.nested(SET_ELEM_DATA, (d) => d.bytes(DATA_VALUE, data));
        }
      });
    });
  });
  const flags = op === "new" ? NLM_F_CREATE | (opts.exclusive === false ? 0 : NLM_F_EXCL) : 0;
  return {
    type: op === "new" ? NFT_MSG.NEWSETELEM : NFT_MSG.DELSETELEM,
    flags,
    family,
    attrs: e.finish(),
  };
}

/** NEWRULE appended to `chain`. */
export function ruleMessage(
  family: number,
  table: string,
  chain: string,
  exprs: readonly NftExpr[],
): NftMessage {
  const e = new AttributeEncoder().string(RULE_TABLE, table).string(RULE_CHAIN, chain);
  e.nested(RULE_EXPRESSIONS, (list) => {
    for (const x of exprs) {
      list.nested(LIST_ELEM, (el) => {
        el.string(EXPR_NAME, x.name);
        el.bytes(EXPR_DATA | 0x8000, x.data);
      });
    }
  });
  return {
    type: NFT_MSG.NEWRULE,
    flags: NLM_F_CREATE | NLM_F_APPEND,
    family,
    attrs: e.finish(),
  };
}

// ---- expressions --------------------------------------------------------------------------

function expr(name: string, fn: (e: AttributeEncoder) => void): NftExpr {
  const e = new AttributeEncoder();
  fn(e);
  return { name, data: e.finish() };
}

/** `payload load LEN bytes at BASE + OFFSET => DREG`. */
export function payload(dreg: number, base: number, offset: number, len: number): NftExpr {
  return expr("payload", (e) => e.u32be(1, dreg).u32be(2, base).u32be(3, offset).u32be(4, len));
}

/** `cmp SREG == DATA` (op 0 is NFT_CMP_EQ). */
export function cmpEq(sreg: number, data: Uint8Array): NftExpr {
  return expr("cmp", (e) => {
    e.u32be(1, sreg).u32be(2, 0);
    e.nested(3, (d) => d.bytes(DATA_VALUE, data));
  });
}

/** `bitwise DREG = (SREG & MASK) ^ XOR` over `mask.length` bytes. */
export function bitwise(sreg: number, dreg: number, mask: Uint8Array, xor: Uint8Array): NftExpr {
  return expr("bitwise", (e) => {
    e.u32be(1, sreg).u32be(2, dreg).u32be(3, mask.length);
    e.nested(4, (d) => d.bytes(DATA_VALUE, mask));
    e.nested(5, (d) => d.bytes(DATA_VALUE, xor));
  });
}

/** `meta load KEY => DREG`. */
export function meta(key: number, dreg: number): NftExpr {
  return expr("meta", (e) => e.u32be(2, key).u32be(1, dreg));
}

/**
 * `lookup SREG in @SET` (a map when `dreg` is given: the data goes to DREG); `setId` names a
 * set created in the same batch.
 */
export function lookup(
  sreg: number,
  set: string,
  opts: { dreg?: number; setId?: number } = {},
): NftExpr {
  return expr("lookup", (e) => {
    e.u32be(2, sreg);
    if (opts.dreg !== undefined) e.u32be(3, opts.dreg);
    e.string(1, set);
    if (opts.setId !== undefined) e.u32be(4, opts.setId);
  });
}

/** `dup to address SREG_ADDR device SREG_DEV`. */
export function dup(sregAddr: number, sregDev: number): NftExpr {
  return expr("dup", (e) => e.u32be(1, sregAddr).u32be(2, sregDev));
}

/** `immediate verdict` (drop, accept; goto / jump need `chain`). */
export function verdict(code: number, chain?: string): NftExpr {
  return expr("immediate", (e) => {
    e.u32be(1, NFT_REG.verdict);
    e.nested(2, (d) =>
      d.nested(DATA_VERDICT, (v) => {
        v.u32be(VERDICT_CODE, code >>> 0);
        if (chain !== undefined) v.string(VERDICT_CHAIN, chain);
      }));
  });
}

// ---- answers ------------------------------------------------------------------------------

/** The kernel's answer to one message of a batch or request. */
export interface NftAnswer {
  seq: number;
  /** 0 for an acknowledgement. */
  errno: number;
  /** The kernel's extended ACK text, if any. */
  message: string | null;
}

/**
 * Reads a datagram of answers: acknowledgements and errors (NLMSG_ERROR) by sequence number,
 * and the number of other messages (a GET's reply objects) per sequence number.
 */
export function decodeAnswers(
  datagram: Uint8Array,
): Decoded<{ answers: NftAnswer[]; objects: Map<number, number> }> {
  const d = decodeMessages(datagram);
  if (!d.ok) return d;
  const answers: NftAnswer[] = [];
  const objects = new Map<number, number>();
  for (const m of d.value) {
    if (m.type === NLMSG_ERROR) {
      const e = decodeError(m);
      if (!e.ok) return e;
      answers.push({
        seq: e.value.request?.seq ?? m.seq,
        errno: e.value.errno,
        message: e.value.message,
      });
    } else {
      objects.set(m.seq, (objects.get(m.seq) ?? 0) + 1);
    }
  }
  return { ok: true, value: { answers, objects } };
}

/** A short name of a message type, for error texts ("NEWSETELEM"). */
export function nftTypeName(type: number): string {
  for (const [k, v] of Object.entries(NFT_MSG)) if (v === type) return k;
  return `nf_tables message ${type}`;
}
