/**
 * What moves a VRRP instance's priority or puts it in FAULT: vrrp_scripts run periodically
 * (with rise/fall), files read every second, processes counted in /proc every
 * process_scan_interval, and tracked interfaces. Results are folded into an effective priority
 * per instance by `compute`.
 *
 * @module
 */
import type { Clock, Timer } from "../runtime/clock.ts";
import type { Logger } from "../runtime/log.ts";
import { auditScript, resolveUser, runScript, scriptAccess } from "../runtime/script.ts";
import { scriptPolicy } from "../runtime/script_security.ts";
import { readTrackValue } from "../check/file.ts";
import { computeTracking, ScriptTracker, type TrackedItem } from "../vrrp/tracking.ts";
import type { InstancePlan, Plan, ProcessPlan, TrackScriptPlan } from "./plan.ts";
import type { TrackedStatus } from "./status_types.ts";
import { matches, ProcessTracker, type ProcInfo, scanProc, scanProcSync } from "./processes.ts";

interface ProcessRun {
  plan: ProcessPlan;
  tracker: ProcessTracker;
}

/** How often a tracked file is read. */
const FILE_PERIOD_MS = 1000;

interface ScriptRun {
  plan: TrackScriptPlan;
  tracker: ScriptTracker;
  timer: Timer | null;
  inFlight: AbortController | null;
  lastResult: string;
  /** Why keepalived would not track it (missing, not executable, refused), or null. */
  disabled: string | null;
  /** Runs in a row that could not be started (logged once). */
  notStarted: number;
}

/**
 * errno names of a spawn that failed for want of resources (descriptors, processes, memory):
 * the script did not run, so it neither passed nor failed.
 */
const RESOURCE_ERRNOS = ["EMFILE", "ENFILE", "EAGAIN", "ENOMEM"];

/**
 * keepalived's check when it loads a vrrp_script (vrrp.c check_track_script_secure): why the
 * script will not be tracked (not found, not executable for its user, refused by the script
 * security), or null.
 */
export function trackScriptProblem(sp: TrackScriptPlan): string | null {
  const who = scriptPolicy.userFor(sp.user ?? undefined);
  if ("refused" in who) return `refused: ${who.refused}`;
  let ids = { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 };
  if (who.user !== null) {
    const r = resolveUser(who.user);
    if (!r.ok) return r.reason;
    ids = r.value;
  }
  return scriptAccess(sp.command, ids) ?? auditScript(sp.command, sp.user ?? undefined);
}

/** What tracking means for one instance now. */
export interface TrackingState {
  fault: boolean;
  reasons: string[];
  priority: number;
}

/** Runs tracked scripts and files; tells `onChange` which instances to re-evaluate. */
export class TrackingRuntime {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onChange: (instances: string[]) => void;
  #plan: Plan | null = null;
  readonly #scripts = new Map<string, ScriptRun>();
  readonly #fileValues = new Map<string, number>();
  /** The next read of each tracked file. */
  readonly #fileTimers = new Map<string, Timer>();
  /** Bumped by every (re)start and stop: a read in flight from before is dropped. */
  #fileGeneration = 0;
  /** Files whose number is out of range, logged once until they hold a valid one again. */
  readonly #fileInvalid = new Set<string>();
  readonly #processes = new Map<string, ProcessRun>();
  #procTimer: Timer | null = null;
  readonly #scan: () => Promise<ProcInfo[]>;
  readonly #scanSync: () => ProcInfo[];
  readonly #scriptProblem: (sp: TrackScriptPlan) => string | null;

  constructor(
    clock: Clock,
    log: Logger,
    onChange: (instances: string[]) => void,
    scan: () => Promise<ProcInfo[]> = () => scanProc(),
    scanSync: () => ProcInfo[] = () => scanProcSync(),
    scriptProblem: (sp: TrackScriptPlan) => string | null = trackScriptProblem,
  ) {
    this.#scriptProblem = scriptProblem;
    this.#scanSync = scanSync;
    this.#clock = clock;
    this.#log = log;
    this.#onChange = onChange;
    this.#scan = scan;
  }

