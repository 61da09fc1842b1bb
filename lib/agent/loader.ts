/**
 * Reading the configuration file into a plan (`loadPlan`), as the loader thread
 * (`load_worker.ts`) does it: YAML parsing, validation and planning, which take 0.5-1 s for
 * 1,000 virtual servers x 10 real servers, never run on the thread that sends adverts. The
 * load-balancer part comes back as JSON text: it goes on to the load-balancer worker as one
 * string, never rebuilt as objects on the VRRP thread.
 *
 * @module
 */
import { formatIssue } from "../config/errors.ts";
import { loadConfigFile, type LoadOptions } from "../config/load.ts";
import { planFromConfig } from "./from_config.ts";
import type { LoadedPlan, LoadRequest } from "./loader_thread.ts";

/** Loads, validates and plans `req.file` on this thread. */
export async function loadPlan(req: LoadRequest, opts: LoadOptions = {}): Promise<LoadedPlan> {
  const r = await loadConfigFile(req.file, opts);
  if (!r.ok) return { ok: false, errors: r.errors.map(formatIssue) };
  const plan = planFromConfig(r.config, req.overrides, req.hostname);
  return {
    ok: true,
    plan,
    lvs: JSON.stringify(r.config),
    warnings: r.warnings.map(formatIssue),
  };
}
