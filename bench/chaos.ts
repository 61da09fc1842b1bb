/**
 * The seeded chaos run (tests/chaos/harness.ts) for as long as asked: three routers (two
 * haagent, one keepalived 2.2.7) on one VRID under kills, stops, stalls, link flaps, reloads,
 * VRRP cuts and fd pressure, with a watcher on the VIP in every namespace. Prints the report and
 * the fault log; asserts nothing (tests/chaos/chaos_test.ts asserts on the 3-minute form).
 *
 *   deno run -A bench/chaos.ts [--minutes=30] [--seed=11] [--verbose]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { netnsUnavailable } from "../tests/helpers/netns.ts";
import { formatReport, runChaos } from "../tests/chaos/harness.ts";
import { machine, machineJiffies, machineLoad } from "./lib.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "30" },
    seed: { type: "string", default: "11" },
    verbose: { type: "boolean", default: false },
  },
});

if (import.meta.main) {
  const why = netnsUnavailable();
  if (why !== null) {
    console.log(`chaos: skipped (${why})`);
    Deno.exit(0);
  }
  console.log(machine());
  const m0 = machineJiffies();
  const r = await runChaos({
    seed: Number(values.seed),
    durationMs: Number(values.minutes) * 60_000,
    ...(values.verbose ? { progress: (l: string) => console.log(l) } : {}),
  });
  console.log(formatReport(r));
  console.log(machineLoad(m0, machineJiffies()));
  if (!values.verbose) console.log(`fault log:\n${r.log.join("\n")}`);
}
