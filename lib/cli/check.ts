/**
 * `haagent check --config FILE` and `haagent schema`.
 *
 * @module
 */
import { formatIssue, jsonSchema, loadConfigFile } from "../config/mod.ts";
import { interfaceExists, scriptProblem } from "./host.ts";
import { readReservedProtocols } from "../config/rt_protos.ts";
import { parseFlags, str } from "./args.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./exit.ts";
import type { Command } from "./main.ts";

/** `haagent check`. */
export const checkCommand: Command = {
  name: "check",
  summary: "validate a configuration file",
  usage: "haagent check --config FILE   (exit 0: valid, 1: invalid, 2: usage)",
  async run(args) {
    const p = parseFlags(args, { config: { type: "string", short: "f" } }, 1);
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nReports every error as FILE:LINE:COL: field: problem.` +
          `\nInterfaces missing on this host are warnings: the file is judged alone.`,
      );
      return EXIT_OK;
    }
    const file = str(p, "config") ?? p.positionals[0];
    if (file === undefined) throw new UsageError("--config FILE is required");
    const result = await loadConfigFile(file, {
      interfaceExists,
      scriptProblem,
      reservedProtocols: readReservedProtocols(),
    });
    for (const w of result.warnings) console.error(formatIssue(w));
    if (!result.ok) {
      for (const e of result.errors) console.error(formatIssue(e));
      const n = result.errors.length;
      console.error(`${file}: ${n} error${n === 1 ? "" : "s"}, configuration refused`);
      return EXIT_FAILURE;
    }
    const c = result.config;
    console.log(
      `${file}: OK (${c.vrrpInstances.length} VRRP instance(s), ${c.virtualServers.length} ` +
        `virtual server(s), ${result.warnings.length} warning(s))`,
    );
    return EXIT_OK;
  },
};

/** `haagent schema`: prints the JSON Schema for editors. */
export const schemaCommand: Command = {
  name: "schema",
  summary: "print the configuration's JSON Schema",
  usage: "haagent schema > haagent.schema.json",
  run(args) {
    const p = parseFlags(args, {});
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nThen start ha.yaml with:\n` +
          `# yaml-language-server: $schema=./haagent.schema.json`,
      );
      return Promise.resolve(EXIT_OK);
    }
    console.log(JSON.stringify(jsonSchema(), null, 2));
    return Promise.resolve(EXIT_OK);
  },
};
