/**
 * Notify hooks of instances and sync groups, as keepalived runs them: the state's own script
 * (notify_master / _backup / _fault / _stop), the generic `notify` with
 * `INSTANCE|GROUP name state priority`, and one line to the notify FIFO; in order per object.
 *
 * @module
 */
import type { Logger } from "../runtime/log.ts";
import type { ScriptQueue } from "../runtime/script.ts";
import type { VrrpState } from "../vrrp/instance.ts";
import type { NotifyPlan } from "./plan.ts";

/** Runs notify hooks through the ordered script queue. */
export class Notifier {
  readonly #queue: ScriptQueue;
  readonly #log: Logger;

  constructor(queue: ScriptQueue, log: Logger) {
    this.#queue = queue;
    this.#log = log;
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
      writeFifo(n.fifo, `${kind} "${name}" ${s} ${priority}\n`).catch((e) =>
        this.#log.warn(`cannot write notify fifo ${n.fifo}: ${(e as Error).message}`)
      );
    }
  }
}

async function writeFifo(path: string, line: string): Promise<void> {
  const st = await Deno.stat(path);
  if (!st.isFifo) throw new Error(`${path} is not a FIFO`);
  const f = await Deno.open(path, { write: true });
  try {
    await f.write(new TextEncoder().encode(line));
  } finally {
    f.close();
  }
}
