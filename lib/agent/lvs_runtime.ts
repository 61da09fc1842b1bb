/**
 * The load-balancer runtime: health checkers steering IPVS through the reconciler.
 *
 * @module
 */
import type { Config } from "../config/types.ts";
import type { LvsFactory } from "../agent.ts";
import type { LvsRuntime } from "./lvs.ts";

/** Builds the LVS runtime (checkers + IPVS). */
export const makeLvsRuntime: LvsFactory = (_deps) => {
  let services = 0;
  const runtime: LvsRuntime = {
    start(lvs: unknown) {
      services = (lvs as Config).virtualServers.length;
      return Promise.resolve();
    },
    reload(lvs: unknown) {
      services = (lvs as Config).virtualServers.length;
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
    status: () => ({
      ipvs: {
        available: false,
        reason: services === 0 ? "no virtual servers configured" : "not wired yet",
        services: 0,
        lastOps: 0,
        errors: 0,
      },
      virtualServers: [],
    }),
  };
  return runtime;
};
