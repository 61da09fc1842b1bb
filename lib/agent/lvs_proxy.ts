/**
 * The load-balancer side in a Web Worker (`lvs_worker.ts`), seen by the agent as an ordinary
 * `LvsRuntime`: start / reload / stop are forwarded and awaited, `status()` answers at once from
 * the latest snapshot the worker pushed. Health checks and IPVS passes then run on their own
 * thread and event loop, and cannot delay VRRP adverts. If the worker dies, the agent logs it,
 * status says so, VRRP goes on, and the next reload starts a new worker.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { Level } from "../runtime/log.ts";
import type { LvsFactory, LvsRuntime } from "./lvs.ts";
import type { FromLvsWorker, LvsLogSettings, ToLvsWorker } from "./lvs_worker.ts";

type LvsStatus = ReturnType<LvsRuntime["status"]>;

/** How long `stop()` waits for the worker to remove its rules before terminating it. */
export const STOP_TIMEOUT_MS = 20_000;

const LEVELS: readonly Level[] = ["debug", "info", "warn", "error"];

/** Options of `lvsWorkerFactory`. */
export interface LvsWorkerOptions {
  /** The agent's `--log-format` when given (it overrides the file's `log_format`). */
  logFormat?: string | undefined;
  /** The worker module (tests); default `lvs_worker.ts` beside this file. */
  workerUrl?: string;
  /** See `STOP_TIMEOUT_MS`. */
  stopTimeoutMs?: number;
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** The status before the worker's first snapshot, or once it died. */
function unavailable(reason: string): LvsStatus {
  return {
    ipvs: { available: false, reason, services: 0, lastOps: 0, errors: 0, syncDaemon: null },
    virtualServers: [],
    mail: null,
  };
}

/** A factory of worker-backed runtimes, logging in the given format. */
export function lvsWorkerFactory(opts: LvsWorkerOptions = {}): LvsFactory {
  const url = opts.workerUrl ?? new URL("./lvs_worker.ts", import.meta.url).href;
  const stopTimeoutMs = opts.stopTimeoutMs ?? STOP_TIMEOUT_MS;
  return ({ log, onQuorum }) => {
    let worker: Worker | null = null;
    let dead: string | null = null;
    let snapshot: string | null = null;
    let parsed: LvsStatus | null = null;
    let nextId = 1;
    const pending = new Map<number, Pending>();

    const logSettings = (): LvsLogSettings => ({
      level: LEVELS.find((l) => log.enabled(l)) ?? "error",
      format: opts.logFormat === "json" || opts.logFormat === "text" ? opts.logFormat : null,
      journal: log.journal,
    });

    const died = (w: Worker, why: string) => {
      if (w !== worker || dead !== null) return;
      dead = why;
      log.error(
        `load-balancer worker died: ${why}; health checks and IPVS are no longer managed ` +
          `(VRRP goes on; a reload starts a new worker)`,
      );
      w.terminate();
      // No checker vouches for a virtual server any more: its announcements are withdrawn.
      onQuorum?.([]);
      // The agent goes on: requests in flight end without an error.
      for (const p of pending.values()) p.resolve();
      pending.clear();
    };

    const onMessage = (w: Worker, m: FromLvsWorker) => {
      if (w !== worker) return;
      switch (m.type) {
        case "status":
          if (m.status !== snapshot) {
            snapshot = m.status;
            parsed = null;
          }
          return;
        case "quorum":
          onQuorum?.(m.quorum);
          return;
        case "done":
          pending.get(m.id)?.resolve();
          pending.delete(m.id);
          return;
        case "error":
          if (m.id === undefined) {
            log.error(`load-balancer worker: ${m.message}`);
            return;
          }
          pending.get(m.id)?.reject(new Error(m.message));
          pending.delete(m.id);
          return;
        default: {
          const never: never = m;
          log.error(`load-balancer worker: unknown message ${JSON.stringify(never)}`);
        }
      }
    };

    const spawn = (): Worker => {
      const w = new Worker(url, { type: "module" });
      worker = w;
      dead = null;
      snapshot = null;
      parsed = null;
      w.onmessage = (e: MessageEvent<FromLvsWorker>) => onMessage(w, e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        died(w, e.message || String(e.error));
      };
      w.onmessageerror = () => died(w, "a message from the worker could not be read");
      return w;
    };

    const request = (msg: ToLvsWorker & { id: number }): Promise<void> => {
      const w = worker;
      if (w === null || dead !== null) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        pending.set(msg.id, { resolve, reject });
        try {
          w.postMessage(msg);
        } catch (e) {
          pending.delete(msg.id);
          reject(e);
        }
      });
    };

    let stateFile: string | null = null;
    const send = (type: "start" | "reload", lvs: unknown): Promise<void> => {
      // The loader's JSON text goes on as is; a Config object (tests) is turned into one.
      const config = typeof lvs === "string" ? lvs : JSON.stringify(lvs as Config);
      if (worker === null || dead !== null) {
        if (dead !== null) log.warn("starting a new load-balancer worker");
        spawn();
        type = "start";
      }
      return request({ type, id: nextId++, config, log: logSettings(), stateFile });
    };

    const runtime: LvsRuntime = {
      start: (lvs, opts) => {
        stateFile = opts.stateFile;
        return send("start", lvs);
      },
      reload: (lvs) => send("reload", lvs),
      setSyncRole: (role) => request({ type: "sync", id: nextId++, role }),
      async stop(opts = {}) {
        const w = worker;
        if (w === null) return;
        if (dead === null) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const timeout = new Promise<boolean>((r) => {
            timer = setTimeout(() => r(false), stopTimeoutMs);
          });
          const ok = await Promise.race([
            request({ type: "stop", id: nextId++, ...opts }).then(() => true, (e) => {
              log.error(`load-balancer stop failed: ${(e as Error).message}`);
              return true;
            }),
            timeout,
          ]);
          clearTimeout(timer);
          if (!ok) {
            log.error(
              `load-balancer worker did not stop within ${stopTimeoutMs} ms: ` +
                `IPVS rules may be left behind`,
            );
          }
        }
        worker = null;
        w.terminate();
        for (const p of pending.values()) p.resolve();
        pending.clear();
      },
      status() {
        if (dead !== null) return unavailable(`load-balancer worker died: ${dead}`);
        if (snapshot === null) return unavailable("starting");
        parsed ??= JSON.parse(snapshot) as LvsStatus;
        return parsed;
      },
    };
    return runtime;
  };
}
