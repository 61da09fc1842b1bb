/**
 * Netlink connections: the `NetlinkConn` contract, the reply router every implementation shares
 * (sequence numbers, multi-part dumps, ACKs, errors, notifications), and the real connection
 * on a kernel socket driven by the reactor.
 *
 * @module
 */

import { Errno, SyscallError } from "../../ffi/errno.ts";
import {
  NETLINK_GENERIC,
  NETLINK_ROUTE,
  NetlinkSocket,
  type NetlinkSocketOptions,
} from "../../ffi/netlink.ts";
import {
  decodeError,
  decodeMessages,
  doneErrno,
  encodeMessage,
  nlAlign,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  type NlMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  rtmTypeName,
} from "./message.ts";

/** A request/notification channel to the kernel (real) or to a test double (`FakeNetlink`). */
export interface NetlinkConn extends Disposable {
  /**
   * Sends one request (seq assigned here, NLM_F_REQUEST added, NLM_F_ACK added unless it is a
   * dump) and collects replies until the ACK / NLMSG_DONE. An NLMSG_ERROR with an errno rejects
   * with `NetlinkError` (a `SyscallError`) named `op` (default: the message type name) whose
   * message starts with `what`.
   */
  request(
    type: number,
    flags: number,
    payload: Uint8Array,
    what: string,
    op?: string,
  ): Promise<NlMessage[]>;
  /**
   * Optional: sends many non-dump requests packed into as few datagrams as possible, with one
   * ACK per datagram (the kernel answers every failed message with its own NLMSG_ERROR). Resolves
   * with one entry per request, in order: null when the kernel accepted it. Rejects only when
   * the connection fails (closed, replies lost). Use `requestBatch(conn, reqs)` for any conn.
   */
  requestBatch?(reqs: readonly BatchRequest[]): Promise<BatchFailure[]>;
  /**
   * Optional: runs a dump to its end before returning (a kernel answers at once), handing each
   * reply's payload to `each` in place: `buf[start, end)` is valid only during the call. Throws
   * `NetlinkError` where `request` would reject. Use `Genl.dump` for any conn.
   */
  dumpNow?(
    type: number,
    flags: number,
    payload: Uint8Array,
    what: string,
    op: string,
    each: DumpVisitor,
  ): void;
  /** Delivers multicast notifications (after subscribe); returns a handle to stop. */
  onNotification(fn: (m: NlMessage) => void): Disposable;
  /** Called when the kernel dropped notifications (ENOBUFS): the listener must resync. */
  onOverrun(fn: () => void): Disposable;
}

/** What the real connection needs from the reactor (`ffi/reactor.ts` `Reactor`). */
export interface ReactorLike {
  /** Calls `onReadable` while `fd` is readable (level-triggered). */
  watch(fd: number, onReadable: () => void, label: string): Disposable;
}

/** A netlink error reply: a `SyscallError` plus the kernel's extended ACK message, if any. */
export class NetlinkError extends SyscallError {
  /** The kernel's extended ACK text (`NLMSGERR_ATTR_MSG`), or null. */
  readonly kernelMessage: string | null;

  /** As `SyscallError`; a kernel message is appended to the text. */
  constructor(op: string, errno: number, what: string, kernelMessage: string | null) {
    super(op, errno, what);
    this.name = "NetlinkError";
    this.kernelMessage = kernelMessage;
    if (kernelMessage !== null && kernelMessage !== "") {
      this.message += ` (kernel: ${kernelMessage})`;
    }
  }
}

/** Receives one dump reply's payload in place (`buf[start, end)`, valid during the call). */
export type DumpVisitor = (buf: Uint8Array, start: number, end: number) => void;

/** One request of a batch (`NetlinkConn.requestBatch`): never a dump. */
export interface BatchRequest {
  type: number;
  /** Extra flags (NLM_F_CREATE...); NLM_F_REQUEST is added, NLM_F_ACK where needed. */
  flags: number;
  payload: Uint8Array;
}

