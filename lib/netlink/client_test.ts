import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { AttributeEncoder } from "./attrs.ts";
import { NETLINK_GENERIC, NETLINK_ROUTE, NetlinkSocket } from "../../ffi/netlink.ts";
import { NetlinkError, ReplyRouter, requestBatch, SocketConn } from "./client.ts";
import { FakeNetlink } from "./fake.ts";
import {
  decodeMessages,
  encodeMessage,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_MULTI,
  type NlMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
  RTM_GETLINK,
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

function messagesOf(datagram: Uint8Array): NlMessage[] {
  const d = decodeMessages(datagram);
  assert(d.ok);
  return d.value;
}

Deno.test("router: a batch packs requests into datagrams, ACK on the last of each", async () => {
  const r = new ReplyRouter(10);
  const reqs = Array.from({ length: 5 }, (_, i) => ({
    type: 30,
    flags: NLM_F_CREATE,
    payload: new Uint8Array(i + 1).fill(i),
  }));
  const b = r.beginBatch(reqs, 77, { maxMessages: 2 });
  assertEquals(b.datagrams.length, 3);
  const ms = b.datagrams.flatMap(messagesOf);
  assertEquals(ms.map((m) => m.seq), [11, 12, 13, 14, 15]);
  assertEquals(ms.map((m) => m.flags), [0x401, 0x405, 0x401, 0x405, 0x405]);
  assertEquals(ms.map((m) => m.pid), [77, 77, 77, 77, 77]);
  assertEquals(ms.map((m) => [...m.payload]), reqs.map((q) => [...q.payload]));
  // The kernel answers failures of unacked messages, then the last ACK of each datagram.
  r.feed(ack(11, -17, "exists"));
  r.feed(ack(12, 0));
  r.feed(ack(14, -2));
  assertEquals(r.pending, 1);
  r.feed(ack(15, 0));
  assertEquals(await b.done, [
    { errno: 17, kernelMessage: "exists" },
    null,
    null,
    { errno: 2, kernelMessage: null },
    null,
  ]);
  assertEquals(r.pending, 0);
  assertEquals(r.drops.size, 0);
});

Deno.test("router: a batch by bytes; an unsent datagram fails its requests; overrun rejects", async () => {
  const r = new ReplyRouter(0);
  const reqs = Array.from({ length: 4 }, () => ({
    type: 30,
    flags: 0,
    payload: new Uint8Array(40),
  }));
  const b = r.beginBatch(reqs, 0, { maxDatagramBytes: 120 });
  assertEquals(b.datagrams.map((d) => d.length), [112, 112]);
  r.feed(ack(2, -95));
  b.unsent(1, 105);
  assertEquals(await b.done, [
    null,
    { errno: 95, kernelMessage: null },
    { errno: 105, kernelMessage: null },
    { errno: 105, kernelMessage: null },
  ]);
  assertEquals(r.pending, 0);
  const c = r.beginBatch(reqs, 0);
  assertEquals(c.datagrams.length, 1);
  r.overrun();
  const e = await assertRejects(() => c.done, SyscallError);
  assertEquals((e as SyscallError).code, "ENOBUFS");
  assertEquals(r.pending, 0);
  assertThrows(
    () => r.beginBatch([{ type: 30, flags: NLM_F_DUMP, payload: new Uint8Array(0) }]),
    TypeError,
  );
  assertEquals(await r.beginBatch([]).done, []);
});

Deno.test("requestBatch: without conn.requestBatch, one request each; errors by index", async () => {
  const conn = new FakeNetlink((req) =>
    req.payload[0] === 1 ? new SyscallError("x", 17, "exists") : []
  );
  const reqs = [0, 1, 0, 1].map((b) => ({ type: 30, flags: 0, payload: Uint8Array.of(b) }));
  const got = await requestBatch(conn, reqs);
  assertEquals(got.map((g) => g?.errno ?? 0), [0, 17, 0, 17]);
  assertEquals(conn.requests.length, 4);
  conn[Symbol.dispose]();
  await assertRejects(() => requestBatch(conn, reqs));
});

Deno.test("router: deferred notifications arrive from a microtask, in order", async () => {
  const r = new ReplyRouter(0);
  const seen: number[] = [];
  r.onNotification((m) => seen.push(m.type));
  r.deferNotifications(true);
  r.feed(data(0, 16, false));
  r.feed(data(0, 20, false));
  r.deferNotifications(false);
  assertEquals(seen, []);
  await Promise.resolve();
  assertEquals(seen, [16, 20]);
});

const noReactor = { watch: () => ({ [Symbol.dispose]: () => {} }) };

Deno.test("SocketConn.dumpNow: the kernel's link dump in place, as request() gives it", async () => {
  using conn = new SocketConn(NetlinkSocket.open(NETLINK_ROUTE), noReactor, "test");
  const ifinfomsg = new Uint8Array(16);
  const viaRequest = await conn.request(RTM_GETLINK, NLM_F_DUMP, ifinfomsg, "links");
  const inPlace: number[][] = [];
  conn.dumpNow(RTM_GETLINK, NLM_F_DUMP, ifinfomsg, "links", "RTM_GETLINK", (buf, start, _end) => {
    inPlace.push([...buf.subarray(start, start + 8)]); // ifinfomsg head: stable across dumps
  });
  assert(inPlace.length >= 1, "at least lo");
  assertEquals(inPlace, viaRequest.map((m) => [...m.payload.subarray(0, 8)]));
  // A request for a generic netlink family that does not exist fails the same way both ways.
  using genl = new SocketConn(NetlinkSocket.open(NETLINK_GENERIC), noReactor, "test");
  const e1 = await assertRejects(
    () => genl.request(0x7ff0, NLM_F_DUMP, new Uint8Array(4), "no family", "x"),
    NetlinkError,
  );
  const e2 = assertThrows(
    () => genl.dumpNow(0x7ff0, NLM_F_DUMP, new Uint8Array(4), "no family", "x", () => {}),
    NetlinkError,
  );
  assertEquals((e2 as NetlinkError).code, (e1 as NetlinkError).code);
  assertEquals(genl.drops.size, 0);
});
