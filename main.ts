/**
 * haagent: a high-availability agent for Linux routers and load balancers (VRRP v2/v3,
 * IPVS, health checks), configured by one YAML file. This file only hands argv to the CLI,
 * after holding the signals a starting agent must not die of (lib/runtime/early_signals.ts):
 * the rest of the program loads after that.
 *
 * @module
 */
import { holdStartSignals, runsAgent } from "./lib/runtime/early_signals.ts";

if (import.meta.main) {
  if (runsAgent(Deno.args)) holdStartSignals();
  const { main } = await import("./lib/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
