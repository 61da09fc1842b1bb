/**
 * `haagent [run] --config FILE`: runs the agent in the foreground until SIGTERM / SIGINT;
 * SIGHUP reloads, SIGUSR1 logs the status.
 *
 * @module
 */
import { Agent, ConfigRefused, type PlanLoader } from "../agent.ts";
import { planFromConfig } from "../agent/from_config.ts";
import { formatIssue } from "../config/errors.ts";
import { loadConfigFile } from "../config/load.ts";
import { type Level, log } from "../runtime/log.ts";
import { parseFlags, str } from "./args.ts";
import { interfaceExists } from "./host.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./exit.ts";
import type { Command } from "./main.ts";

/** Default control socket path (global.control in the file, --control on the command line). */
export const DEFAULT_CONTROL = "/run/haagent.sock";

const LEVELS = ["error", "warn", "info", "debug"];

/** `haagent run`. */
export const runCommand: Command = {
  name: "run",
  summary: "run the agent in the foreground",
  usage: "haagent --config FILE [--control PATH] [--pid-file PATH] [--log-level LEVEL] " +
    "[--log-format text|json]",
  async run(args) {
    const p = parseFlags(args, {
      config: { type: "string", short: "f" },
      control: { type: "string" },
      "pid-file": { type: "string" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
    });
    if (p.values.help) {
      console.log(`usage: ${this.usage}\n
Runs VRRP instances, health checks and IPVS rules from FILE in the foreground. Logs go to
stderr. Signals: SIGHUP reloads the file (a file with errors is refused and the running
configuration goes on), SIGTERM / SIGINT stop (masters send priority 0 and remove their VIPs),
SIGUSR1 logs the status. --control and --pid-file override global.control and
global.pid_file, so two agents can run side by side.`);
      return EXIT_OK;
    }
    const file = str(p, "config");
    if (file === undefined) throw new UsageError("--config FILE is required");
    const level = str(p, "log-level");
    if (level !== undefined && !LEVELS.includes(level)) {
      throw new UsageError(`--log-level must be one of ${LEVELS.join(", ")}`);
    }
    const format = str(p, "log-format");
    if (format !== undefined && format !== "text" && format !== "json") {
      throw new UsageError("--log-format must be text or json");
    }
    const control = str(p, "control");
    const pidFile = str(p, "pid-file");
    const hostname = Deno.hostname();
    let formatSet = false;
    const load: PlanLoader = async () => {
      const r = await loadConfigFile(file, { interfaceExists });
      const warnings = r.warnings.map(formatIssue);
      if (!r.ok) return { ok: false, errors: r.errors.map(formatIssue) };
      const plan = planFromConfig(r.config, {
        ...(control !== undefined ? { control } : {}),
        ...(pidFile !== undefined ? { pidFile } : {}),
        ...(level !== undefined ? { logLevel: level as Level } : {}),
      }, hostname);
      if (!formatSet) {
        formatSet = true;
        const json = (format ?? plan.logFormat) === "json";
        log.setSink((l) => console.error(l), json);
      }
      return { ok: true, plan, lvs: r.config, warnings };
    };
    const agent = new Agent({
      configFile: file,
      load,
      log,
      lvs: async () =>
        (await import("../agent/lvs_proxy.ts")).lvsWorkerFactory({ logFormat: format }),
    });
    const stop = () => {
      agent.stop().catch((e) => log.error(`stop failed: ${e}`));
    };
    const hup = () => {
      log.info("SIGHUP: reloading");
      agent.reload();
    };
    const usr1 = () => log.info(`status ${JSON.stringify(agent.status())}`);
    globalThis.addEventListener("unhandledrejection", (e) => {
      e.preventDefault();
      log.error(`unhandled rejection: ${e.reason?.stack ?? e.reason}`);
    });
    globalThis.addEventListener("error", (e) => {
      e.preventDefault();
      log.error(`uncaught exception: ${e.error?.stack ?? e.message}`);
    });
    try {
      await agent.start();
    } catch (e) {
      if (e instanceof ConfigRefused) {
        for (const line of e.errors) console.error(line);
        console.error(`${file}: ${e.message}`);
      } else {
        console.error(`haagent: cannot start: ${(e as Error).message}`);
      }
      await agent.stop().catch(() => {});
      return EXIT_FAILURE;
    }
    Deno.addSignalListener("SIGTERM", stop);
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGHUP", hup);
    Deno.addSignalListener("SIGUSR1", usr1);
    await agent.done;
    Deno.removeSignalListener("SIGTERM", stop);
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGHUP", hup);
    Deno.removeSignalListener("SIGUSR1", usr1);
    return EXIT_OK;
  },
};
