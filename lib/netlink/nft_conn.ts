/**
 * A NETLINK_NETFILTER connection for nf_tables: sends a batch as one datagram and reads the
 * kernel's answers before returning. The kernel runs a batch (a transaction) inside `sendto`,
 * so every acknowledgement or error is queued by the time it returns: no reactor is needed, and
 * a caller knows at once whether its rules are in place.
 *
 * @module
 */

import { Errno } from "../../ffi/errno.ts";
import { NETLINK_NETFILTER, NetlinkSocket } from "../../ffi/netlink.ts";
import { NetlinkError } from "./client.ts";
import {
  decodeAnswers,
  encodeBatch,
  encodeRequest,
  type NftAnswer,
  type NftMessage,
  nftTypeName,
} from "./nftables.ts";

/** What the firewall writer needs from nf_tables (the real socket, or a fake in tests). */
export interface NftExec extends Disposable {
  /** Applies `msgs` as one transaction; throws `NetlinkError` naming the first refused message. */
  batch(msgs: readonly NftMessage[], what: string): void;
  /** Whether the object a GET message asks for exists (false on ENOENT). */
  exists(get: NftMessage, what: string): boolean;
}

/** nf_tables on a real netlink socket. */
export class NftConn implements NftExec {
  readonly #sock: NetlinkSocket;
  #seq = Math.floor(Math.random() * 0x7fffffff);

  private constructor(sock: NetlinkSocket) {
    this.#sock = sock;
  }

  /** Opens the socket; throws `SyscallError` (e.g. EPROTONOSUPPORT without nf_tables). */
  static open(): NftConn {
    return new NftConn(NetlinkSocket.open(NETLINK_NETFILTER, { rcvbufBytes: 1 << 20 }));
  }

  batch(msgs: readonly NftMessage[], what: string): void {
    if (msgs.length === 0) return;
    this.#drain();
    const b = encodeBatch(msgs, () => this.#nextSeq(), this.#sock.pid);
    this.#sock.send(b.bytes, what);
    const answers = this.#collect(new Set(b.seqs), what);
    const failed = answers.find((a) => a.errno !== 0);
    if (failed !== undefined) {
      const i = b.seqs.indexOf(failed.seq);
      const op = i >= 0 ? `nf_tables ${nftTypeName(msgs[i]!.type)}` : "nf_tables batch";
      throw new NetlinkError(op, failed.errno, what, failed.message);
    }
  }

  exists(get: NftMessage, what: string): boolean {
    this.#drain();
    const seq = this.#nextSeq();
    this.#sock.send(encodeRequest(get, seq, this.#sock.pid), what);
    const [answer] = this.#collect(new Set([seq]), what);
    if (answer!.errno === Errno.ENOENT) return false;
    if (answer!.errno !== 0) {
      throw new NetlinkError(`nf_tables ${nftTypeName(get.type)}`, answer!.errno, what, null);
    }
    return true;
  }

  /** Reads answers until each of `seqs` has one; the kernel queued them all during `sendto`. */
  #collect(seqs: Set<number>, what: string): NftAnswer[] {
    const out: NftAnswer[] = [];
    const waiting = new Set(seqs);
    while (waiting.size > 0) {
      const d = this.#sock.recv();
      if (d === "overrun") {
        throw new NetlinkError("nf_tables", Errno.ENOBUFS!, `${what} (answers lost)`, null);
      }
      if (d === null) {
        // Answers that never came: the batch was not acknowledged message by message.
        if (out.some((a) => a.errno !== 0)) break;
        throw new NetlinkError("nf_tables", Errno.EPROTO!, `${what} (no answer)`, null);
      }
      const a = decodeAnswers(d);
      if (!a.ok) {
        throw new NetlinkError("nf_tables", Errno.EPROTO!, `${what} (${a.reason})`, null);
      }
      for (const x of a.value.answers) {
        if (!waiting.delete(x.seq)) continue;
        out.push(x);
      }
    }
    return out;
  }

  /** Drops anything left from an earlier exchange (never expected; keeps seqs honest). */
  #drain(): void {
    while (this.#sock.recv() !== null) { /* discard */ }
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    return this.#seq;
  }

  [Symbol.dispose](): void {
    this.#sock.close();
  }
}
