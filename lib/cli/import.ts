/**
 * `haagent import-keepalived FILE [--out OUT] [--config-id ID]`: keepalived.conf to haagent YAML.
 *
 * @module
 */
import { formatKaIssue, importKeepalived } from "../config/import_keepalived.ts";
import { parseFlags, str } from "./args.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./exit.ts";
import type { Command } from "./main.ts";

/** keepalived's default config-id: the host name up to its first dot (main.c). */
export function defaultConfigId(hostname: string = Deno.hostname()): string {
  return hostname.split(".")[0] ?? hostname;
}

/** `haagent import-keepalived`. */
export const importCommand: Command = {
  name: "import-keepalived",
  summary: "convert a keepalived.conf to haagent YAML",
  usage: "haagent import-keepalived FILE [--out OUT] [--config-id ID]",
  async run(args) {
    const p = parseFlags(args, {
      out: { type: "string", short: "o" },
      "config-id": { type: "string", short: "i" },
    }, 1);
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nWrites YAML to stdout (or OUT). What keepalived ignores or ` +
          `changes is a warning with file and line;\nwhat haagent cannot run as keepalived ` +
          `would is an error (exit 1).\n--config-id ID  the config-id \`@ID\` lines are ` +
          `kept for (keepalived -i); default: this host's\n                name up to ` +
          `its first dot, as keepalived's default.`,
      );
      return EXIT_OK;
    }
    const file = p.positionals[0];
    if (file === undefined) throw new UsageError("the keepalived.conf FILE is required");
    const configId = str(p, "config-id") ?? defaultConfigId();
    const r = importKeepalived(file, undefined, { configId });
    for (const w of r.warnings) console.error(formatKaIssue(w));
    for (const e of r.errors) console.error(formatKaIssue(e));
    const out = str(p, "out");
    if (out !== undefined) await Deno.writeTextFile(out, r.yaml);
    else await Deno.stdout.write(new TextEncoder().encode(r.yaml));
    return r.errors.length > 0 ? EXIT_FAILURE : EXIT_OK;
  },
};
