/**
 * `haagent import-keepalived FILE [--out OUT]`: keepalived.conf to haagent YAML.
 *
 * @module
 */
import { formatKaIssue, importKeepalived } from "../config/import_keepalived.ts";
import { parseFlags, str } from "./args.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./exit.ts";
import type { Command } from "./main.ts";

/** `haagent import-keepalived`. */
export const importCommand: Command = {
  name: "import-keepalived",
  summary: "convert a keepalived.conf to haagent YAML",
  usage: "haagent import-keepalived FILE [--out OUT]",
  async run(args) {
    const p = parseFlags(args, { out: { type: "string", short: "o" } }, 1);
    if (p.values.help) {
      console.log(
        `usage: ${this.usage}\n\nWrites YAML to stdout (or OUT). Every keyword that cannot be ` +
          `mapped is a warning with file and line;\ninvalid values are errors (exit 1).`,
      );
      return EXIT_OK;
    }
    const file = p.positionals[0];
    if (file === undefined) throw new UsageError("the keepalived.conf FILE is required");
    const r = importKeepalived(file);
    for (const w of r.warnings) console.error(formatKaIssue(w));
    for (const e of r.errors) console.error(formatKaIssue(e));
    const out = str(p, "out");
    if (out !== undefined) await Deno.writeTextFile(out, r.yaml);
    else await Deno.stdout.write(new TextEncoder().encode(r.yaml));
    return r.errors.length > 0 ? EXIT_FAILURE : EXIT_OK;
  },
};
