/**
 * A fake kernel for unit tests: `new FakeNetlink(handler)` answers each request with the
 * messages the handler returns (or an errno), framed as the kernel would (multi-part dumps end
 * in NLMSG_DONE, other requests in an ACK, errors in NLMSG_ERROR) and fed through the same reply
 * router as the real connection, one datagram per message, asynchronously.
 *
 * @module
 */

import { SyscallError } from "../../ffi/errno.ts";
import { isDump, type NetlinkConn, ReplyRouter } from "./client.ts";
import {
  encodeMessage,
  NLM_F_MULTI,
  type NlMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
} from "./message.ts";

/** The fake's port id, stamped on replies. */
export const FAKE_PID = 4242;

/** What a handler returns: reply messages (seq and pid are overwritten) or an errno. */
export type FakeReply = NlMessage[] | SyscallError;

/** A `NetlinkConn` answered by a function instead of the kernel. */
export class FakeNetlink implements NetlinkConn {
  /** Every request received, in order (decoded as the kernel would see it). */
  readonly requests: NlMessage[] = [];
  readonly #handler: (req: NlMessage) => FakeReply;
  readonly #router: ReplyRouter;
  #closed = false;

  /** `handler` answers each request; `firstSeq` pins sequence numbers for golden tests. */
  constructor(handler: (req: NlMessage) => FakeReply, firstSeq = 0) {
    this.#handler = handler;
    this.#router = new ReplyRouter(firstSeq);
  }

  /** Whether `Symbol.dispose` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Requests still waiting for a reply. */
  get pending(): number {
    return this.#router.pending;
  }

  request(
    type: number,
    flags: number,
    payload: Uint8Array,
    what: string,
    op?: string,
  ): Promise<NlMessage[]> {
    if (this.#closed) return Promise.reject(new Error(`${what}: netlink connection is closed`));
    const r = this.#router.begin(type, flags, payload, what, op, FAKE_PID);
    const hdr = new DataView(r.bytes.buffer);
    const req: NlMessage = {
      type,
      flags: hdr.getUint16(6, true),
      seq: r.seq,
      pid: FAKE_PID,
      payload: payload.slice(),
    };
    this.requests.push(req);
    const answer = this.#handler(req);
    const datagrams = answer instanceof SyscallError
      ? [errorMessage(req, -answer.errno)]
      : frame(req, answer);
    queueMicrotask(() => {
      for (const d of datagrams) this.#router.feed(d);
    });
    return r.replies;
  }

  /** Delivers a multicast notification to the listeners (seq 0, as the kernel sends them). */
  emit(m: NlMessage): void {
    this.#router.feed(encodeMessage({ ...m, seq: 0, pid: 0 }));
  }

  /** Feeds raw bytes as if read from the socket (garbage tests). */
  feedRaw(datagram: Uint8Array): void {
    this.#router.feed(datagram);
  }

  /** Simulates ENOBUFS on the socket. */
  overrun(): void {
    this.#router.overrun();
  }

  /** Drop counters of the router. */
  get drops(): ReadonlyMap<string, number> {
    return this.#router.drops;
  }

  onNotification(fn: (m: NlMessage) => void): Disposable {
    return this.#router.onNotification(fn);
  }

  onOverrun(fn: () => void): Disposable {
    return this.#router.onOverrun(fn);
  }

  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#router.failAll((p) => new Error(`${p.what}: netlink connection closed`));
  }
}

function frame(req: NlMessage, replies: NlMessage[]): Uint8Array[] {
  const dump = isDump(req.flags);
  const out = replies.map((m) =>
    encodeMessage({
      ...m,
      flags: m.flags | (dump ? NLM_F_MULTI : 0),
      seq: req.seq,
      pid: FAKE_PID,
    })
  );
  const last = replies[replies.length - 1];
  const terminated = last !== undefined && (last.type === NLMSG_DONE || last.type === NLMSG_ERROR);
  if (!terminated) {
    out.push(
      dump
        ? encodeMessage({
          type: NLMSG_DONE,
          flags: NLM_F_MULTI,
          seq: req.seq,
          pid: FAKE_PID,
          payload: new Uint8Array(4),
        })
        : errorMessage(req, 0),
    );
  }
  return out;
}

/** An NLMSG_ERROR answering `req` with `code` (0 = ACK, else -errno), capped like the kernel's. */
export function errorMessage(req: NlMessage, code: number): Uint8Array {
  const p = new Uint8Array(4 + NLMSG_HDRLEN);
  const v = new DataView(p.buffer);
  v.setInt32(0, code, true);
  v.setUint32(4, NLMSG_HDRLEN + req.payload.length, true);
  v.setUint16(8, req.type, true);
  v.setUint16(10, req.flags, true);
  v.setUint32(12, req.seq, true);
  v.setUint32(16, req.pid, true);
  return encodeMessage({
    type: NLMSG_ERROR,
    flags: 0x100,
    seq: req.seq,
    pid: FAKE_PID,
    payload: p,
  });
}
