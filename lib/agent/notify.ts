/**
 * Notify hooks of instances and sync groups, as keepalived runs them: the state's own script
 * (notify_master / _backup / _fault / _stop), the generic `notify` with
 * `INSTANCE|GROUP name state priority`, and one line to the notify FIFO; in order per object.
 *
 * @module
 */
import { makeFifo } from "../../ffi/fifo.ts";
import type { Logger } from "../runtime/log.ts";
import type { ScriptQueue } from "../runtime/script.ts";
import type { VrrpState } from "../vrrp/instance.ts";
import type { NotifyPlan } from "./plan.ts";

/** Runs notify hooks through the ordered script queue. */
export class Notifier {
  readonly #queue: ScriptQueue;
  readonly #log: Logger;
  /** One writer per FIFO path, held open from its first line until `close()`. */
  readonly #fifos = new Map<string, FifoWriter>();

  constructor(queue: ScriptQueue, log: Logger) {
    this.#queue = queue;
    this.#log = log;
  }

  /** Resolves when every FIFO line queued so far has been written (or failed). */
  async idle(): Promise<void> {
    await Promise.all([...this.#fifos.values()].map((f) => f.idle()));
  }

  /**
   * Writes what is queued (waiting at most `graceMs` for a full pipe to drain), then closes
   * every FIFO, as keepalived closes them at stop.
   */
  async close(graceMs = 1000): Promise<void> {
    const all = [...this.#fifos.values()];
    this.#fifos.clear();
    await Promise.all(all.map((f) => f.close(graceMs)));
  }

  /** Runs the hooks of `name` for `state` (INIT is reported as STOP, as keepalived does). */
  notify(
    kind: "INSTANCE" | "GROUP",
    name: string,
    n: NotifyPlan,
    state: VrrpState,
    priority: number,
    user: string | null,
  ): void {
    const s = state === "INIT" ? "STOP" : state;
    const opts = { timeoutMs: 30_000, ...(user ? { user } : {}) };
    const key = `${kind}:${name}`;
    const own = s === "MASTER"
      ? n.master
      : s === "BACKUP"
      ? n.backup
      : s === "FAULT"
      ? n.fault
      : n.stop;
    if (own !== null) this.#queue.enqueue(key, own, [], opts);
    if (n.any !== null) this.#queue.enqueue(key, n.any, [kind, name, s, String(priority)], opts);
    if (n.fifo !== null) {
      let w = this.#fifos.get(n.fifo);
      if (w === undefined) {
        w = new FifoWriter(n.fifo, this.#log);
        this.#fifos.set(n.fifo, w);
      }
      w.write(`${kind} "${name}" ${s} ${priority}\n`);
    }
  }
}

/** Lines a FIFO writer holds while the pipe is full; past this a line is dropped and counted. */
export const FIFO_MAX_QUEUED_LINES = 100_000;

/**
 * One notify FIFO, opened once and kept open as keepalived 2.2.7 keeps it (fifo_open():
 * created with mode 0644 when missing and then removed at close; opened O_RDWR, so the open
 * never waits for a reader and the pipe, with its buffered lines, outlives a reader that
 * closes and reopens it). Lines are written in order, each whole.
 */
export class FifoWriter {
  readonly #path: string;
  readonly #log: Logger;
  #file: Promise<Deno.FsFile | null> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #dropped = 0;
  #failed = false;
  #created = false;

  constructor(path: string, log: Logger) {
    this.#path = path;
    this.#log = log;
  }

  /** Lines dropped because FIFO_MAX_QUEUED_LINES were waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one line (ending in a newline). */
  write(line: string): void {
    if (this.#queued >= FIFO_MAX_QUEUED_LINES) {
      if (this.#dropped++ === 0) {
        this.#log.warn(
          `notify fifo ${this.#path}: ${FIFO_MAX_QUEUED_LINES} lines wait for a reader; ` +
            "dropping lines until it reads",
        );
      }
      return;
    }
    this.#queued++;
    const bytes = new TextEncoder().encode(line);
    this.#chain = this.#chain.then(async () => {
      try {
        const f = await this.#open();
        if (f === null) return;
        for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
        this.#failed = false;
      } catch (e) {
        // The next line reopens the FIFO; say so once per run of failures.
        if (!this.#failed) {
          this.#log.warn(`cannot write notify fifo ${this.#path}: ${(e as Error).message}`);
        }
        this.#failed = true;
        await this.#reset();
      } finally {
        this.#queued--;
      }
    });
  }

  /** Resolves when every line queued so far has been written (or failed). */
  idle(): Promise<void> {
    return this.#chain;
  }

  /**
   * Writes what is queued (for at most `graceMs` if the pipe stays full), then closes; the lines
   * still waiting then are counted in the log, never lost silently.
   */
  async close(graceMs: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#chain,
      new Promise((r) => timer = setTimeout(r, graceMs)),
    ]);
    clearTimeout(timer);
    if (this.#queued > 0 || this.#dropped > 0) {
      this.#log.warn(
        `notify fifo ${this.#path}: ${this.#queued + this.#dropped} lines not written ` +
          `(nobody read the FIFO)`,
      );
    }
    await this.#reset(true);
  }

  #open(): Promise<Deno.FsFile | null> {
    this.#file ??= (async () => {
      // keepalived creates a missing FIFO (mode 0644) and removes it at close if it did.
      if (makeFifo(this.#path, 0o644)) this.#created = true;
      const st = await Deno.lstat(this.#path);
      if (st.isSymlink) throw new Error(`${this.#path} is a symbolic link`);
      if (!st.isFifo) throw new Error(`${this.#path} is not a FIFO`);
      // Read and write: opening a FIFO this way never blocks, and keeps it alive between readers.
      return await Deno.open(this.#path, { read: true, write: true });
    })();
    return this.#file;
  }

  async #reset(unlink = false): Promise<void> {
    const f = this.#file;
    this.#file = null;
    if (unlink && this.#created) {
      // Unlinked first, so that a reader looping on open cannot reopen it (keepalived).
      this.#created = false;
      await Deno.remove(this.#path).catch(() => {});
    }
    try {
      (await f)?.close();
    } catch { /* failed open or already closed */ }
  }
}

/**
 * keepalived's alert for an instance or sync group entering `state` (INIT is reported as
 * stopping), or null when that state sends none (FAULT under no_email_faults).
 */
export function vrrpAlert(
  kind: "INSTANCE" | "GROUP",
  name: string,
  state: VrrpState,
  noEmailFaults: boolean,
): { subject: string; body: string } | null {
  if (state === "FAULT" && noEmailFaults) return null;
  const what = kind === "INSTANCE" ? `VRRP Instance ${name}` : `VRRP Group ${name}`;
  const entering = state === "INIT" ? "Stopping" : `Entering ${state} state`;
  const body = kind === "INSTANCE"
    ? state === "MASTER"
      ? "=> VRRP Instance is now owning VRRP VIPs <="
      : state === "INIT"
      ? "=> VRRP Instance stopping <="
      : "=> VRRP Instance is no longer owning VRRP VIPs <="
    : state === "INIT"
    ? "=> VRRP Group stopping <="
    : `=> All VRRP group instances are now in ${state} state <=`;
  return { subject: `${what} - ${entering}`, body };
}
