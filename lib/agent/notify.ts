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
  /** FIFO writes chained per path, so lines arrive in transition order. */
  readonly #fifoChains = new Map<string, Promise<void>>();

  constructor(queue: ScriptQueue, log: Logger) {
    this.#queue = queue;
    this.#log = log;
  }

  /** Resolves when every FIFO line queued so far has been written (or failed). */
  async idle(): Promise<void> {
    await Promise.all([...this.#fifoChains.values()]);
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
      const path = n.fifo;
      const line = `${kind} "${name}" ${s} ${priority}\n`;
      const next = (this.#fifoChains.get(path) ?? Promise.resolve())
        .then(() => writeFifo(path, line))
        .catch((e) => this.#log.warn(`cannot write notify fifo ${path}: ${(e as Error).message}`));
      this.#fifoChains.set(path, next);
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
