/**
 * `haagent [run] --config FILE`: runs the agent in the foreground until SIGTERM / SIGINT;
 * SIGHUP reloads, SIGUSR1 writes the state dump and SIGUSR2 the statistics (into --dump-dir).
 * Under systemd it speaks the notify protocol ($NOTIFY_SOCKET) and logs with journal
 * priorities ($JOURNAL_STREAM).
 *
 * @module
 */
import type { PlanLoader } from "../agent.ts";
import type { LvsStopOptions } from "../agent/lvs.ts";
import { DUMP_FILE, renderDump, renderStats, STATS_FILE } from "../agent/dump.ts";
import { LoaderThread, type LoadRequest, planNumber } from "../agent/loader_thread.ts";
import type { Plan } from "../agent/plan.ts";
import { interfaceExists } from "./host.ts";
import { writeDumpFile } from "../runtime/dump_file.ts";
import { releaseStartSignals } from "../runtime/early_signals.ts";
import { type Level, log, stderrIsJournal, SYSLOG_PRIORITY } from "../runtime/log.ts";
import { serviceNotifierFromEnv } from "../runtime/sd_notify.ts";
import { parseFlags, str } from "./args.ts";
import { EXIT_FAILURE, EXIT_OK, UsageError } from "./exit.ts";
import type { Command } from "./main.ts";

/**
 * The runtime directory: the default place of the control socket, the pid file and the dumps
 * (systemd's RuntimeDirectory=haagent in packaging/haagent.service).
 */
export const RUNTIME_DIR = "/run/haagent";

/** Default control socket path (global.control in the file, --control on the command line). */
export const DEFAULT_CONTROL = `${RUNTIME_DIR}/haagent.sock`;

/**
 * Where SIGUSR1 / SIGUSR2 write haagent.data / haagent.stats unless --dump-dir says. keepalived
 * writes to /tmp; the runtime directory is not writable by others (no planted files, keepalived
 * CVE-2018-19044..19046) and is where the hardened unit lets the agent write.
 */
export const DEFAULT_DUMP_DIR = RUNTIME_DIR;

/**
 * Set to 1 in the environment to enable test-only hooks (the `test-stall` control command,
 * which blocks the VRRP event loop). Never set it in production.
 */
export const TEST_HOOKS_ENV = "HAAGENT_TEST_HOOKS";

const LEVELS = ["error", "warn", "info", "debug"];

/**
 * How long a stop may take before the process exits anyway (a master's priority-0 advert and
 * VIP removal take milliseconds; notify scripts get 5 s of it).
 */
export const STOP_DEADLINE_MS = 10_000;

/**
 * Ends the process `ms` from now unless it has ended: a stop that hangs or throws must not
 * leave an agent running. The pid file (if it names us) is removed first.
 */
function forceExitAfter(ms: number, pidFile: () => string | null): void {
  const t = setTimeout(() => {
    log.error(`stop did not finish within ${ms / 1000} s: exiting now`);
    const path = pidFile();
    try {
      if (path !== null && Deno.readTextFileSync(path).trim() === String(Deno.pid)) {
        Deno.removeSync(path);
      }
    } catch { /* gone */ }
    Deno.exit(EXIT_FAILURE);
  }, ms);
  Deno.unrefTimer(t);
}

/**
 * The loader thread (an idle Web Worker: 8 MB of RSS, 6 MB of it anonymous, measured with one
 * instance) starts at the first reload instead of at start when every instance advertises at
 * this interval or slower: starting a worker blocks the VRRP thread 20-200 ms (measured here at
 * load 1.5-5), far inside a backup's master-down interval of over 3 s. With a faster instance it
 * starts once the agent has started, so that no reload blocks. A VRRPv3 backup configured at 1 s
 * whose master advertises faster adopts the master's interval and still starts it lazily.
 */
export const LAZY_LOADER_MIN_ADVERT_MS = 1000;

/** Whether the loader thread starts with the agent (see `LAZY_LOADER_MIN_ADVERT_MS`). */
export function loaderAtStart(plan: Pick<Plan, "instances">): boolean {
  return plan.instances.some((i) => i.spec.advertIntervalCs * 10 < LAZY_LOADER_MIN_ADVERT_MS);
}

