/**
 * Netlink connections: the `NetlinkConn` contract, the reply router every implementation shares
 * (sequence numbers, multi-part dumps, ACKs, errors, notifications), and the real connection
 * on a kernel socket driven by the reactor.
 *
 * @module
 */

import { Errno, SyscallError } from "../../ffi/errno.ts";
import { NETLINK_GENERIC, NETLINK_ROUTE, NetlinkSocket } from "../../ffi/netlink.ts";
import {
  decodeError,
  decodeMessages,
  doneErrno,
  encodeMessage,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  type NlMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
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
  readonly #pending = new Map<number, Pending>();
  readonly #notify = new Set<(m: NlMessage) => void>();
  readonly #overrun = new Set<() => void>();
  /** Datagrams or messages dropped, by reason. */
  readonly drops = new Map<string, number>();
  #seq: number;

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

  /** Fails one request (e.g. the send failed). */
  cancel(seq: number, err: Error): void {
    const p = this.#pending.get(seq);
    if (p === undefined) return;
    this.#pending.delete(seq);
    p.reject(err);
  }

  /** Fails every waiting request (connection closed, replies lost). */
  failAll(err: (p: { op: string; what: string }) => Error): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(err(p));
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
      new NetlinkError(p.op, Errno.ENOBUFS!, `${p.what} (netlink replies lost)`, null)
    );
    for (const fn of [...this.#overrun]) fn();
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
      for (const fn of [...this.#notify]) fn(m);
      return;
    }
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    switch (m.type) {
      case NLMSG_NOOP:
        return;
      case NLMSG_ERROR: {
        const e = decodeError(m);
        if (!e.ok) return this.#finish(m.seq, p, Errno.EPROTO!, e.reason);
        return this.#finish(m.seq, p, e.value.errno, e.value.message);
      }
      case NLMSG_DONE:
        return this.#finish(m.seq, p, doneErrno(m), null);
      case NLMSG_OVERRUN:
        return this.#finish(m.seq, p, Errno.ENOBUFS!, null);
      default:
        p.replies.push(m);
    }
  }

  #finish(seq: number, p: Pending, errno: number, kernelMessage: string | null): void {
    this.#pending.delete(seq);
    if (errno !== 0) {
      p.reject(new NetlinkError(p.op, errno, p.what, kernelMessage));
    } else if (p.interrupted) {
      p.reject(
        new NetlinkError(p.op, Errno.EINTR!, `${p.what} (dump interrupted by a change)`, null),
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

/** A `NetlinkConn` over a real netlink socket, read through the reactor. */
export class SocketConn implements NetlinkConn {
  readonly #sock: NetlinkSocket;
  readonly #router = new ReplyRouter();
  readonly #watch: Disposable;
  #closed = false;

  /** Takes ownership of `sock` and registers it with `reactor`. */
  constructor(sock: NetlinkSocket, reactor: ReactorLike, label: string) {
    this.#sock = sock;
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
    }
    return r.replies;
  }

  onNotification(fn: (m: NlMessage) => void): Disposable {
    return this.#router.onNotification(fn);
  }

  onOverrun(fn: () => void): Disposable {
    return this.#router.onOverrun(fn);
  }

  #readable(): void {
    try {
      for (;;) {
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

/** Opens a NETLINK_GENERIC connection. */
export function openGenericConn(reactor: ReactorLike): NetlinkConn {
  return new SocketConn(NetlinkSocket.open(NETLINK_GENERIC), reactor, "generic netlink");
}
