import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { AttributeEncoder } from "./attrs.ts";
import {
  decodeError,
  decodeMessages,
  doneErrno,
  encodeMessage,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  type NlMessage,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
} from "./message.ts";

Deno.test("message: golden header bytes", () => {
  const b = encodeMessage({
    type: 20,
    flags: 0x605,
    seq: 1,
    pid: 0x1092,
    payload: Uint8Array.of(1, 2, 3),
  });
  assertEquals(
    [...b],
    [19, 0, 0, 0, 20, 0, 5, 6, 1, 0, 0, 0, 0x92, 0x10, 0, 0, 1, 2, 3, 0],
  );
});

Deno.test("message: several messages in one datagram round-trip", () => {
  const ms: NlMessage[] = [];
  for (let i = 0; i < 50; i++) {
    ms.push({
      type: 16 + (i % 10),
      flags: i * 7,
      seq: i * 1000003 >>> 0,
      pid: i,
      payload: crypto.getRandomValues(new Uint8Array(i)),
    });
  }
  const parts = ms.map(encodeMessage);
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const d = decodeMessages(all);
  assert(d.ok);
  assertEquals(
    d.value.map((m) => ({ ...m, payload: [...m.payload] })),
    ms.map((m) => ({
      ...m,
      payload: [...m.payload],
    })),
  );
});

Deno.test("message: truncated and garbage datagrams are {ok:false}, never thrown", () => {
  const one = encodeMessage({ type: 16, flags: 2, seq: 3, pid: 4, payload: new Uint8Array(20) });
  for (let cut = 1; cut < one.length; cut++) {
    const d = decodeMessages(one.subarray(0, cut));
    assert(!d.ok, `cut at ${cut}`);
  }
  const bad = one.slice();
  new DataView(bad.buffer).setUint32(0, 8, true);
  const d = decodeMessages(bad);
  assert(!d.ok && d.reason.includes("bad length 8"));
  assertEquals(decodeMessages(new Uint8Array(0)), { ok: true, value: [] });
  for (let i = 0; i < 3000; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(i % 80));
    const r = decodeMessages(junk);
    if (r.ok) { for (const m of r.value) decodeError(m); }
  }
});

Deno.test("message: NLMSG_ERROR with capped request and extended ACK text", () => {
  const tlv = new AttributeEncoder().string(NLMSGERR_ATTR_MSG, "Invalid prefix").finish();
  const p = new Uint8Array(20 + tlv.length);
  const v = new DataView(p.buffer);
  v.setInt32(0, -22, true);
  v.setUint32(4, 52, true);
  v.setUint16(8, 20, true);
  v.setUint32(12, 77, true);
  p.set(tlv, 20);
  const e = decodeError({
    type: NLMSG_ERROR,
    flags: NLM_F_CAPPED | NLM_F_ACK_TLVS,
    seq: 77,
    pid: 0,
    payload: p,
  });
  assert(e.ok);
  assertEquals(e.value.errno, 22);
  assertEquals(e.value.message, "Invalid prefix");
  assertEquals(e.value.request?.seq, 77);
  assertEquals(e.value.request?.type, 20);
  const short = decodeError({ type: 2, flags: 0, seq: 0, pid: 0, payload: Uint8Array.of(1) });
  assert(!short.ok);
  assertEquals(
    doneErrno({
      type: 3,
      flags: 2,
      seq: 0,
      pid: 0,
      payload: Uint8Array.of(0xfe, 0xff, 0xff, 0xff),
    }),
    2,
  );
});
