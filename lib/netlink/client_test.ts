import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { AttributeEncoder } from "./attrs.ts";
import { NetlinkError, ReplyRouter } from "./client.ts";
import {
  encodeMessage,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_DUMP,
  NLM_F_MULTI,
  type NlMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
} from "./message.ts";

function ack(seq: number, code: number, extMsg?: string): Uint8Array {
  const tlv = extMsg === undefined
    ? new Uint8Array(0)
    : new AttributeEncoder().string(NLMSGERR_ATTR_MSG, extMsg).finish();
  const p = new Uint8Array(20 + tlv.length);
  new DataView(p.buffer).setInt32(0, code, true);
  new DataView(p.buffer).setUint32(12, seq, true);
  p.set(tlv, 20);
  const flags = NLM_F_CAPPED | (extMsg === undefined ? 0 : NLM_F_ACK_TLVS);
  return encodeMessage({ type: NLMSG_ERROR, flags, seq, pid: 0, payload: p });
}

function data(seq: number, type = 16, multi = true): Uint8Array {
  return encodeMessage({
    type,
    flags: multi ? NLM_F_MULTI : 0,
    seq,
    pid: 0,
    payload: Uint8Array.of(seq & 0xff, 0, 0, 0),
  });
}

function cat(...bs: Uint8Array[]): Uint8Array {
  return new Uint8Array(bs.flatMap((b) => [...b]));
}

Deno.test("router: requests get sequential seqs, REQUEST|ACK added, dumps without ACK", () => {
  const r = new ReplyRouter(100);
  const a = r.begin(20, 0x600, new Uint8Array(0), "x", undefined);
  const b = r.begin(18, NLM_F_DUMP, new Uint8Array(0), "y", undefined);
  assertEquals([a.seq, b.seq], [101, 102]);
  const fa = new DataView(a.bytes.buffer).getUint16(6, true);
  const fb = new DataView(b.bytes.buffer).getUint16(6, true);
  assertEquals(fa, 0x605);
  assertEquals(fb, 0x301);
  r.failAll(() => new Error("end"));
  a.replies.catch(() => {});
  b.replies.catch(() => {});
});

Deno.test("router: interleaved replies reach their own requests", async () => {
  const r = new ReplyRouter(0);
  const a = r.begin(18, NLM_F_DUMP, new Uint8Array(0), "dump a", undefined);
  const b = r.begin(18, NLM_F_DUMP, new Uint8Array(0), "dump b", undefined);
  const done = (seq: number) =>
    encodeMessage({ type: NLMSG_DONE, flags: 2, seq, pid: 0, payload: new Uint8Array(4) });
  r.feed(cat(data(2), data(1), data(2)));
  r.feed(cat(data(1), done(2)));
  r.feed(done(1));
  const ra = await a.replies;
  const rb = await b.replies;
  assertEquals(ra.map((m) => m.seq), [1, 1]);
  assertEquals(rb.map((m) => m.seq), [2, 2]);
  assertEquals(r.pending, 0);
});

Deno.test("router: NLMSG_ERROR becomes NetlinkError with the kernel's message", async () => {
  const r = new ReplyRouter(0);
  const a = r.begin(20, 0x600, new Uint8Array(0), `Cannot add 10.0.0.1/33 to "eth0"`, undefined);
  r.feed(ack(1, -22, "Invalid prefix for given prefix length"));
  const e = await assertRejects(() => a.replies, SyscallError);
  assert(e instanceof NetlinkError);
  assertEquals(e.syscall, "RTM_NEWADDR");
  assertEquals(e.code, "EINVAL");
  assertEquals(e.kernelMessage, "Invalid prefix for given prefix length");
  assertEquals(
    e.message,
    `Cannot add 10.0.0.1/33 to "eth0": EINVAL (Invalid argument)` +
      ` (kernel: Invalid prefix for given prefix length)`,
  );
  const b = r.begin(1000, 0, new Uint8Array(0), "q", "IPVS cmd 1");
  r.feed(ack(2, 0));
  assertEquals(await b.replies, []);
});

Deno.test("router: notifications, stray acks and garbage", () => {
  const r = new ReplyRouter(0);
  const seen: NlMessage[] = [];
  const sub = r.onNotification((m) => seen.push(m));
  r.feed(data(0, 16, false));
  r.feed(data(999, 20, false)); // unknown seq: someone else's change, still a notification
  r.feed(ack(5, 0));
  r.feed(Uint8Array.of(1, 2, 3));
  assertEquals(seen.map((m) => m.type), [16, 20]);
  assertEquals(r.drops.get("stray control message"), 1);
  assertEquals([...r.drops.keys()].length, 2);
  sub[Symbol.dispose]();
  r.feed(data(0, 16, false));
  assertEquals(seen.length, 2);
});

Deno.test("router: overrun fails requests in flight and tells listeners", async () => {
  const r = new ReplyRouter(0);
  let overruns = 0;
  r.onOverrun(() => overruns++);
  const a = r.begin(18, NLM_F_DUMP, new Uint8Array(0), "Cannot list links", undefined);
  r.overrun();
  const e = await assertRejects(() => a.replies, SyscallError);
  assertEquals((e as SyscallError).code, "ENOBUFS");
  assertEquals(overruns, 1);
});

Deno.test("router: garbage never throws", () => {
  const r = new ReplyRouter(0);
  const pend = [];
  for (let i = 0; i < 5; i++) {
    const p = r.begin(18, 0, new Uint8Array(0), "x", undefined);
    p.replies.catch(() => {});
    pend.push(p);
  }
  for (let i = 0; i < 5000; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(16 + (i % 40)));
    const v = new DataView(junk.buffer);
    v.setUint32(0, junk.length, true);
    v.setUint32(8, i % 7, true);
    if (i % 3 === 0) v.setUint16(4, NLMSG_ERROR, true);
    r.feed(junk);
  }
  r.failAll(() => new Error("end"));
});
