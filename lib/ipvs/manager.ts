/**
 * The IPVS manager: dumps the kernel's virtual services over generic netlink, and reconciles
 * them with a desired state (diff against a fresh dump, then the ops, pipelined). Kernel errors
 * are logged naming the service and destination, and returned, never thrown.
 *
 * @module
 */

import { Errno } from "../../ffi/errno.ts";
import {
  type BatchFailure,
  type NetlinkConn,
  NetlinkError,
  openGenericConn,
  type ReactorLike,
} from "../netlink/client.ts";
import { decodeGenl, Genl, GENL_HDRLEN, type GenlFamily } from "../netlink/genl.ts";
import { NLM_F_DUMP, type NlMessage } from "../netlink/message.ts";
import type { Logger } from "../runtime/log.ts";
import {
  decodeDaemon,
  decodeDest,
  decodeInfo,
  decodeService,
  encodeDelDaemon,
  encodeDeleteDest,
  encodeDeleteService,
  encodeDest,
  encodeFlush,
  encodeGetDaemons,
  encodeGetDests,
  encodeGetInfo,
  encodeGetServices,
  encodeNewDaemon,
  encodeService,
  IPVS_GENL_NAME,
  type IpvsRequest,
  type SyncDaemon,
} from "./codec.ts";
import { describeOp, diff, type Op } from "./diff.ts";
import { type DesiredService, type ServiceKey, serviceName } from "./types.ts";

/** The result of a reconcile pass. */
export interface ReconcileResult {
  /** Every op sent, in order. */
  ops: Op[];
  /** The ops the kernel refused, with its error. */
  errors: { op: Op; error: Error }[];
}

/** Options of a reconcile pass. */
export interface ReconcileOptions {
  /**
   * Which services absent from `desired` may be deleted. Default: the services this manager
   * has programmed before (so foreign services, added by hand or by another tool, stay).
   */
  owned?: (key: ServiceKey) => boolean;
}

/**
 * The largest reply read from the IPVS socket. The kernel sizes each dump part to the largest
 * read buffer the socket has seen (up to 32 KiB); at 4 KiB a part is one small allocation, which
 * made 1,000 destination dumps ~25% faster in the qemu guest. IPVS replies, ACKs and the
 * family lookup all fit (they are built in NLMSG_GOODSIZE); a longer one fails as EMSGSIZE.
 */
const IPVS_RECV_BYTES = 4096;
/** Ops per batch: the socket is read between batches, and other work may run. */
const BATCH_OPS = 256;
/** Synchronous work allowed before yielding to timers and I/O (VRRP shares the thread). */
const SLICE_MS = 100;
/** Calls between two looks at the clock (reading it is not free). */
const CLOCK_EVERY = 8;

/** Lets timers and I/O run once `SLICE_MS` of synchronous netlink work has gone by. */
class Slicer {
  #since = performance.now();
  #calls = 0;