/** `haagent run`. */
export const runCommand: Command = {
  name: "run",
  summary: "run the agent in the foreground",
  usage: "haagent --config FILE [--control PATH] [--pid-file PATH] [--log-level LEVEL] " +
    "[--log-format text|json] [--dump-dir DIR]",
  async run(args) {
    const p = parseFlags(args, {
      config: { type: "string", short: "f" },
      control: { type: "string" },
      "pid-file": { type: "string" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      "dump-dir": { type: "string" },
    });
    if (p.values.help) {
      console.log(`usage: ${this.usage}\n
Runs VRRP instances, health checks and IPVS rules from FILE in the foreground. Logs go to
stderr (with syslog priorities instead of timestamps when stderr is the journal). Signals:
SIGHUP reloads the file (a file with errors is refused and the running configuration goes on),
SIGTERM / SIGINT stop (masters send priority 0 and remove their VIPs), SIGUSR1 writes the state
dump to DIR/${DUMP_FILE} and SIGUSR2 the statistics to DIR/${STATS_FILE} (--dump-dir, default
${DEFAULT_DUMP_DIR}). --control and --pid-file override global.control and global.pid_file, so
two agents can run side by side. Under systemd (Type=notify) it reports READY, RELOADING,
STOPPING and a STATUS line, and sends the watchdog keep-alive when WatchdogSec is set.`);
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
    const dumpDirFlag = str(p, "dump-dir");
    const dumpDir = dumpDirFlag ?? DEFAULT_DUMP_DIR;
    if (dumpDir === "") throw new UsageError("--dump-dir must name a directory");
    const journal = stderrIsJournal();
    log.setJournal(journal);
    // Lines printed before the logger is set up (refused configuration) get a priority too.
    const printError = (line: string) =>
      console.error(journal ? `<${SYSLOG_PRIORITY.error}>${line}` : line);
    const request: LoadRequest = {
      file,
      overrides: {
        ...(control !== undefined ? { control } : {}),
        ...(pidFile !== undefined ? { pidFile } : {}),
        ...(level !== undefined ? { logLevel: level as Level } : {}),
      },
      hostname: Deno.hostname(),
    };
    // At start the file is read here (no advert is due yet); every reload reads it on the loader
    // thread, started once the agent has started (see LoaderThread).
    let loader: LoaderThread | null = null;
    let startPlan: { plan: Plan; seq: number } | null = null;
    const { Agent, ConfigRefused } = await import("../agent.ts");
    let helperNice = 10;
    const load: PlanLoader = async () => {
      if (startPlan !== null) {
        if (loader === null) {
          loader = new LoaderThread();
          loader.seed(startPlan.plan, startPlan.seq);
        }
        const r = await loader.load(request, helperNice);
        if (r.ok) helperNice = r.plan.checkerNice;
        return r;
      }
      const { loadPlan } = await import("../agent/loader.ts");
      const { readReservedProtocols } = await import("../config/rt_protos.ts");
      const r = await loadPlan(request, {
        interfaceExists,
        reservedProtocols: readReservedProtocols(),
      });
      if (!r.ok) return r;
      helperNice = r.plan.checkerNice;
      const json = (format ?? r.plan.logFormat) === "json";
      log.setSink((l) => console.error(l), json);
      startPlan = { plan: r.plan, seq: planNumber() };
      return { ...r, seq: startPlan.seq };
    };
    /**
     * Starts the loader thread, seeded with the start plan, once the agent has started, when an
     * instance advertises faster than `LAZY_LOADER_MIN_ADVERT_MS`; otherwise the first reload
     * starts it (see `LAZY_LOADER_MIN_ADVERT_MS`).
     */
    const startLoader = () => {
      if (loader !== null || startPlan === null) return;
      if (!loaderAtStart(startPlan.plan)) return;
      loader = new LoaderThread();
      loader.seed(startPlan.plan, startPlan.seq);
    };
    const service = serviceNotifierFromEnv(log.child("systemd"));
    const testHooks = Deno.env.get(TEST_HOOKS_ENV) === "1";
    if (testHooks) log.warn(`${TEST_HOOKS_ENV}=1: test-only hooks are enabled`);
    let requestStop: (opts: LvsStopOptions) => void = () => {};
    const agent = new Agent({
      configFile: file,
      load,
      log,
      lvs: async () =>
        (await import("../agent/lvs_proxy.ts")).lvsWorkerFactory({ logFormat: format }),
      service,
      testHooks,
      onStopRequest: (o) => requestStop(o),
    });
    // Signals: installed before the start, so that none can kill a starting agent; the early
    // listeners of main.ts are released only once these are in place.
    let ready = false;
    let stopping = false;
    let stopOpts: LvsStopOptions = {};
    let pendingReload = false;
    const stop = (sig: string, opts: LvsStopOptions = {}) => () => {
      if (stopping) {
        log.warn(
          `${sig}: already stopping (forced exit at most ${STOP_DEADLINE_MS / 1000} s ` +
            `after the first signal)`,
        );
        return;
      }
      stopping = true;
      stopOpts = opts;
      forceExitAfter(STOP_DEADLINE_MS, () => agent.pidFile);
      if (!ready) {
        log.info(`${sig} during start-up: stopping as soon as the start ends`);
        return;
      }
      log.info(`${sig}: stopping`);
      agent.stop(opts).catch((e) => log.error(`stop failed: ${e}`));
    };
    // `haagent stop` through the control socket: as SIGTERM, with its choice for IPVS.
    requestStop = (o) => stop(`haagent stop${o.ipvs ? ` (IPVS: ${o.ipvs})` : ""}`, o)();
    const hup = () => {
      if (!ready) {
        if (!pendingReload) log.info("SIGHUP during start-up: reloading once started");
        pendingReload = true;
        return;
      }
      log.info("SIGHUP: reloading");
      agent.reload();
    };
    const term = stop("SIGTERM"), int = stop("SIGINT");
    const dump = (what: "state dump" | "statistics") => {
      const st = agent.status();
      const now = new Date();
      const [name, text] = what === "state dump"
        ? [DUMP_FILE, renderDump(st, now)]
        : [STATS_FILE, renderStats(st, now)];
      // The default directory is created like the control socket's; a given one must exist.
      const dir = dumpDirFlag === undefined
        ? Deno.mkdir(dumpDir, { recursive: true, mode: 0o750 }).catch(() => {})
        : Promise.resolve();
      dir.then(() => writeDumpFile(dumpDir, name, text)).then(
        (path) => log.info(`${what} written to ${path}: ${agent.summary()}`),
        (e) => log.error(`${what}: ${(e as Error).message}`),
      );
    };
    // SIGUSR1 also logs the status as one JSON line, as before the dump files existed.
    const usr1 = () => {
      log.info(`status ${JSON.stringify(agent.status())}`);
      dump("state dump");
    };
    const usr2 = () => dump("statistics");
    Deno.addSignalListener("SIGTERM", term);
    Deno.addSignalListener("SIGINT", int);
    Deno.addSignalListener("SIGHUP", hup);
    Deno.addSignalListener("SIGUSR1", usr1);
    Deno.addSignalListener("SIGUSR2", usr2);
    const held = releaseStartSignals();
    for (let i = 0; i < held.hup; i++) hup();
    if (held.term > 0) term();
    else if (held.int > 0) int();
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
        for (const line of e.errors) printError(line);
        printError(`${file}: ${e.message}`);
      } else {
        printError(`haagent: cannot start: ${(e as Error).message}`);
      }
      if (!stopping) forceExitAfter(STOP_DEADLINE_MS, () => agent.pidFile);
      await agent.stop().catch(() => {});
      service?.[Symbol.dispose]();
      (loader as LoaderThread | null)?.[Symbol.dispose]();
      return EXIT_FAILURE;
    }
    ready = true;
    startLoader();
    if (stopping) {
      log.info("stopping: a stop signal arrived during start-up");
      agent.stop(stopOpts).catch((e) => log.error(`stop failed: ${e}`));
    } else if (pendingReload) {
      log.info("reloading: SIGHUP arrived during start-up");
      agent.reload();
    }
    await agent.done;
    service?.[Symbol.dispose]();
    (loader as LoaderThread | null)?.[Symbol.dispose]();
    Deno.removeSignalListener("SIGTERM", term);
    Deno.removeSignalListener("SIGINT", int);
    Deno.removeSignalListener("SIGHUP", hup);
    Deno.removeSignalListener("SIGUSR1", usr1);
    Deno.removeSignalListener("SIGUSR2", usr2);
    return EXIT_OK;
  },
};
