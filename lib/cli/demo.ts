/**
 * `haagent demo`: the failover demo in throw-away namespaces.
 *
 * @module
 */
import { runDemo } from "../demo/demo.ts";
import { parseFlags, str } from "./args.ts";
import { EXIT_OK } from "./exit.ts";
import type { Command } from "./main.ts";

/** `haagent demo`. */
export const demoCommand: Command = {
  name: "demo",
  summary: "show an election and a failover in throw-away namespaces",
  usage: "haagent demo [--version 2|3] [--interval DURATION] [--keep-logs]",
  async run(args) {
    const p = parseFlags(args, {
      version: { type: "string" },
      interval: { type: "string" },
      "keep-logs": { type: "boolean" },
    });
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nBuilds two routers running haagent and a client pinging the VIP ` +
          `in network namespaces,\nshows the election, kills the master, shows the failover with ` +
          `its timings and the client's\nping gap, brings the master back, and deletes everything. ` +
          `Needs root and iproute2.\nDefaults: VRRPv3, 100ms adverts.`,
      );
      return EXIT_OK;
    }
    return await runDemo({
      version: str(p, "version") === "2" ? 2 : 3,
      interval: str(p, "interval") ?? (str(p, "version") === "2" ? "1s" : "100ms"),
      keepLogs: p.values["keep-logs"] === true,
    });
  },
};