  /** A promise to await when it is time to yield, else null (no await, no microtask). */
  due(): Promise<void> | null {
    if (++this.#calls % CLOCK_EVERY !== 0) return null;
    if (performance.now() - this.#since < SLICE_MS) return null;
    return new Promise<void>((ok) => setTimeout(ok, 0)).then(() => {
      this.#since = performance.now();
    });
  }
}

function opWhat(op: Op): string {
  return `IPVS ${describeOp(op)} failed`;
}

function opRequest(op: Op): IpvsRequest {
  switch (op.op) {
    case "add-service":
      return encodeService(op.service, false);
    case "edit-service":
      return encodeService(op.service, true);
    case "delete-service":
      return encodeDeleteService(op.key);
    case "add-dest":
      return encodeDest(op.key, op.dest, false);
    case "edit-dest":
      return encodeDest(op.key, op.dest, true);
    case "delete-dest":
      return encodeDeleteDest(op.key, op.dest);
  }
}

/** Programs IPVS through the "IPVS" generic netlink family. */
export class IpvsManager implements Disposable {
  readonly #genl: Genl;
  readonly #family: GenlFamily;
  readonly #log: Logger;
  readonly #owned = new Set<string>();

  private constructor(genl: Genl, family: GenlFamily, log: Logger) {
    this.#genl = genl;
    this.#family = family;
    this.#log = log;
  }

  /**
   * Opens a generic netlink socket on `reactor` and resolves the "IPVS" family; a kernel without
   * IPVS gives `{ unavailable }` with the reason instead of an error.
   */
  static open(
    reactor: ReactorLike,
    log: Logger,
  ): Promise<IpvsManager | { unavailable: string }> {
    let conn: NetlinkConn;
    try {
      conn = openGenericConn(reactor, { maxDatagramBytes: IPVS_RECV_BYTES });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      return Promise.resolve({ unavailable: `IPVS is not available: ${reason}` });
    }
    return IpvsManager.withConn(conn, log);
  }

  /** As `open`, on a given connection (a `FakeNetlink` in tests); takes ownership of it. */
  static async withConn(
    conn: NetlinkConn,
    log: Logger,
  ): Promise<IpvsManager | { unavailable: string }> {
    const genl = new Genl(conn);
    try {
      const family = await genl.resolveFamily(IPVS_GENL_NAME);
      return new IpvsManager(genl, family, log);
    } catch (e) {
      genl[Symbol.dispose]();
      const err = e as Error & { errno?: number; code?: string };
      if (err.errno === Errno.ENOENT) {
        return {
          unavailable:
            `IPVS is not available in this kernel (generic netlink family "${IPVS_GENL_NAME}"` +
            ` not found: ${err.code})`,
        };
      }
      return { unavailable: `IPVS is not available: ${err.message}` };
    }
  }

  /** The resolved family (id and version). */
  get family(): Readonly<GenlFamily> {
    return this.#family;
  }

  #send(req: IpvsRequest, what: string): Promise<NlMessage[]> {
    return this.#genl.request(this.#family, req.cmd, req.attrs, req.dump ? NLM_F_DUMP : 0, what);
  }

  /** Every virtual service in the kernel with its destinations and counters. */
  dump(): Promise<DesiredService[]> {
    return this.#dump(true);
  }

  async #dump(counters: boolean): Promise<DesiredService[]> {
    const hdr = GENL_HDRLEN + this.#family.hdrSize;
    const services: DesiredService[] = [];
    let bad: string | null = null;
    const all = encodeGetServices();
    const pending = this.#genl.dump(
      this.#family,
      all.cmd,
      all.attrs,
      "Cannot list IPVS services",
      (buf, start, end) => {
        const s = start + hdr > end
          ? { ok: false as const, reason: "short reply" }
          : decodeService(buf, counters, start + hdr, end);
        if (s.ok) services.push({ ...s.value, destinations: [] });
        else bad ??= s.reason;
      },
    );
    if (pending !== undefined) await pending;
    if (bad !== null) throw new Error(`IPVS service dump: ${bad}`);
    // A netlink socket runs one dump at a time (a second one is EBUSY): one service after another.
    const slicer = new Slicer();
    for (const s of services) {
      const family = s.key.family;
      const dests = s.destinations;
      const req = encodeGetDests(s.key);
      const dumped = this.#genl.dump(
        this.#family,
        req.cmd,
        req.attrs,
        `Cannot list the destinations of IPVS service ${serviceName(s.key)}`,
        (buf, start, end) => {
          const d = start + hdr > end
            ? { ok: false as const, reason: "short reply" }
            : decodeDest(buf, family, counters, start + hdr, end);
          if (d.ok) dests.push(d.value);
          else bad ??= d.reason;
        },
      );
      if (dumped !== undefined) await dumped;
      if (bad !== null) throw new Error(`IPVS destination dump of ${serviceName(s.key)}: ${bad}`);
      const pause = slicer.due();
      if (pause !== null) await pause;
    }
    return services;
  }

  /** Sends `ops` in order (packed into batches); returns the ones the kernel refused, logged. */
  async apply(ops: readonly Op[]): Promise<{ op: Op; error: Error }[]> {
    const failed: { at: number; error: Error }[] = [];
    const slicer = new Slicer();
    for (let start = 0; start < ops.length; start += BATCH_OPS) {
      const reqs: IpvsRequest[] = [];
      const at: number[] = [];
      for (let i = start; i < Math.min(ops.length, start + BATCH_OPS); i++) {
        try {
          reqs.push(opRequest(ops[i]!));
          at.push(i);
        } catch (e) {
          const error = e as Error;
          failed.push({ at: i, error: new Error(`${opWhat(ops[i]!)}: ${error.message}`) });
        }
      }
      let answers: BatchFailure[];
      try {
        answers = await this.#genl.requestBatch(this.#family, reqs);
      } catch (e) {
        for (const i of at) failed.push({ at: i, error: e as Error });
        continue;
      }
      for (let k = 0; k < answers.length; k++) {
        const a = answers[k];
        if (a === null || a === undefined) continue;
        const op = `${this.#family.name} cmd ${reqs[k]!.cmd}`;
        failed.push({
          at: at[k]!,
          error: new NetlinkError(op, a.errno, opWhat(ops[at[k]!]!), a.kernelMessage),
        });
      }
      const pause = slicer.due();
      if (pause !== null) await pause;
    }
    failed.sort((a, b) => a.at - b.at);
    return failed.map(({ at, error }) => {
      this.#log.error(error.message);
      return { op: ops[at]!, error };
    });
  }

  /**
   * Makes the kernel match `desired`: dumps, diffs and applies. Services absent from `desired`
   * are deleted only if owned (see `ReconcileOptions`). Running it twice sends nothing the
   * second time.
   */
  async reconcile(
    desired: readonly DesiredService[],
    opts: ReconcileOptions = {},
  ): Promise<ReconcileResult> {
    const actual = await this.#dump(false);
    const owned = opts.owned ?? ((k: ServiceKey) => this.#owned.has(serviceName(k)));
    const ops = diff(desired, actual, owned);
    const errors = await this.apply(ops);
    for (const s of desired) this.#owned.add(serviceName(s.key));
    const failedDeletes = new Set(
      errors.filter((e) => e.op.op === "delete-service").map((e) =>
        serviceName((e.op as { key: ServiceKey }).key)
      ),
    );
    const wanted = new Set(desired.map((s) => serviceName(s.key)));
    for (const name of [...this.#owned]) {
      if (!wanted.has(name) && !failedDeletes.has(name)) this.#owned.delete(name);
    }
    if (ops.length > 0) {
      this.#log.info("IPVS reconciled", { ops: ops.length, errors: errors.length });
    }
    return { ops, errors };
  }

  /** The names (`serviceName`) of the services this manager has programmed and not deleted. */
  ownedServices(): string[] {
    return [...this.#owned].sort();
  }

  /**
   * Takes services programmed by an earlier agent (by name) as this manager's own: the next
   * reconcile deletes those that are no longer desired. Services it does not know stay foreign.
   */
  adopt(names: Iterable<string>): void {
    for (const n of names) this.#owned.add(n);
  }

  /** Deletes every virtual service (IPVS_CMD_FLUSH). */
  async flush(): Promise<void> {
    await this.#send(encodeFlush(), "Cannot flush IPVS");
    this.#owned.clear();
  }

  /**
   * Runs the connection sync daemon in `d.role` and not the other role (keepalived's
   * lvs_sync_daemon: master while the tracked instance is MASTER, backup otherwise). A daemon
   * already running with these settings is left alone.
   */
  async setSyncDaemon(d: SyncDaemon): Promise<void> {
    const other = d.role === "master" ? "backup" : "master";
    await this.stopSyncDaemon(other);
    const running = await this.syncDaemons();
    const same = running.find((r) => r.role === d.role);
    if (same !== undefined && same.interface === d.interface && same.syncId === d.syncId) return;
    if (same !== undefined) await this.stopSyncDaemon(d.role);
    await this.#send(
      encodeNewDaemon(d),
      `Cannot start the IPVS ${d.role} sync daemon on ${d.interface} (sync id ${d.syncId})`,
    );
  }

  /** Stops the sync daemon of `role`; one that is not running is not an error. */
  async stopSyncDaemon(role: SyncDaemon["role"]): Promise<void> {
    try {
      await this.#send(encodeDelDaemon(role), `Cannot stop the IPVS ${role} sync daemon`);
    } catch (e) {
      // ESRCH: that daemon was not running.
      if ((e as { errno?: number }).errno !== Errno.ESRCH) throw e;
    }
  }

  /** The sync daemons the kernel runs. */
  async syncDaemons(): Promise<{ role: SyncDaemon["role"]; interface: string; syncId: number }[]> {
    const replies = await this.#send(encodeGetDaemons(), "Cannot list the IPVS sync daemons");
    const out = [];
    for (const m of replies) {
      const g = decodeGenl(m, this.#family.hdrSize);
      if (!g.ok) continue;
      const d = decodeDaemon(g.value.attrs);
      if (d.ok) out.push(d.value);
    }
    return out;
  }

  /** The IPVS version and connection table size. */
  async info(): Promise<{ version: string; connTableSize: number }> {
    const replies = await this.#send(encodeGetInfo(), "Cannot read IPVS info");
    for (const m of replies) {
      const g = decodeGenl(m, this.#family.hdrSize);
      if (!g.ok) continue;
      const info = decodeInfo(g.value.attrs);
      if (info.ok) return info.value;
      throw new Error(`IPVS info: ${info.reason}`);
    }
    throw new Error("IPVS info: no reply");
  }

  /** Closes the netlink socket. */
  [Symbol.dispose](): void {
    this.#genl[Symbol.dispose]();
  }
}
