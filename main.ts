/**
 * haagent: a high-availability agent for Linux routers and load balancers (VRRP v2/v3,
 * IPVS, health checks), configured by one YAML file. This file only hands argv to the CLI.
 *
 * @module
 */
import { main } from "./lib/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