  /** (Re)configures from a plan: unchanged scripts keep running with their state. */
  apply(plan: Plan): void {
    this.#plan = plan;
    const used = new Set(plan.instances.flatMap((ip) => ip.trackScripts.map((t) => t.name)));
    for (const [name, run] of this.#scripts) {
      const next = plan.scripts[name];
      if (
        next === undefined || !used.has(name) || JSON.stringify(next) !== JSON.stringify(run.plan)
      ) {
        this.#cancel(run);
        this.#scripts.delete(name);
      }
    }
    for (const name of used) {
      const sp = plan.scripts[name];
      if (sp === undefined) continue;
      // keepalived checks each script when it loads the file: one it cannot run is disabled
      // (logged) and the instances go on without it, rather than fault on it.
      const problem = this.#scriptProblem(sp);
      const known = this.#scripts.get(name);
      if (known !== undefined) {
        if (known.disabled === problem) continue;
        this.#cancel(known);
        this.#scripts.delete(name);
      }
      const run: ScriptRun = {
        plan: sp,
        tracker: new ScriptTracker({ rise: sp.rise, fall: sp.fall, initFail: sp.initFail }),
        timer: null,
        inFlight: null,
        lastResult: problem === null ? "not run yet" : `disabled: ${problem}`,
        disabled: problem,
        notStarted: 0,
      };
      this.#scripts.set(name, run);
      if (problem !== null) {
        this.#log.error(
          // keepalived's two wordings, so that a search for either finds the line.
          `Disabling track script ${name} ${
            /refused/.test(problem) ? "due to insecure" : "since not found/accessible"
          }: ${problem} ` +
            `(as keepalived: the instances tracking it go on without it)`,
        );
        continue;
      }
      this.#loop(run, 0);
    }
    this.#startFiles(plan);
    this.#startProcesses(plan);
  }

  /** Tracked processes: unchanged definitions keep their state; one /proc scan for all. */
  #startProcesses(plan: Plan): void {
    const used = new Set(plan.instances.flatMap((ip) => ip.trackProcesses.map((t) => t.name)));
    for (const [name, run] of this.#processes) {
      const next = plan.processes[name];
      if (
        next === undefined || !used.has(name) || JSON.stringify(next) !== JSON.stringify(run.plan)
      ) {
        this.#processes.delete(name);
      }
    }
    const fresh: ProcessRun[] = [];
    for (const name of used) {
      const pp = plan.processes[name];
      if (pp === undefined || this.#processes.has(name)) continue;
      const run = { plan: pp, tracker: new ProcessTracker(pp) };
      this.#processes.set(name, run);
      fresh.push(run);
    }
    if (fresh.length > 0) {
      // The first count now, so that instances do not start in FAULT for want of a scan.
      let procs: ProcInfo[] = [];
      try {
        procs = this.#scanSync();
      } catch (e) {
        this.#log.warn(`cannot read /proc for tracked processes: ${(e as Error).message}`);
      }
      // Instances compute their tracking when they start: nothing to tell yet.
      this.#count(fresh, procs, false);
    }
    this.#procTimer?.cancel();
    this.#procTimer = null;
    if (this.#processes.size > 0) {
      this.#scanLoop(plan.processScanIntervalMs, plan.processScanIntervalMs);
    }
  }

  #scanLoop(delayMs: number, intervalMs: number): void {
    const timer = this.#clock.setTimer(delayMs, async () => {
      let procs: ProcInfo[];
      try {
        procs = await this.#scan();
      } catch (e) {
        this.#log.warn(`cannot read /proc for tracked processes: ${(e as Error).message}`);
        procs = [];
      }
      if (this.#procTimer !== timer) return; // stopped or re-applied meanwhile
      this.#count(this.#processes.values(), procs);
      this.#scanLoop(intervalMs, intervalMs);
    });
    this.#procTimer = timer;
  }

  /** Counts each definition's processes in `procs`; a change is logged and, if `tell`, passed on. */
  #count(runs: Iterable<ProcessRun>, procs: ProcInfo[], tell = true): void {
    const now = this.#clock.now();
    for (const run of runs) {
      const n = procs.filter((p) => matches(run.plan, p)).length;
      if (!run.tracker.record(n, now)) continue;
      this.#log.info(
        `process ${run.plan.name} (${run.plan.process}) is now ${
          run.tracker.up ? "up" : "down"
        }: ${n} running, quorum ${run.plan.quorum}` +
          (run.plan.quorumMax === undefined ? "" : `-${run.plan.quorumMax}`),
      );
      if (tell) {
        this.#onChange(
          this.#users((ip) => ip.trackProcesses.some((t) => t.name === run.plan.name)),
        );
      }
    }
  }

  #cancel(run: ScriptRun): void {
    run.timer?.cancel();
    run.inFlight?.abort();
  }

  #users(pred: (ip: InstancePlan) => boolean): string[] {
    return (this.#plan?.instances ?? []).filter(pred).map((ip) => ip.spec.name);
  }

  #loop(run: ScriptRun, delayMs: number): void {
    run.timer = this.#clock.setTimer(delayMs, async () => {
      if (this.#scripts.get(run.plan.name) !== run) return;
      const ac = new AbortController();
      run.inFlight = ac;
      const user = run.plan.user ?? undefined;
      const r = await runScript(run.plan.command, {
        timeoutMs: run.plan.timeoutMs,
        signal: ac.signal,
        ...(user ? { user } : {}),
      });
      run.inFlight = null;
      if (this.#scripts.get(run.plan.name) !== run) return;
      if (r.error !== undefined && RESOURCE_ERRNOS.includes(r.errorCode ?? "")) {
        // It did not run (out of descriptors, processes or memory): no result, the last stands.
        run.lastResult = `not run: ${r.error} (last result kept)`;
        if (run.notStarted++ === 0) {
          this.#log.warn(
            `script ${run.plan.name} could not be started (${r.error}): it stays ` +
              `${run.tracker.up ? "up" : "down"} until it runs`,
          );
        }
        this.#loop(run, run.plan.intervalMs);
        return;
      }
      if (run.notStarted > 0) {
        this.#log.info(`script ${run.plan.name} runs again after ${run.notStarted} failed starts`);
        run.notStarted = 0;
      }
      run.lastResult = r.error ??
        (r.timedOut ? `timed out after ${run.plan.timeoutMs} ms` : `exit ${r.code ?? r.signal}`);
      if (run.tracker.record(r.code === 0 && !r.timedOut)) {
        this.#log.info(
          `script ${run.plan.name} is now ${run.tracker.up ? "up" : "down"} (${run.lastResult})`,
        );
        this.#onChange(this.#users((ip) => ip.trackScripts.some((t) => t.name === run.plan.name)));
      }
      this.#loop(run, run.plan.intervalMs);
    });
  }

  /**
   * Reads every tracked file's first bytes each second (keepalived reads 127 bytes on each
   * inotify event): a file of any size costs one small read; a FIFO or device never blocks.
   */
  #startFiles(plan: Plan): void {
    this.#stopFiles();
    const generation = this.#fileGeneration;
    const paths = new Set(plan.instances.flatMap((ip) => ip.trackFiles.map((f) => f.path)));
    for (const path of this.#fileValues.keys()) {
      if (!paths.has(path)) this.#fileValues.delete(path);
    }
    for (const path of paths) {
      const tick = async () => {
        const v = await readTrackValue(path);
        if (generation !== this.#fileGeneration) return;
        if (v === null) {
          if (!this.#fileInvalid.has(path)) {
            this.#fileInvalid.add(path);
            this.#log.warn(
              `track file ${path}: the number is out of range (-2147483648..2147483648): ` +
                `ignored, the file still counts as ${this.#fileValues.get(path) ?? 0}`,
            );
          }
        } else {
          this.#fileInvalid.delete(path);
          if (this.#fileValues.get(path) !== v) {
            this.#fileValues.set(path, v);
            this.#onChange(this.#users((ip) => ip.trackFiles.some((f) => f.path === path)));
          }
        }
        this.#fileTimers.set(path, this.#clock.setTimer(FILE_PERIOD_MS, tick));
      };
      void tick();
    }
  }

  #stopFiles(): void {
    this.#fileGeneration++;
    for (const t of this.#fileTimers.values()) t.cancel();
    this.#fileTimers.clear();
  }

  /**
   * Fault and effective priority of an instance from its tracked objects, or null when it
   * tracks nothing. `linkUp` says whether a tracked interface is up.
   */
  compute(ip: InstancePlan, linkUp: (name: string) => boolean): TrackingState | null {
    if (
      ip.trackInterfaces.length + ip.trackScripts.length + ip.trackFiles.length +
          ip.trackProcesses.length === 0
    ) {
      return null;
    }
    const items: TrackedItem[] = [
      ...ip.trackInterfaces.map((t): TrackedItem => ({
        kind: "interface",
        name: t.name,
        weight: t.reverse ? -t.weight : t.weight,
        up: linkUp(t.name),
      })),
      ...ip.trackScripts.filter((t) => !this.#scripts.get(t.name)?.disabled).map((
        t,
      ): TrackedItem => ({
        kind: "script",
        name: t.name,
        weight: t.reverse ? -t.weight : t.weight,
        up: this.#scripts.get(t.name)?.tracker.up ?? false,
      })),
      ...ip.trackProcesses.map((t): TrackedItem => ({
        kind: "process",
        name: t.name,
        weight: t.reverse ? -t.weight : t.weight,
        up: this.#processes.get(t.name)?.tracker.up ?? false,
      })),
    ];
    const base = computeTracking(ip.spec.priority, items);
    const reasons = [...base.reasons];
    let delta = 0;
    // keepalived track_file: the number read times the weight; weight 0 = FAULT unless 0.
    for (const f of ip.trackFiles) {
      const v = this.#fileValues.get(f.path) ?? 0;
      if (f.weight === 0) {
        if (v !== 0) reasons.push(`file ${f.path} holds ${v}`);
      } else delta += v * f.weight;
    }
    const priority = ip.spec.priority === 255
      ? 255
      : Math.min(254, Math.max(1, base.effectivePriority + delta));
    return { fault: reasons.length > 0, reasons, priority };
  }

  /** Every tracked script, process and file in use, with its last result. */
  status(): TrackedStatus[] {
    const out: TrackedStatus[] = [];
    for (const [name, run] of this.#scripts) {
      const up = run.disabled === null && run.tracker.up;
      out.push({ kind: "script", name, up, detail: run.lastResult });
    }
    for (const [name, run] of this.#processes) {
      const q = run.plan.quorumMax === undefined
        ? `${run.plan.quorum}`
        : `${run.plan.quorum}-${run.plan.quorumMax}`;
      out.push({
        kind: "process",
        name,
        up: run.tracker.up,
        detail: `${run.tracker.count} running (quorum ${q})`,
      });
    }
    for (const [path, v] of this.#fileValues) {
      out.push({ kind: "file", name: path, up: v === 0, detail: `holds ${v}` });
    }
    return out;
  }

  /** Stops every script and file timer. */
  stop(): void {
    for (const run of this.#scripts.values()) this.#cancel(run);
    this.#scripts.clear();
    this.#stopFiles();
    this.#procTimer?.cancel();
    this.#procTimer = null;
    this.#processes.clear();
  }
}
