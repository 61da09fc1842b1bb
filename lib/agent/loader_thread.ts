/**
 * The loader thread: one Web Worker (`load_worker.ts`), started with the agent, that reads,
 * validates and plans the configuration file at every reload, so that a large file never holds
 * the VRRP thread (a reload of 1,000 virtual servers x 10 real servers stopped adverts for 0.8 s
 * when it ran there). It is started once, as soon as the agent has started (its instances are
 * then waiting out their first master-down interval), because starting a worker blocks the thread
 * that starts it (20-30 ms measured here on a quiet machine, 35-200 ms on a loaded one, while V8
 * sets up the new isolate), and that must not happen during a reload; it loads its modules only
 * at the first reload, so an agent that is never reloaded pays only for an idle isolate (10 MB
 * of RSS). The file at start is read on the agent's thread (no advert is due yet), and its plan
 * seeds the loader, which diffs every reload against the plan before it. A worker that dies or hangs is replaced at the next
 * load (and that load costs the block once).
 *
 * @module
 */
import type { Overrides } from "./from_config.ts";
import type { Plan } from "./plan.ts";
import type { ReloadDiff } from "./reload_diff.ts";

/**
 * A loaded file: the plan, the Config as JSON text (for the load-balancer side), warnings; from
 * the loader thread also the plan's number and the reload diff from the plan it loaded before
 * (so that the VRRP thread does not compare a thousand instances itself).
 */
export type LoadedPlan =
  | {
    ok: true;
    plan: Plan;
    lvs: string;
    warnings: string[];
    seq?: number;
    diff?: { from: number; value: ReloadDiff };
  }
  | { ok: false; errors: string[] };

/** What to load and how: the file, the command line's overrides and the default router_id. */
export interface LoadRequest {
  file: string;
  overrides: Overrides;
  hostname: string;
}

/**
 * Messages to the load worker: what to load, and the nice its thread takes first (null: keep
 * the priority it has, as at start, when no advert is due yet and the load is on the way to
 * the first one).
 */
export type ToLoadWorker =
  | { type: "load"; id: number; request: LoadRequest; helperNice: number | null }
  | { type: "seed"; seq: number; plan: Plan };
/** Messages from the load worker. */
export type FromLoadWorker = { type: "loaded"; id: number; result: LoadedPlan };

/** A number for a plan loaded outside the loader thread (random: never one the worker made). */
export function planNumber(): number {
  return Math.floor(Math.random() * 2 ** 30);
}

/** How long a load may take before it is refused and the worker replaced. */
export const LOAD_TIMEOUT_MS = 60_000;

/** Options of the loader thread. */
export interface LoaderThreadOptions {
  /** The worker module (tests); default `load_worker.ts` beside this file. */
  workerUrl?: string;
  /** See `LOAD_TIMEOUT_MS`. */
  timeoutMs?: number;
}

/** The loader thread; loads run one at a time, in order. */
export class LoaderThread implements Disposable {
  readonly #url: string;
  readonly #timeoutMs: number;
  #worker: Worker | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  #nextId = 1;
  #closed = false;

  /** Starts the worker now (the caller's thread blocks while V8 creates it). */
  constructor(opts: LoaderThreadOptions = {}) {
    this.#url = opts.workerUrl ?? new URL("./load_worker.ts", import.meta.url).href;
    this.#timeoutMs = opts.timeoutMs ?? LOAD_TIMEOUT_MS;
    this.#worker = this.#spawn();
  }

  #spawn(): Worker | null {
    try {
      return new Worker(this.#url, { type: "module" });
    } catch {
      return null;
    }
  }

  /**
   * Gives the worker a plan loaded elsewhere (at start, on the agent's thread) with its number
   * (`planNumber()`): the worker diffs the next load against it.
   */
  seed(plan: Plan, seq: number): void {
    try {
      this.#worker?.postMessage({ type: "seed", seq, plan } satisfies ToLoadWorker);
    } catch { /* a worker that cannot take it diffs nothing: the agent diffs itself */ }
  }

  /**
   * Loads `req` on the loader thread, which first becomes a helper at nice `helperNice` (null:
   * keeps its priority). A worker that
   * fails, dies or takes longer than the timeout gives one error (and is replaced at the next
   * load); never throws.
   */
  load(req: LoadRequest, helperNice: number | null): Promise<LoadedPlan> {
    const next = this.#chain.then(() => this.#load(req, helperNice));
    this.#chain = next.catch(() => {});
    return next;
  }

  #load(req: LoadRequest, helperNice: number | null): Promise<LoadedPlan> {
    const refused = (why: string): LoadedPlan => ({
      ok: false,
      errors: [`${req.file}: cannot load the file: ${why}`],
    });
    if (this.#closed) return Promise.resolve(refused("the agent is stopping"));
    this.#worker ??= this.#spawn();
    const w = this.#worker;
    if (w === null) return Promise.resolve(refused("cannot start the loader thread"));
    const id = this.#nextId++;
    return new Promise<LoadedPlan>((resolve) => {
      const finish = (r: LoadedPlan, broken: boolean) => {
        clearTimeout(timer);
        w.onmessage = null;
        w.onerror = null;
        w.onmessageerror = null;
        if (broken) {
          w.terminate();
          if (this.#worker === w) this.#worker = null;
        }
        resolve(r);
      };
      const timer = setTimeout(
        () => finish(refused(`loading took longer than ${this.#timeoutMs} ms`), true),
        this.#timeoutMs,
      );
      w.onmessage = (e: MessageEvent<FromLoadWorker>) => {
        if (e.data.id === id) finish(e.data.result, false);
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        finish(refused(`the loader thread failed: ${e.message || String(e.error)}`), true);
      };
      w.onmessageerror = () =>
        finish(refused("the loader thread's answer could not be read"), true);
      w.postMessage({ type: "load", id, request: req, helperNice } satisfies ToLoadWorker);
    });
  }

  /** Ends the worker; later loads are refused. */
  [Symbol.dispose](): void {
    this.#closed = true;
    this.#worker?.terminate();
    this.#worker = null;
  }
}
