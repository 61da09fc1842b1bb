/**
 * The command line: `haagent [run] --config FILE`, `check`, `import-keepalived`, `status`,
 * `reload`, `schema`, `demo`, `version`. Each subcommand returns its exit code.
 *
 * @module
 */
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from "./exit.ts";
import { parseFlags } from "./args.ts";
import { VERSION } from "../runtime/version.ts";

/** One subcommand. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import("./run.ts")).runCommand,
  check: async () => (await import("./check.ts")).checkCommand,
  "import-keepalived": async () => (await import("./import.ts")).importCommand,
  status: async () => (await import("./status.ts")).statusCommand,
  reload: async () => (await import("./status.ts")).reloadCommand,
  stop: async () => (await import("./status.ts")).stopCommand,
  schema: async () => (await import("./check.ts")).schemaCommand,
  demo: async () => (await import("./demo.ts")).demoCommand,
  version: () =>
    Promise.resolve({
      name: "version",
      summary: "print the version",
      usage: "haagent version",
      run(args) {
        if (parseFlags(args, {}).values.help) {
          console.log(`usage: ${this.usage}\n\nPrints the haagent, Deno and target versions.`);
        } else {
          console.log(`haagent ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})`);
        }
        return Promise.resolve(EXIT_OK);
      },
    }),
};

const overview = `haagent ${VERSION}: VRRP failover, IPVS rules and health checks from one YAML file

Usage:
  haagent --config FILE [--control PATH] [--pid-file PATH]   run the agent in the foreground
  haagent check --config FILE                  validate a configuration (exit 0 valid, 1 invalid)
  haagent import-keepalived FILE [--out OUT]   convert keepalived.conf to haagent YAML
  haagent status [--control PATH] [--json]     show the running agent's state
  haagent reload [--control PATH]              make the running agent re-read its file (as SIGHUP)
  haagent stop [--control PATH] [--keep-ipvs]  stop the agent (as SIGTERM), keeping IPVS rules
  haagent schema                               print the JSON Schema of the configuration
  haagent demo                                 failover demo in throw-away namespaces (root)
  haagent version                              print the version

Run "haagent COMMAND --help" for a command's flags.
Exit codes: 0 success, 1 invalid configuration or failure, 2 usage error, 3 agent unreachable.`;

/** Runs the CLI with `argv` (without the program name) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    if (first === undefined) {
      console.error(overview);
      return EXIT_USAGE;
    }
    console.log(overview);
    return EXIT_OK;
  }
  if (first === "--version" || first === "-V") return main(["version"]);
  // `haagent --config FILE` / `haagent -f FILE`: run is the default subcommand.
  const name = first.startsWith("-") ? "run" : first;
  const args = first.startsWith("-") ? argv : rest;
  const load = commands[name];
  if (load === undefined) {
    console.error(`haagent: unknown command "${name}"\n\n${overview}`);
    return EXIT_USAGE;
  }
  const cmd = await load();
  try {
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`haagent ${cmd.name}: ${e.message}\nusage: ${cmd.usage}`);
      return EXIT_USAGE;
    }
    console.error(`haagent ${cmd.name}: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT_FAILURE;
  }
}
