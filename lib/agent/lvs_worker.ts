/**
 * The load-balancer side's Web Worker: its own clock, Reactor, logger and script queue, and the
 * in-thread runtime (`makeLvsRuntime`) built on them, so health checks and IPVS passes never
 * delay the VRRP timers on the agent's thread. Driven by `lvs_proxy.ts` through the messages
 * below; it writes its own log lines to stderr in the agent's format.
 *
 * @module
 */
import { Reactor } from "../../ffi/reactor.ts";
import { demoteThisThread } from "../../ffi/sched.ts";
import type { QuorumReport } from "../announce/plan.ts";
import type { Config } from "../config/types.ts";
import { RealClock } from "../runtime/clock.ts";
import { failureLogger, type Level, Logger } from "../runtime/log.ts";
import { ScriptQueue } from "../runtime/script.ts";
import type { LvsRuntime } from "./lvs.ts";
import { makeLvsRuntime } from "./lvs_runtime.ts";

/**
 * How the worker logs: the agent's level at the time of the request, and `--log-format` when
 * given (else the file's `log_format`).
 */
export interface LvsLogSettings {
  level: Level;
  format: "text" | "json" | null;
  /** Lines carry the syslog priority `<N>` (stderr is the journal). */
  journal: boolean;
}

/** Messages to the worker. `id` is echoed in the `done` (or `error`) reply. */
export type ToLvsWorker =
  /** `config` is the loaded Config as JSON text (one string crosses threads in one copy). */
  | {
    type: "start" | "reload";
    id: number;
    config: string;
    log: LvsLogSettings;
    /** Where the IPVS state is kept (a start only). */
    stateFile: string | null;
  }
  | { type: "stop"; id: number; ipvs?: "keep" | "remove" }
  | { type: "sync"; id: number; role: "master" | "backup" };

/**
 * Messages from the worker. `status` is the JSON text of `LvsRuntime.status()` (a string is
 * copied in one piece, so the agent's thread does not rebuild thousands of objects every time);
 * it is posted when asked, before every `done`, and every `STATUS_MS` when it changed.
 * `quorum` is posted at once when the quorum of an announcing virtual server changes (and after
 * each start and reload, before its `done`): the agent's announced routes follow it.
 */
export type FromLvsWorker =
  | { type: "status"; status: string }
  | { type: "quorum"; quorum: QuorumReport[] }
  | { type: "done"; id: number }
  | { type: "error"; id?: number; message: string };

/** How often a changed status is pushed to the agent. */
export const STATUS_MS = 500;
/** How long `stop` waits for notify scripts to finish (the agent waits as long for its own). */
const SCRIPTS_IDLE_MS = 5000;

interface WorkerScope {
  postMessage(m: FromLvsWorker): void;
  addEventListener(type: "message", fn: (e: MessageEvent<ToLvsWorker>) => void): void;
  addEventListener(type: "error", fn: (e: ErrorEvent) => void): void;
  addEventListener(type: "unhandledrejection", fn: (e: PromiseRejectionEvent) => void): void;
}

function serve(scope: WorkerScope): void {
  const root = new Logger("haagent");
  const sink = (l: string) => console.error(l);
  root.setSink(sink, false);
  const log = root.child("lvs");
  const clock = new RealClock();
  const reactor = new Reactor({ onFailure: failureLogger(root.child("reactor")) });
  const running = reactor.run().catch((e) => log.error(`load-balancer event loop stopped: ${e}`));
  const scripts = new ScriptQueue(root.child("scripts"));
  const post = (m: FromLvsWorker) => scope.postMessage(m);
  const runtime: LvsRuntime = makeLvsRuntime({
    clock,
    reactor,
    log,
    scripts,
    onQuorum: (quorum) => post({ type: "quorum", quorum }),
  });
  let started = false;
  let stopped = false;
  let lastSent = "";

  const sendStatus = (always: boolean) => {
    const s = JSON.stringify(runtime.status());
    if (!always && s === lastSent) return;
    lastSent = s;
    post({ type: "status", status: s });
  };
  const statusTimer = setInterval(() => {
    if (!stopped) sendStatus(false);
  }, STATUS_MS);

  const handle = async (m: ToLvsWorker): Promise<void> => {
    switch (m.type) {
      case "start":
      case "reload": {
        const config = JSON.parse(m.config) as Config;
        try {
          // This thread may have inherited SCHED_RR from the VRRP thread: never compete with it.
          demoteThisThread(config.global.checkerNice);
        } catch (e) {
          log.warn(`${(e as Error).message}: the load-balancer thread keeps its priority`);
        }
        root.setLevel(m.log.level);
        root.setSink(sink, (m.log.format ?? config.global.logFormat) === "json");
        root.setJournal(m.log.journal);
        if (stopped) break;
        if (started) await runtime.reload(config);
        else {
          started = true;
          await runtime.start(config, { stateFile: m.stateFile });
        }
        sendStatus(true);
        break;
      }
      case "stop":
        if (!stopped) {
          stopped = true;
          clearInterval(statusTimer);
          await runtime.stop(m.ipvs !== undefined ? { ipvs: m.ipvs } : {});
          await Promise.race([
            scripts.idle(),
            new Promise((r) => setTimeout(r, SCRIPTS_IDLE_MS)),
          ]);
          reactor.close();
          await running;
        }
        break;
      case "sync":
        if (!stopped) await runtime.setSyncRole(m.role);
        break;
      default: {
        const never: never = m;
        throw new TypeError(`unknown message ${JSON.stringify(never)}`);
      }
    }
    post({ type: "done", id: m.id });
  };

  // One request at a time, in order, like the agent's calls on the in-thread runtime.
  let chain = Promise.resolve();
  scope.addEventListener("message", (e) => {
    const m = e.data;
    chain = chain.then(() => handle(m)).catch((err) => {
      const message = (err as Error)?.message ?? String(err);
      log.error(`load-balancer ${m.type} failed: ${message}`);
      post({ type: "error", ...("id" in m ? { id: m.id } : {}), message });
    });
  });
  scope.addEventListener("error", (e) => {
    e.preventDefault();
    log.error(`uncaught exception: ${e.error?.stack ?? e.message}`);
  });
  scope.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log.error(`unhandled rejection: ${e.reason?.stack ?? e.reason}`);
  });
}

serve(globalThis as unknown as WorkerScope);