/** The kernel's refusal of one batched request, or null when it was accepted. */
export type BatchFailure = { errno: number; kernelMessage: string | null } | null;

/** Limits on the datagrams a batch is packed into. */
export interface BatchLimits {
  /** Largest datagram (default 64 KiB). */
  maxDatagramBytes?: number;
  /** Most messages in one datagram (default 1024). */
  maxMessages?: number;
}

/** A batch being answered: failures by index, datagrams whose final ACK is still due. */
interface BatchState {
  readonly failures: BatchFailure[];
  open: number;
  settled: boolean;
  resolve: (v: BatchFailure[]) => void;
  reject: (e: Error) => void;
}

/** One datagram of a batch: its seqs (their slots are dropped when its last message is answered). */
interface BatchDatagram {
  readonly batch: BatchState;
  readonly seqs: number[];
  readonly first: number;
  done: boolean;
}

/** Where the reply to a batched message goes. */
interface BatchSlot {
  readonly datagram: BatchDatagram;
  readonly index: number;
  readonly last: boolean;
}

/** A batch registered with the router: its datagrams, ready to send in order. */
export interface BatchBegun {
  /** Encoded datagrams, to send in order. */
  datagrams: Uint8Array[];
  /** Resolves when every datagram is answered (see `NetlinkConn.requestBatch`). */
  done: Promise<BatchFailure[]>;
  /** Marks datagram `i` as not sent: its messages fail with `errno`. */
  unsent(i: number, errno: number): void;
}

interface Pending {
  dump: boolean;
  op: string;
  what: string;
  replies: NlMessage[];
  interrupted: boolean;
  resolve: (v: NlMessage[]) => void;
  reject: (e: Error) => void;
}

/** Whether request flags ask for a dump (NLM_F_ROOT | NLM_F_MATCH). */
export function isDump(flags: number): boolean {
  return (flags & NLM_F_DUMP) === NLM_F_DUMP;
}

/**
 * The transport-free half of a connection: hands out sequence numbers, encodes requests, and
 * routes every received datagram to the request it answers or to the notification listeners.
 */
export class ReplyRouter {
  readonly #pending = new Map<number, Pending | BatchSlot>();
  readonly #notify = new Set<(m: NlMessage) => void>();
  readonly #overrun = new Set<() => void>();
  /** Datagrams or messages dropped, by reason. */
  readonly drops = new Map<string, number>();
  #seq: number;
  #defer = false;
  #queued: NlMessage[] = [];

  /** `firstSeq` lets tests pin sequence numbers. */
  constructor(firstSeq = 1 + Math.floor(Math.random() * 0x7fffffff)) {
    this.#seq = firstSeq >>> 0;
  }

