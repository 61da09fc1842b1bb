import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { AttributeEncoder } from "./attrs.ts";
import { decodeMessages, encodeMessage, NLM_F_ACK, NLMSG_ERROR } from "./message.ts";
import {
  decodeAnswers,
  encodeBatch,
  NFNL_MSG_BATCH_BEGIN,
  NFNL_MSG_BATCH_END,
  NFPROTO,
  NFT_MSG,
  nftTypeName,
  setElementsMessage,
  tableMessage,
} from "./nftables.ts";

function errorMsg(seq: number, errno: number, text?: string): Uint8Array {
  const p = new Uint8Array(4 + 16);
  const v = new DataView(p.buffer);
  v.setInt32(0, -errno, true);
  v.setUint32(4, 16, true);
  v.setUint32(12, seq, true);
  let payload = p;
  let flags = 0x100; // NLM_F_CAPPED
  if (text !== undefined) {
    const tlv = new AttributeEncoder().string(1, text).finish();
    payload = new Uint8Array([...p, ...tlv]);
    flags |= 0x200; // NLM_F_ACK_TLVS
  }
  return encodeMessage({ type: NLMSG_ERROR, flags, seq, pid: 0, payload });
}

Deno.test("nftables: a batch is BEGIN, the messages with ACK, END, one datagram", () => {
  let seq = 100;
  const b = encodeBatch([
    tableMessage("new", NFPROTO.ipv4, "t"),
    tableMessage("del", NFPROTO.ipv6, "t"),
  ], () => seq++);
  const d = decodeMessages(b.bytes);
  assert(d.ok);
  assertEquals(d.value.map((m) => m.type), [
    NFNL_MSG_BATCH_BEGIN,
    (10 << 8) | NFT_MSG.NEWTABLE,
    (10 << 8) | NFT_MSG.DELTABLE,
    NFNL_MSG_BATCH_END,
  ]);
  assertEquals(d.value.map((m) => m.seq), [100, 101, 102, 103]);
  assertEquals(b.seqs, [101, 102]);
  assertEquals(d.value.map((m) => (m.flags & NLM_F_ACK) !== 0), [false, true, true, false]);
  // nfgenmsg: family, version 0, res_id 10 (big-endian) on begin/end
  assertEquals([...d.value[0]!.payload], [0, 0, 0, 10]);
  assertEquals(d.value[1]!.payload[0], NFPROTO.ipv4);
  assertEquals(d.value[2]!.payload[0], NFPROTO.ipv6);
});

Deno.test("nftables: answers are read by sequence number, with the kernel's text", () => {
  const datagram = new Uint8Array([
    ...errorMsg(7, 0),
    ...errorMsg(8, 17, "Could not process rule: File exists"),
  ]);
  const a = decodeAnswers(datagram);
  assert(a.ok);
  assertEquals(a.value.answers, [
    { seq: 7, errno: 0, message: null },
    { seq: 8, errno: 17, message: "Could not process rule: File exists" },
  ]);
  assertEquals(a.value.objects.size, 0);
});

Deno.test("nftables: a GET's reply objects are counted per sequence number", () => {
  const obj = encodeMessage({
    type: (10 << 8) | NFT_MSG.NEWTABLE,
    flags: 0,
    seq: 5,
    pid: 0,
    payload: new Uint8Array(8),
  });
  const a = decodeAnswers(new Uint8Array([...obj, ...errorMsg(5, 0)]));
  assert(a.ok);
  assertEquals(a.value.objects.get(5), 1);
  assertEquals(a.value.answers.length, 1);
});

Deno.test("nftables: mutated answers never throw", () => {
  const good = new Uint8Array([...errorMsg(1, 0), ...errorMsg(2, 22, "x")]);
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 2000; i++) {
    const b = good.slice(0, Math.floor(rnd() * (good.length + 1)));
    for (let k = 0; k < 3 && b.length > 0; k++) b[Math.floor(rnd() * b.length)] = rnd() * 256;
    decodeAnswers(b);
  }
});

Deno.test("nftables: set elements carry key and map data; del keeps no CREATE flag", () => {
  const m = setElementsMessage("del", NFPROTO.ipv4, "t", "m", [{
    key: Uint8Array.of(1, 0, 0, 0),
    data: Uint8Array.of(2, 0, 0, 0),
  }]);
  assertEquals(m.type, NFT_MSG.DELSETELEM);
  assertEquals(m.flags, 0);
  const n = setElementsMessage("new", NFPROTO.ipv4, "t", "s", [{ key: Uint8Array.of(1) }]);
  assertEquals(n.flags, 0x600);
  assertEquals(nftTypeName(NFT_MSG.NEWSETELEM), "NEWSETELEM");
  assertEquals(nftTypeName(99), "nf_tables message 99");
});
