/**
 * The load-balancer side of the agent (IPVS rules steered by health checks), as the agent
 * sees it.
 *
 * @module
 */
import type { Reactor } from "../../ffi/reactor.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/log.ts";
import type { ScriptQueue } from "../runtime/script.ts";
import type { QuorumReport } from "../announce/plan.ts";
import type { AgentStatus } from "./status_types.ts";

/** How the load-balancer side starts. */
export interface LvsStartOptions {
  /** Where it keeps what it owns in IPVS (ipvs_state.ts), or null for nowhere. */
  stateFile: string | null;
}

/** How one stop treats the IPVS rules: as `global.ipvs_on_stop` says, or as given here. */
export interface LvsStopOptions {
  ipvs?: "keep" | "remove";
}

/** What the agent needs from the load-balancer runtime. */
export interface LvsRuntime {
  /** Programs IPVS (first), then starts checkers, from the loader's `lvs` part. */
  start(lvs: unknown, opts: LvsStartOptions): Promise<void>;
  /** Applies a new configuration; unchanged real servers keep their check state. */
  reload(lvs: unknown): Promise<void>;
  /**
   * Stops checkers; removes the rules it programmed unless this stop or `ipvs_on_stop` keeps
   * them (omega scripts run only when they go).
   */
  stop(opts?: LvsStopOptions): Promise<void>;
  /** The role of the IPVS sync daemon (global.lvs_sync_daemon), following its instance. */
  setSyncRole(role: "master" | "backup"): Promise<void>;
  /** For `haagent status`. */
  status(): Pick<AgentStatus, "ipvs" | "virtualServers" | "mail">;
}

/** Builds the load-balancer side from the loader's `lvs` part (null when there is none). */
export type LvsFactory = (
  deps: {
    clock: Clock;
    reactor: Reactor;
    log: Logger;
    scripts: ScriptQueue;
    /**
     * Receives the quorum of every virtual server with `announce: true` after each start or
     * reload and whenever one changes; an empty list when the load-balancer side died.
     */
    onQuorum?: (reports: QuorumReport[]) => void;
  },
) => LvsRuntime;