  /** Number of requests waiting for replies. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Registers a request and returns its encoded bytes plus the promise of its replies. The
   * caller sends the bytes; if sending fails it calls `cancel(seq, err)`.
   */
  begin(
    type: number,
    flags: number,
    payload: Uint8Array,
    what: string,
    op: string | undefined,
    pid = 0,
  ): { seq: number; bytes: Uint8Array; replies: Promise<NlMessage[]> } {
    const seq = this.#nextSeq();
    const dump = isDump(flags);
    const reqFlags = flags | NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK);
    const bytes = encodeMessage({ type, flags: reqFlags, seq, pid, payload });
    const replies = new Promise<NlMessage[]>((resolve, reject) => {
      this.#pending.set(seq, {
        dump,
        op: op ?? rtmTypeName(type),
        what,
        replies: [],
        interrupted: false,
        resolve,
        reject,
      });
    });
    return { seq, bytes, replies };
  }

  /**
   * Registers a batch of non-dump requests and packs them into datagrams: every message gets
   * its own seq, only the last of each datagram asks for an ACK (the kernel answers the others
   * only when they fail, and handles a datagram's messages in order). Throws `TypeError` for a
   * dump (a socket runs one dump at a time).
   */
  beginBatch(reqs: readonly BatchRequest[], pid = 0, limits: BatchLimits = {}): BatchBegun {
    const maxBytes = limits.maxDatagramBytes ?? 64 << 10;
    const maxMessages = Math.max(1, limits.maxMessages ?? 1024);
    for (const r of reqs) {
      if (isDump(r.flags)) throw new TypeError("A dump cannot be part of a netlink batch");
    }
    let resolve!: (v: BatchFailure[]) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<BatchFailure[]>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    const batch: BatchState = {
      failures: new Array<BatchFailure>(reqs.length).fill(null),
      open: 0,
      settled: false,
      resolve,
      reject,
    };
    const datagrams: Uint8Array[] = [];
    const groups: BatchDatagram[] = [];
    let start = 0;
    while (start < reqs.length) {
      let end = start;
      let bytes = 0;
      while (end < reqs.length && end - start < maxMessages) {
        const len = nlAlign(NLMSG_HDRLEN + reqs[end]!.payload.length);
        if (end > start && bytes + len > maxBytes) break;
        bytes += len;
        end++;
      }
      const out = new Uint8Array(bytes);
      const v = new DataView(out.buffer);
      const group: BatchDatagram = { batch, seqs: [], first: start, done: false };
      let off = 0;
      for (let i = start; i < end; i++) {
        const r = reqs[i]!;
        const seq = this.#nextSeq();
        const last = i === end - 1;
        const len = NLMSG_HDRLEN + r.payload.length;
        v.setUint32(off, len, true);
        v.setUint16(off + 4, r.type, true);
        v.setUint16(off + 6, r.flags | NLM_F_REQUEST | (last ? NLM_F_ACK : 0), true);
        v.setUint32(off + 8, seq, true);
        v.setUint32(off + 12, pid >>> 0, true);
        out.set(r.payload, off + NLMSG_HDRLEN);
        off += nlAlign(len);
        group.seqs.push(seq);
        this.#pending.set(seq, { datagram: group, index: i, last });
      }
      datagrams.push(out);
      groups.push(group);
      batch.open++;
      start = end;
    }
    if (batch.open === 0) resolve(batch.failures);
    const unsent = (i: number, errno: number): void => {
      const g = groups[i];
      if (g === undefined || g.done) return;
      for (let k = 0; k < g.seqs.length; k++) {
        batch.failures[g.first + k] = { errno, kernelMessage: null };
      }
      this.#closeDatagram(g);
    };
    return { datagrams, done, unsent };
  }

  /** A sequence number no waiting request uses, for a request answered outside the router. */
  reserveSeq(): number {
    return this.#nextSeq();
  }

  /** Fails one request (e.g. the send failed). */
  cancel(seq: number, err: Error): void {
    const p = this.#pending.get(seq);
    if (p === undefined || "datagram" in p) return;
    this.#pending.delete(seq);
    p.reject(err);
  }

  /** Fails every waiting request and batch (connection closed, replies lost). */
  failAll(err: (p: { op: string; what: string }) => Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) {
      if (!("datagram" in p)) {
        p.reject(err(p));
        continue;
      }
      const b = p.datagram.batch;
      if (b.settled) continue;
      b.settled = true;
      b.reject(err({ op: "netlink batch", what: `${b.failures.length} batched requests` }));
    }
  }

  /** Routes one received datagram. Never throws on bad input: it is counted in `drops`. */
  feed(datagram: Uint8Array): void {
    const d = decodeMessages(datagram);
    if (!d.ok) {
      this.#drop(d.reason);
      return;
    }
    for (const m of d.value) this.#route(m);
  }

  /** Reports a receive overrun (ENOBUFS): requests in flight lost replies, listeners resync. */
  overrun(): void {
    this.failAll((p) =>
      new NetlinkError(p.op, Errno.ENOBUFS, `${p.what} (netlink replies lost)`, null)
    );
    for (const fn of [...this.#overrun]) fn();
  }

  /**
   * While on, notifications are queued and delivered from a microtask (so a listener never
   * runs inside the `request` call that read them).
   */
  deferNotifications(on: boolean): void {
    this.#defer = on;
  }

  /** Adds a notification listener. */
  onNotification(fn: (m: NlMessage) => void): Disposable {
    this.#notify.add(fn);
    return { [Symbol.dispose]: () => this.#notify.delete(fn) };
  }

  /** Adds an overrun listener. */
  onOverrun(fn: () => void): Disposable {
    this.#overrun.add(fn);
    return { [Symbol.dispose]: () => this.#overrun.delete(fn) };
  }

  #route(m: NlMessage): void {
    const p = m.seq === 0 ? undefined : this.#pending.get(m.seq);
    if (p === undefined) {
      if (m.type === NLMSG_ERROR || m.type === NLMSG_DONE || m.type === NLMSG_NOOP) {
        this.#drop("stray control message");
        return;
      }
      if (this.#defer) this.#deferred(m);
      else for (const fn of [...this.#notify]) fn(m);
      return;
    }
    if ("datagram" in p) return this.#routeBatch(m, p);
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    switch (m.type) {
      case NLMSG_NOOP:
        return;
      case NLMSG_ERROR: {
        const e = decodeError(m);
        if (!e.ok) return this.#finish(m.seq, p, Errno.EPROTO, e.reason);
        return this.#finish(m.seq, p, e.value.errno, e.value.message);
      }
      case NLMSG_DONE:
        return this.#finish(m.seq, p, doneErrno(m), null);
      case NLMSG_OVERRUN:
        return this.#finish(m.seq, p, Errno.ENOBUFS, null);
      default:
        p.replies.push(m);
    }
  }

  #deferred(m: NlMessage): void {
    if (this.#notify.size === 0) return;
    this.#queued.push(m);
    if (this.#queued.length > 1) return;
    queueMicrotask(() => {
      const ms = this.#queued;
      this.#queued = [];
      for (const q of ms) for (const fn of [...this.#notify]) fn(q);
    });
  }

  #routeBatch(m: NlMessage, slot: BatchSlot): void {
    if (m.type !== NLMSG_ERROR) {
      if (m.type !== NLMSG_NOOP) this.#drop("reply to a batched request");
      return;
    }
    const e = decodeError(m);
    const g = slot.datagram;
    this.#pending.delete(m.seq);
    if (!e.ok) g.batch.failures[slot.index] = { errno: Errno.EPROTO, kernelMessage: e.reason };
    else if (e.value.errno !== 0) {
      g.batch.failures[slot.index] = { errno: e.value.errno, kernelMessage: e.value.message };
    }
    // The kernel handles a datagram's messages in order: its last answer closes it.
    if (slot.last) this.#closeDatagram(g);
  }

  #closeDatagram(g: BatchDatagram): void {
    if (g.done) return;
    g.done = true;
    for (const seq of g.seqs) {
      const s = this.#pending.get(seq);
      if (s !== undefined && "datagram" in s && s.datagram === g) this.#pending.delete(seq);
    }
    const b = g.batch;
    b.open--;
    if (b.open === 0 && !b.settled) {
      b.settled = true;
      b.resolve(b.failures);
    }
  }

  #finish(seq: number, p: Pending, errno: number, kernelMessage: string | null): void {
    this.#pending.delete(seq);
    if (errno !== 0) {
      p.reject(new NetlinkError(p.op, errno, p.what, kernelMessage));
    } else if (p.interrupted) {
      p.reject(
        new NetlinkError(p.op, Errno.EINTR, `${p.what} (dump interrupted by a change)`, null),
      );
    } else {
      p.resolve(p.replies);
    }
  }

  #nextSeq(): number {
    do {
      this.#seq = (this.#seq + 1) >>> 0;
    } while (this.#seq === 0 || this.#pending.has(this.#seq));
    return this.#seq;
  }

  #drop(reason: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }
}

/**
 * A `NetlinkConn` over a real netlink socket. The kernel answers a request inside `sendto` (and
 * makes the next part of a dump inside each read), so replies are read right after sending,
 * without a round through the reactor; the reactor delivers notifications and anything later.
 */
export class SocketConn implements NetlinkConn {
  readonly #sock: NetlinkSocket;
  readonly #router = new ReplyRouter();
  readonly #watch: Disposable;
  readonly #limits: BatchLimits;
  #closed = false;

  /** Takes ownership of `sock` and registers it with `reactor`; `limits` shape batches. */
  constructor(sock: NetlinkSocket, reactor: ReactorLike, label: string, limits: BatchLimits = {}) {
    this.#sock = sock;
    this.#limits = limits;
    this.#watch = reactor.watch(sock.fd, () => this.#readable(), label);
  }

  /** The kernel-assigned port id. */
  get pid(): number {
    return this.#sock.pid;
  }

  /** Drop counters of the router (malformed datagrams, stray control messages). */
  get drops(): ReadonlyMap<string, number> {
    return this.#router.drops;
  }

  request(
    type: number,
    flags: number,
    payload: Uint8Array,
    what: string,
    op?: string,
  ): Promise<NlMessage[]> {
    if (this.#closed) {
      return Promise.reject(new Error(`${what}: netlink connection is closed`));
    }
    const r = this.#router.begin(type, flags, payload, what, op, this.#sock.pid);
    try {
      this.#sock.send(r.bytes, what);
    } catch (e) {
      this.#router.cancel(r.seq, e as Error);
      return r.replies;
    }
    this.#drainNow();
    return r.replies;
  }

  requestBatch(reqs: readonly BatchRequest[]): Promise<BatchFailure[]> {
    if (this.#closed) {
      return Promise.reject(new Error(`${reqs.length} batched requests: connection is closed`));
    }
    const b = this.#router.beginBatch(reqs, this.#sock.pid, this.#limits);
    for (let i = 0; i < b.datagrams.length; i++) {
      try {
        this.#sock.send(b.datagrams[i]!, `netlink batch of ${reqs.length} requests`);
      } catch (e) {
        b.unsent(i, (e as { errno?: number }).errno ?? Errno.EIO);
        continue;
      }
      // Read the answers before the next datagram, so they never pile up in the buffer.
      this.#drainNow();
    }
    return b.done;
  }

  dumpNow(
    type: number,
    flags: number,
    payload: Uint8Array,
    what: string,
    op: string,
    each: DumpVisitor,
  ): void {
    if (this.#closed) throw new Error(`${what}: netlink connection is closed`);
    if (!isDump(flags)) throw new TypeError("dumpNow needs dump flags");
    const seq = this.#router.reserveSeq();
    const pid = this.#sock.pid;
    this.#sock.send(encodeMessage({ type, flags: flags | NLM_F_REQUEST, seq, pid, payload }), what);
    let interrupted = false;
    for (;;) {
      const d = this.#sock.recvView();
      if (d === null) {
        throw new NetlinkError(
          op,
          Errno.EAGAIN,
          `${what} (the dump did not finish at once)`,
          null,
        );
      }
      if (d === "overrun") {
        this.#router.overrun();
        throw new NetlinkError(op, Errno.ENOBUFS, `${what} (netlink replies lost)`, null);
      }
      const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
      for (let off = 0; off < d.length;) {
        const len = d.length - off >= NLMSG_HDRLEN ? v.getUint32(off, true) : 0;
        if (len < NLMSG_HDRLEN || len > d.length - off) {
          throw new NetlinkError(op, Errno.EPROTO, `${what} (malformed reply)`, null);
        }
        const mType = v.getUint16(off + 4, true);
        const mFlags = v.getUint16(off + 6, true);
        if (v.getUint32(off + 8, true) !== seq) {
          // Someone else's message (a notification): the router's, as a copy.
          this.#router.deferNotifications(true);
          this.#router.feed(d.slice(off, off + len));
          this.#router.deferNotifications(false);
        } else if (mType === NLMSG_DONE || mType === NLMSG_ERROR || mType === NLMSG_OVERRUN) {
          const m = {
            type: mType,
            flags: mFlags,
            seq,
            pid: 0,
            payload: d.subarray(off + 16, off + len),
          };
          let errno: number = Errno.ENOBUFS;
          let kernelMessage: string | null = null;
          if (mType === NLMSG_DONE) errno = doneErrno(m);
          else if (mType === NLMSG_ERROR) {
            const e = decodeError(m);
            errno = e.ok ? e.value.errno : Errno.EPROTO;
            kernelMessage = e.ok ? e.value.message : e.reason;
          }
          if (errno !== 0) throw new NetlinkError(op, errno, what, kernelMessage);
          if (interrupted) {
            throw new NetlinkError(
              op,
              Errno.EINTR,
              `${what} (dump interrupted by a change)`,
              null,
            );
          }
          return;
        } else if (mType !== NLMSG_NOOP) {
          if (mFlags & NLM_F_DUMP_INTR) interrupted = true;
          each(d, off + NLMSG_HDRLEN, off + len);
        }
        off += nlAlign(len);
      }
    }
  }

  onNotification(fn: (m: NlMessage) => void): Disposable {
    return this.#router.onNotification(fn);
  }

  onOverrun(fn: () => void): Disposable {
    return this.#router.onOverrun(fn);
  }

  /**
   * Reads what the kernel queued while answering, until nothing waits for a reply (anything
   * later is the reactor's); notifications met are deferred to a microtask.
   */
  #drainNow(): void {
    this.#router.deferNotifications(true);
    try {
      this.#readable(true);
    } finally {
      this.#router.deferNotifications(false);
    }
  }

  #readable(untilAnswered = false): void {
    try {
      for (;;) {
        if (untilAnswered && this.#router.pending === 0) return;
        const r = this.#sock.recv();
        if (r === null) return;
        if (r === "overrun") this.#router.overrun();
        else this.#router.feed(r);
      }
    } catch (e) {
      this.#router.failAll(() => e as Error);
    }
  }

  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch[Symbol.dispose]();
    this.#sock.close();
    this.#router.failAll((p) => new Error(`${p.what}: netlink connection closed`));
  }
}

/** Opens a NETLINK_ROUTE connection, joined to `groups` (RTNLGRP_* numbers) if given. */
export function openRouteConn(reactor: ReactorLike, groups: number[] = []): NetlinkConn {
  const sock = NetlinkSocket.open(NETLINK_ROUTE, { groups });
  return new SocketConn(sock, reactor, groups.length ? "rtnetlink events" : "rtnetlink");
}

/** Opens a NETLINK_GENERIC connection; `opts` size the socket's buffers. */
export function openGenericConn(
  reactor: ReactorLike,
  opts: Omit<NetlinkSocketOptions, "groups"> = {},
): NetlinkConn {
  return new SocketConn(NetlinkSocket.open(NETLINK_GENERIC, opts), reactor, "generic netlink");
}

/**
 * Sends `reqs` as a batch on any connection: `conn.requestBatch` when it has one, else one
 * `request` each (all at once; the kernel or fake answers them in order). Rejects only when the
 * connection fails.
 */
export async function requestBatch(
  conn: NetlinkConn,
  reqs: readonly BatchRequest[],
): Promise<BatchFailure[]> {
  if (conn.requestBatch !== undefined) return conn.requestBatch(reqs);
  const settled = await Promise.allSettled(
    reqs.map((r) => conn.request(r.type, r.flags, r.payload, "batched request")),
  );
  return settled.map((s) => {
    if (s.status === "fulfilled") return null;
    const e = s.reason as Error;
    if (!(e instanceof SyscallError)) throw e;
    return { errno: e.errno, kernelMessage: e instanceof NetlinkError ? e.kernelMessage : null };
  });
}
