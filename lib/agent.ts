/**
 * The composition root: builds the clock, the reactor, rtnetlink, the VRRP transport and one
 * runner per instance (plus tracking, sync groups, notify scripts, the load balancer and the
 * control socket) from a configuration, and handles reload and stop.
 *
 * @module
 */
import { scriptPolicy } from "./runtime/script_security.ts";
import { type Mailer, mailerFor } from "./runtime/mail.ts";
import { Reactor } from "../ffi/reactor.ts";
import { ReactorClock, type ReactorTimer } from "../ffi/timer.ts";
import {
  promoteRuntimeThreads,
  setHelperNice,
  setLatencySlice,
  setRealtimePriority,
} from "../ffi/sched.ts";
import { LinkCache } from "./agent/links.ts";
import { StaticRouting } from "./agent/routing.ts";
import { VrrpKernel } from "./agent/vrrp_kernel.ts";
import type { InstancePlan, Plan, SyncGroupPlan } from "./agent/plan.ts";
import { diffReload, type ReloadDiff } from "./agent/reload_diff.ts";
import { Slicer } from "./runtime/slicer.ts";
import type { AgentStatus, InstanceStatus, MailStatus } from "./agent/status_types.ts";
import type { LvsFactory, LvsRuntime, LvsStopOptions } from "./agent/lvs.ts";
import { ipvsStatePath, readIpvsState } from "./agent/ipvs_state.ts";
import { AnnounceRuntime } from "./agent/announce.ts";
import type { QuorumReport } from "./announce/plan.ts";
import { Notifier, vrrpAlert } from "./agent/notify.ts";
import { TrackingRuntime } from "./agent/tracking.ts";
import { serveMetrics } from "./agent/metrics.ts";
import { VERSION } from "./runtime/version.ts";
import type { TextServer } from "./runtime/http_text.ts";
import { raiseOpenFilesLimit } from "./runtime/open_files.ts";
import { compactMemory } from "./runtime/memory.ts";
import { PidFileInUse, removePidFile, writePidFile } from "./runtime/pid_file.ts";
import { Rtnl, type RtnlEvent } from "./netlink/rtnl.ts";
import { formatIp, parseIp } from "./net/ip.ts";
import { ControlServer } from "./runtime/control.ts";
import { failureLogger, type Logger } from "./runtime/log.ts";
import { auditScript, ScriptQueue } from "./runtime/script.ts";
import type { ServiceNotifier } from "./runtime/sd_notify.ts";
import { SocketRetry } from "./agent/socket_retry.ts";
import { formatSummary } from "./agent/summary.ts";
import { FramePort } from "./vrrp/announce.ts";
import type { VrrpState } from "./vrrp/instance.ts";
import { VrrpRunner } from "./vrrp/runner.ts";
import { SyncGroup } from "./vrrp/sync_group.ts";
import { SocketTransport } from "./vrrp/transport.ts";

/**
 * Loads and validates the configuration file; the agent calls it at start and on reload. It
 * must not parse on this thread (adverts are due during a reload): see `LoaderThread`.
 */
export type PlanLoader = () => Promise<
  | {
    ok: true;
    plan: Plan;
    lvs: unknown;
    warnings: string[];
    /** The loader's number for this plan, and the reload diff from its plan number `from`. */
    seq?: number;
    diff?: { from: number; value: ReloadDiff };
  }
  | { ok: false; errors: string[] }
>;

/** Synchronous work the VRRP thread does in one go while applying a reload. */
const APPLY_SLICE_MS = 2;

/**
 * When, after a start or a reload, the agent gives memory back (`#scheduleCompaction`): V8's
 * heap and malloc first, malloc again once V8 has compiled the hot code (its compiler threads'
 * freed memory stays in their malloc arenas: 3.5 MB more within a minute at 1,000 instances).
 */
export const COMPACT_AFTER_MS = [5_000, 60_000] as const;

/**
 * The shortest advert interval at which V8's heap is compacted after a start or a reload: the
 * collection holds the VRRP thread 10-30 ms with one instance (~90 ms with 1,000), which a
 * 10 ms pair's backup (master-down 36 ms) must never see.
 */
export const DEEP_COMPACT_MIN_ADVERT_MS = 1000;

/** The running agent. */
export class Agent {
  readonly #log: Logger;
  readonly #configFile: string;
  readonly #load: PlanLoader;
  readonly #lvsFactory: (() => Promise<LvsFactory>) | null;
  /** The event loop for every fd and timer of this thread (it runs from `start()`). */
  readonly #reactor: Reactor;
  /** Timers on the Reactor's timerfd: adverts keep time to the microsecond, not the millisecond. */
  readonly #clock: ReactorClock;
  readonly #startedAt = new Date();
  #rtnl: Rtnl | null = null;
  #statics: StaticRouting | null = null;
  /** VMAC interfaces and the nftables rules of no_accept instances. */
  #kernel: VrrpKernel | null = null;
  #events: Disposable | null = null;
  readonly #links = new LinkCache();
  #transport: SocketTransport | null = null;
  #frames: FramePort | null = null;
  #scriptsQueue: ScriptQueue;
  #plan: Plan | null = null;
  /** The pid file this agent wrote (a reload does not move it). */
  #pidFile: string | null = null;
  #runners = new Map<string, VrrpRunner>();
  #instancePlans = new Map<string, InstancePlan>();
  readonly #tracking: TrackingRuntime;
  readonly #notifier: Notifier;
  /** E-mail alerts (smtp_alert), or null when the file sends none; replaced on reload. */
  #mailer: Mailer | null = null;
  /** The last state each instance / group sent mail for (keepalived sends one per state). */
  readonly #mailedState = new Map<string, VrrpState>();
  #groups: { plan: SyncGroupPlan; group: SyncGroup | null; state: VrrpState }[] = [];
  #lvs: LvsRuntime | null = null;
  /** Routes published for BGP (global.announce); built at start. */
  #announce: AnnounceRuntime | null = null;
  #control: ControlServer | null = null;
  #metrics: TextServer | null = null;
  #unknownVrid = 0;
  #reloads = 0;
  /** The SCHED_RR priority applied at start (a reload does not change it), or null. */
  #realtime: number | null = null;
  /** The runtime's pool threads already looked at (see `#promoteRuntimeThreads`). */
  readonly #runtimeThreads = new Set<number>();
  #runtimeThreadsWarned = false;
  /** Reloads under way: pool threads are then looked for every 100 ms, not every second. */
  #reloading = 0;
  #sweepTimer: ReactorTimer | null = null;
  /** Gives memory back after a start or a reload (see `#scheduleCompaction`). */
  #compactTimer: ReactorTimer | null = null;
  #lastReload: AgentStatus["lastReload"] = null;
  #stopping: Promise<void> | null = null;
  #done!: () => void;
  /** Resolves when the agent has stopped. */
  readonly done: Promise<void>;
  #reloadChain: Promise<unknown> = Promise.resolve();
  /** The loader's number of the running plan (its reload diffs are relative to one). */
  #planSeq: number | null = null;
  /** The service manager (sd_notify), or null when none listens. */
  readonly #service: ServiceNotifier | null;
  /** Retries of instances whose VRRP sockets could not be opened. */
  readonly #socketRetry: SocketRetry;
  readonly #testHooks: boolean;
  readonly #onStopRequest: (opts: LvsStopOptions) => void;

  constructor(opts: {
    configFile: string;
    load: PlanLoader;
    log: Logger;
    /** Loads the load-balancer side; called only once a configuration has virtual servers. */
    lvs?: () => Promise<LvsFactory>;
    /** Told READY / RELOADING / STOPPING / STATUS; fed the watchdog from the VRRP loop. */
    service?: ServiceNotifier | null;
    /** Test builds only (HAAGENT_TEST_HOOKS=1): the `test-stall` and `test-gc` control commands. */
    testHooks?: boolean;
    /**
     * Called for the control socket's `stop` (`haagent stop`): the CLI stops the agent as it
     * does on SIGTERM (with its deadline). Default: `stop(opts)`.
     */
    onStopRequest?: (opts: LvsStopOptions) => void;
  }) {
    this.#configFile = opts.configFile;
    this.#load = opts.load;
    this.#log = opts.log;
    this.#lvsFactory = opts.lvs ?? null;
    this.#service = opts.service ?? null;
    this.#testHooks = opts.testHooks ?? false;
    this.#onStopRequest = opts.onStopRequest ?? ((o) => void this.stop(o));
    this.#reactor = new Reactor({
      onFailure: failureLogger(opts.log.child("reactor")),
      waitOnThread: Deno.env.get("HAAGENT_REACTOR_WAIT") !== "helper",
    });
    this.#clock = new ReactorClock(this.#reactor, failureLogger(opts.log.child("clock")));
    this.#socketRetry = new SocketRetry(this.#clock, {
      retry: (name) => {
        const r = this.#runners.get(name);
        if (r === undefined) return true;
        r.refresh();
        return r.bound;
      },
      giveUp: (name, why, attempts) => this.#cannotWork(name, why, attempts),
    });
    this.#scriptsQueue = new ScriptQueue(opts.log.child("scripts"));
    this.#notifier = new Notifier(this.#scriptsQueue, opts.log.child("notify"));
    this.#tracking = new TrackingRuntime(this.#clock, opts.log.child("track"), (names) => {
      for (const n of names) this.#updateTracking(n);
    });
    this.done = new Promise((r) => (this.#done = r));
  }

  /** The pid file this agent wrote, or null before it wrote one. */
  get pidFile(): string | null {
    return this.#pidFile;
  }

  /** Starts everything; throws (with every configuration error) when the file is refused. */
  async start(): Promise<void> {
    raiseOpenFilesLimit(this.#log);
    const loaded = await this.#load();
    if (!loaded.ok) throw new ConfigRefused(loaded.errors);
    for (const w of loaded.warnings) this.#log.warn(w);
    const plan = loaded.plan;
    this.#log.setLevel(plan.logLevel);
    this.#plan = plan;
    this.#planSeq = loaded.seq ?? null;
    this.#applyMail(plan);
    this.#applyScriptPolicy(plan);
    await writePidFile(plan.pidFile);
    this.#pidFile = plan.pidFile;
    const reactor = this.#reactor;
    reactor.run().catch((e) => this.#log.error(`event loop stopped: ${e}`));
    // IPVS first: the load-balancer side starts before anything that can wait, also when the
    // file has no virtual server left but an earlier agent's services are still ours.
    const lvsStarting = plan.hasVirtualServers ||
        (await readIpvsState(ipvsStatePath(plan.pidFile), () => {}))?.owned.length
      ? this.#startLvs(loaded.lvs).then(() => null, (e: unknown) => e)
      : Promise.resolve(null);
    // The keep-alive runs on this thread's Reactor timers: a stalled VRRP loop stops it.
    this.#service?.attach(this.#clock, () => this.summary());
    this.#rtnl = Rtnl.open(reactor);
    await this.#links.load(this.#rtnl);
    this.#events = this.#rtnl.subscribe((e) => this.#onRtnl(e));
    this.#transport = new SocketTransport(reactor, this.#log.child("transport"), () => {
      this.#unknownVrid++;
    }, { ipv4: plan.mcastGroup4, ipv6: plan.mcastGroup6 });
    this.#frames = new FramePort(this.#log.child("announce"));
    this.#control = await ControlServer.listen(plan.control, {
      status: () => this.status(),
      reload: () => this.reload(),
      stop: (req) => {
        const ipvs = req.ipvs === "keep" || req.ipvs === "remove" ? req.ipvs : undefined;
        this.#onStopRequest(ipvs !== undefined ? { ipvs } : {});
        return { stopping: true };
      },
      ...(this.#testHooks
        ? { "test-stall": (req) => this.#testStall(req), "test-gc": () => testGc() }
        : {}),
    }, (e) => this.#log.warn(`control socket: ${e}`));
    if (plan.metricsListen !== null) {
      this.#metrics = serveMetrics(
        plan.metricsListen,
        () => this.status(),
        (m) => this.#log.warn(m),
      );
    }
    this.#kernel = new VrrpKernel({ rtnl: this.#rtnl, links: this.#links, log: this.#log });
    this.#kernel.start();
    await this.#removeLeftoverVips(plan.instances);
    this.#statics = new StaticRouting(
      this.#rtnl,
      this.#log.child("static"),
      (n) => this.#links.link(n)?.index ?? null,
    );
    await this.#statics.start(plan.statics);
    await this.#startAnnounce(plan);
    this.#tracking.apply(plan);
    for (const ip of plan.instances) this.#startInstance(ip);
    this.#buildGroups(plan.syncGroups);
    const lvsFailed = await lvsStarting;
    if (lvsFailed !== null) throw lvsFailed;
    // Instances have started and the load-balancer side has reported its first quorum.
    this.#announce?.complete();
    this.#pushSyncRole();
    this.#realtime = plan.realtimePriority;
    this.#applyHelperNice();
    if (this.#realtime !== null) this.#applyRealtime(this.#realtime);
    // The runtime starts some threads lazily: apply again once they exist.
    this.#clock.setTimer(1000, () => {
      this.#applyHelperNice();
      if (this.#realtime !== null) this.#applyRealtime(this.#realtime, true);
      if (this.#reactor.wantsWaitOnThread && !this.#reactor.waitsOnThread) {
        this.#log.info(
          "the event loop waits on a runtime helper thread (the runtime's epoll fd was not found)",
        );
      }
    });
    this.#sweepRuntimeThreads();
    this.#scheduleCompaction();
    this.#reactor.onFallback(() => this.#sweepRuntimeThreads());
    this.#log.info(
      `haagent ${VERSION} started: ${plan.instances.length} VRRP instance(s), ` +
        `control ${plan.control}, pid ${Deno.pid}`,
    );
    this.#service?.ready();
  }

  /** The agent in one line (the service manager's STATUS=): `3 MASTER, 1 BACKUP, ...`. */
  summary(): string {
    const states = new Map<string, number>();
    for (const r of this.#runners.values()) states.set(r.state, (states.get(r.state) ?? 0) + 1);
    const lvs = this.#lvs?.status() ?? null;
    let realServers: { up: number; total: number } | null = null;
    if (lvs !== null && lvs.virtualServers.length > 0) {
      realServers = { up: 0, total: 0 };
      for (const vs of lvs.virtualServers) {
        for (const rs of vs.realServers) {
          realServers.total++;
          if (rs.up) realServers.up++;
        }
      }
    }
    return formatSummary({
      states,
      realServers,
      ipvsUnavailable: this.#plan?.hasVirtualServers && lvs !== null && !lvs.ipvs.available
        ? lvs.ipvs.reason
        : null,
      reloadRefused: this.#lastReload?.ok === false,
    });
  }

  /**
   * An instance still cannot open its VRRP sockets after every retry: the agent cannot do its
   * job, so it asks the service manager for a restart (retries go on meanwhile).
   */
  #cannotWork(name: string, why: string, attempts: number): void {
    const msg = `instance ${name} cannot open its VRRP sockets after ${attempts} attempts: ${why}`;
    if (this.#service === null) {
      this.#log.error(`${msg}; retrying every 30 s (no service manager to restart the agent)`);
      return;
    }
    this.#service.trigger(msg);
  }

  /**
   * Test builds only: blocks this thread (the VRRP event loop) for `ms` from its next timer
   * turn, as a wedged agent would; answers at once.
   */
  #testStall(req: Record<string, unknown>): { stallMs: number } {
    const ms = Math.min(Math.max(Number(req.ms) || 0, 0), 60_000);
    this.#clock.setTimer(0, () => {
      this.#log.warn(`test-stall: blocking the event loop for ${ms} ms`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    });
    return { stallMs: ms };
  }

  /**
   * The threads doing bulk work (the load-balancer worker with its checks, V8's garbage
   * collector and compiler threads) run at nice `global.checker_nice` (default 10), and the
   * others ask the fair scheduler for a 100 us slice, so that the VRRP thread gets a core as soon
   * as its timer fires. Neither needs a privilege (a negative nice does); a failure is logged.
   */
  #applyHelperNice(): void {
    try {
      setHelperNice(this.#plan?.checkerNice ?? 10);
      if (this.#realtime === null) setLatencySlice(100);
    } catch (e) {
      this.#log.warn(`${(e as Error).message}: helper threads keep their priority`);
    }
  }

  /**
   * The runtime's pool threads run the Reactor's wait, so the VRRP thread's timers wake through
   * one of them; one that a worker started has the worker's nice 10 and loses the CPU on a busy
   * machine (the VRRP thread was seen asleep in epoll_wait for 0.41 and 1.25 s while adverts
   * were due): they get the VRRP thread's scheduling (`promoteRuntimeThreads`). A failure (no
   * CAP_SYS_NICE) is logged once.
   */
  #promoteRuntimeThreads(): void {
    try {
      const { error } = promoteRuntimeThreads(this.#runtimeThreads, this.#realtime, 100);
      if (error !== null && !this.#runtimeThreadsWarned) {
        this.#runtimeThreadsWarned = true;
        this.#log.warn(
          `${error.message}: runtime threads started by helper threads keep their nice ` +
            `(without CAP_SYS_NICE adverts may be late on a busy machine)`,
        );
      }
    } catch { /* /proc unreadable: the threads keep what they have */ }
  }

  /**
   * Looks for new pool threads now, then every second (100 ms during a reload) until stop, while
   * the Reactor waits on a helper thread. While it waits on this thread no pool thread wakes the
   * VRRP timers: no scan and no timer (a wake-up a second for nothing); the Reactor calls this
   * again if it falls back to a helper thread.
   */
  #sweepRuntimeThreads(): void {
    this.#sweepTimer?.cancel();
    this.#sweepTimer = null;
    if (this.#stopping !== null || this.#reactor.waitsOnThread) return;
    this.#promoteRuntimeThreads();
    this.#sweepTimer = this.#clock.setTimer(
      this.#reloading > 0 ? 100 : 1000,
      () => this.#sweepRuntimeThreads(),
    );
  }

  /**
   * At `COMPACT_AFTER_MS` from now (a start or a reload: the bursts of allocation), gives memory
   * back (lib/runtime/memory.ts): the first time V8's heap is compacted too, when every
   * instance advertises at `DEEP_COMPACT_MIN_ADVERT_MS` or slower; malloc's free pages go back
   * to the kernel each time. A reload under way puts it off (and its end starts over).
   */
  #scheduleCompaction(step = 0): void {
    this.#compactTimer?.cancel();
    this.#compactTimer = null;
    const at = COMPACT_AFTER_MS[step];
    if (at === undefined) return;
    const after = at - (COMPACT_AFTER_MS[step - 1] ?? 0);
    this.#compactTimer = this.#clock.setTimer(after, () => {
      this.#compactTimer = null;
      if (this.#stopping !== null) return;
      if (this.#reloading > 0) return this.#scheduleCompaction(step);
      const deep = step === 0 &&
        (this.#plan?.instances.every((i) =>
          i.spec.advertIntervalCs * 10 >= DEEP_COMPACT_MIN_ADVERT_MS
        ) ?? false);
      const r = compactMemory(deep);
      this.#scheduleCompaction(step + 1);
      this.#log.debug(
        `memory given back in ${r.ms.toFixed(1)} ms (V8 heap compacted: ${r.collected}, ` +
          `malloc trimmed: ${r.trimmed})`,
      );
    });
  }

  #applyRealtime(priority: number, quiet = false): void {
    try {
      const n = setRealtimePriority(priority);
      if (!quiet) this.#log.info(`realtime priority ${priority} (SCHED_RR) on ${n} thread(s)`);
    } catch (e) {
      this.#log.warn(`${(e as Error).message}: running with the normal scheduler`);
    }
  }

  /** Opens the announce table and lists what an earlier run left in it. */
  async #startAnnounce(plan: Plan): Promise<void> {
    const rtnl = this.#rtnl!;
    this.#announce = new AnnounceRuntime({
      writer: rtnl,
      log: this.#log.child("announce"),
      clock: this.#clock,
      linkIndex: (name) => this.#links.link(name)?.index ?? null,
      instanceState: (name) => this.#runners.get(name)?.state ?? null,
      holder: (family, address) => this.#links.holder(family, address),
    });
    await this.#announce.start(plan.announce);
  }

  /** The load-balancer side's quorum reports reach the announce table at once. */
  #onQuorum(reports: QuorumReport[]): void {
    this.#announce?.setQuorum(reports);
  }

  /** Loads and starts the load-balancer side (its modules load only when needed). */
  async #startLvs(lvs: unknown): Promise<void> {
    if (this.#lvsFactory === null) return;
    const factory = await this.#lvsFactory();
    this.#lvs = factory({
      clock: this.#clock,
      reactor: this.#reactor,
      log: this.#log.child("lvs"),
      scripts: this.#scriptsQueue,
      onQuorum: (reports) => this.#onQuorum(reports),
    });
    await this.#lvs.start(lvs, { stateFile: ipvsStatePath(this.#pidFile ?? "/run/haagent") });
  }

  /** VIPs found on interfaces at start (left by a crash) are removed unless we own them. */
  async #removeLeftoverVips(instances: InstancePlan[]): Promise<void> {
    const rtnl = this.#rtnl!;
    for (const ip of instances) {
      if (ip.spec.priority === 255) continue;
      for (const v of ip.spec.vips) {
        // A VMAC left by a crash is reused: its VIPs are leftovers too.
        const own = v.family === ip.spec.family && ip.spec.vmac != null;
        const link = this.#links.link(v.device ?? (own ? ip.spec.vmac!.name : ip.spec.interface));
        if (link === null) continue;
        const b = parseIp(v.address)!.bytes;
        const present = this.#links.addresses(link.index).some((a) =>
          a.family === v.family && formatIp(parseIp(a.address)!.bytes) === formatIp(b)
        );
        if (!present) continue;
        this.#log.warn(
          `removing leftover VIP ${v.address}/${v.prefix} from ${link.name} ` +
            `(instance ${ip.spec.name} starts as backup)`,
        );
        await rtnl.deleteAddress({
          ifindex: link.index,
          ifname: link.name,
          address: v.address,
          prefix: v.prefix,
        }).catch((e) => this.#log.warn(`cannot remove leftover VIP: ${(e as Error).message}`));
      }
    }
  }

  #startInstance(ip: InstancePlan): void {
    const vips = new Set(ip.spec.vips.map((v) => v.address));
    this.#socketRetry.forget(ip.spec.name);
    const runner = new VrrpRunner(ip.spec, {
      clock: this.#clock,
      log: this.#log,
      transport: this.#transport!,
      table: this.#rtnl!,
      announcePort: this.#frames!,
      link: (name) => this.#links.link(name),
      sourceAddress: (ifindex, family) => {
        const a = this.#links.sourceAddress(ifindex, family, vips);
        return a === null ? null : parseIp(a)!.bytes;
      },
      forwarding: ipv6Forwarding,
      onState: (r, from, to, reason) => this.#onState(r, from, to, reason),
      busy: () => this.#reactor.busy(),
      socketError: (r, e) => {
        if (this.#runners.get(r.spec.name) === r) this.#socketRetry.failed(r.spec.name, e);
      },
      guards: (spec) => this.#kernel!.guards(spec),
      writers: (spec) => this.#announce === null ? [] : [this.#announce.writerFor(spec.name)],
    });
    this.#runners.set(ip.spec.name, runner);
    this.#instancePlans.set(ip.spec.name, ip);
    runner.start();
    this.#kernel!.instanceStarted(ip.spec, () => runner.refresh());
    this.#updateTracking(ip.spec.name);
  }

  #onState(r: VrrpRunner, from: VrrpState, to: VrrpState, reason: string): void {
    const ip = this.#instancePlans.get(r.spec.name);
    this.#announce?.refresh();
    if (ip?.smtpAlert) this.#mail("INSTANCE", r.spec.name, to);
    if (this.#plan?.syncInstance === r.spec.name) this.#pushSyncRole();
    if (ip !== undefined) {
      this.#notifier.notify(
        "INSTANCE",
        r.spec.name,
        ip.notify,
        to,
        r.effectivePriority,
        null,
      );
    }
    this.#service?.statusChanged();
    void from, reason;
  }

  /** Tells the load-balancer side the sync daemon's role: master while its instance is MASTER. */
  #pushSyncRole(): void {
    const name = this.#plan?.syncInstance ?? null;
    // Stopping: the load-balancer side stops both daemons itself.
    if (name === null || this.#lvs === null || this.#stopping !== null) return;
    const master = this.#runners.get(name)?.state === "MASTER";
    this.#lvs.setSyncRole(master ? "master" : "backup").catch((e) =>
      this.#log.error(`IPVS sync daemon: ${(e as Error).message}`)
    );
  }

  /** Sends the e-mail alert for `name` entering `state`, once per state (as keepalived). */
  #mail(kind: "INSTANCE" | "GROUP", name: string, state: VrrpState): void {
    if (this.#mailer === null) return;
    const key = `${kind}:${name}`;
    if (this.#mailedState.get(key) === state) return;
    const alert = vrrpAlert(kind, name, state, this.#plan?.noEmailFaults ?? false);
    if (alert === null) return;
    this.#mailedState.set(key, state);
    this.#mailer.send(alert.subject, alert.body);
  }

  /**
   * The script policy (script_user, keepalived_script, enable_script_security) for this thread,
   * and every configured script checked at once, so that a refusal is logged at start, naming
   * the path and the permission.
   */
  #applyScriptPolicy(plan: Plan): void {
    const log = this.#log.child("scripts");
    let passwd = "";
    try {
      passwd = Deno.readTextFileSync("/etc/passwd");
    } catch { /* no users: only numeric ids resolve */ }
    const d = scriptPolicy.configure(
      { security: plan.scriptSecurity, scriptUser: plan.scriptUser, passwd },
      log,
    );
    const scripts: { command: string; user: string | null }[] = [
      ...Object.values(plan.scripts).map((s) => ({ command: s.command, user: s.user })),
      ...[...plan.instances.map((i) => i.notify), ...plan.syncGroups.map((g) => g.notify)]
        .flatMap((n) => [n.master, n.backup, n.fault, n.stop, n.any])
        .filter((c): c is string => c !== null)
        .map((command) => ({ command, user: null })),
    ];
    if (scripts.length === 0 && !plan.hasVirtualServers) return;
    if (!d.ok) log.error(d.reason);
    else if (d.notice !== null) log.warn(d.notice);
    for (const s of scripts) auditScript(s.command, s.user ?? undefined);
    if (!plan.scriptSecurity && scripts.length > 0) {
      log.info(
        `scripts run without enable_script_security${
          scriptPolicy.unsafeSeen ? "; some are unsafe (see above)" : ""
        }`,
      );
    }
  }

  /** A mailer for the plan's relay, keeping the current one when the settings did not change. */
  #applyMail(plan: Plan): void {
    this.#mailer = mailerFor(this.#mailer, plan.mail, this.#log.child("mail"));
  }

  // ---- tracking -----------------------------------------------------------------------

  #updateTracking(name: string): void {
    const ip = this.#instancePlans.get(name);
    const runner = this.#runners.get(name);
    if (ip === undefined || runner === undefined) return;
    const t = this.#tracking.compute(ip, (n) => this.#links.link(n)?.up ?? false);
    if (t !== null) runner.setTracking(t.fault, t.reasons, t.priority);
  }

  // ---- sync groups --------------------------------------------------------------------

  #buildGroups(plans: SyncGroupPlan[]): void {
    for (const g of this.#groups) g.group?.[Symbol.dispose]();
    this.#groups = plans.map((plan) => ({ plan, group: null, state: "INIT" as VrrpState }));
    this.#maybeRebuildGroups();
  }

  #maybeRebuildGroups(): void {
    for (const g of this.#groups) {
      const members = g.plan.members.map((m) => this.#runners.get(m)?.instance ?? null);
      const ready = members.every((m) => m !== null);
      const current = g.group?.members ?? [];
      const same = ready && current.length === members.length &&
        current.every((m, i) => m === members[i]);
      if (same || !ready) continue;
      g.group?.[Symbol.dispose]();
      g.group = new SyncGroup(
        g.plan.name,
        members as NonNullable<(typeof members)[number]>[],
        (c) => {
          g.state = c.to;
          this.#log.info(`sync group ${c.group}: ${c.from} -> ${c.to} (${c.reason})`);
          if (g.plan.smtpAlert) this.#mail("GROUP", g.plan.name, c.to);
          this.#notifier.notify(
            "GROUP",
            g.plan.name,
            g.plan.notify,
            c.to,
            0,
            null,
          );
        },
      );
    }
  }

  // ---- kernel events ------------------------------------------------------------------

  #onRtnl(e: RtnlEvent): void {
    if (e.kind === "overrun") {
      this.#log.warn("rtnetlink events were lost (overrun): re-reading interfaces");
      this.#links.load(this.#rtnl!).then(() => {
        this.#announce?.refresh();
        for (const r of this.#runners.values()) r.refresh();
      }).catch((err) => this.#log.error(`cannot re-read interfaces: ${err}`));
      return;
    }
    const wasUp = e.kind === "link" ? this.#links.link(e.link.name)?.up ?? null : null;
    this.#links.apply(e);
    if (e.kind === "link" && (e.deleted || this.#links.link(e.link.name)?.up !== wasUp)) {
      // The kernel drops routes through an interface that goes down or away.
      this.#announce?.linkChanged(e.link.name);
    }
    // An interface appeared or went, an address moved: where routes point may change.
    this.#announce?.refresh();
    if (e.kind === "link") {
      const name = e.link.name;
      this.#kernel?.linkChanged(name, e.deleted);
      for (const r of this.#runners.values()) {
        if (r.spec.interface === name || r.spec.vmac?.name === name) r.refresh();
      }
      for (const [n, ip] of this.#instancePlans) {
        if (ip.trackInterfaces.some((t) => t.name === name)) this.#updateTracking(n);
      }
    } else if (e.deleted) {
      const address = parseIp(e.address.address);
      if (address === null) return;
      for (const r of this.#runners.values()) r.addressDeleted(e.address.ifindex, address.bytes);
    } else {
      // A waiting instance may have got its source address.
      for (const r of this.#runners.values()) {
        const names = [r.spec.interface, ...(r.spec.vmac != null ? [r.spec.vmac.name] : [])];
        if (names.some((n) => this.#links.link(n)?.index === e.address.ifindex)) r.refresh();
      }
    }
  }

  // ---- reload and stop ----------------------------------------------------------------

  /** Re-reads the file; unchanged instances keep their state and VIPs. Never throws. */
  reload(): Promise<{ ok: boolean; message: string }> {
    this.#service?.reloadBegin();
    this.#reloading++;
    if (this.#sweepTimer !== null) this.#sweepRuntimeThreads();
    const next = this.#reloadChain.then(() => this.#reload());
    this.#reloadChain = next.catch(() => {});
    next.finally(() => {
      this.#reloading--;
      this.#service?.reloadDone();
    }).catch(() => {});
    return next;
  }

  async #reload(): Promise<{ ok: boolean; message: string }> {
    const at = new Date().toISOString();
    let loaded;
    try {
      loaded = await this.#load();
    } catch (e) {
      loaded = { ok: false as const, errors: [String(e)] };
    }
    if (!loaded.ok) {
      for (const err of loaded.errors) this.#log.error(err);
      const message = `reload refused: ${loaded.errors.length} error(s) in ${this.#configFile}; ` +
        `the running configuration goes on`;
      this.#log.error(message);
      this.#lastReload = { at, ok: false, message };
      return { ok: false, message };
    }
    for (const w of loaded.warnings) this.#log.warn(w);
    const plan = loaded.plan;
    const old = this.#plan!;
    for (const k of ["pidFile", "control"] as const) {
      if (plan[k] !== old[k]) this.#log.warn(`${k} ${plan[k]} takes effect at the next start`);
    }
    this.#log.setLevel(plan.logLevel);
    this.#plan = plan;
    // A replaced mailer still sends what it has queued.
    this.#applyMail(plan);
    this.#applyScriptPolicy(plan);
    await this.#statics?.reload(plan.statics);
    // The loader thread diffs against the plan it loaded before, when that is the running one.
    const d = loaded.diff !== undefined && this.#planSeq !== null &&
        loaded.diff.from === this.#planSeq
      ? loaded.diff.value
      : diffReload(old, plan);
    this.#planSeq = loaded.seq ?? null;
    // Applying it yields to the event loop every few ms: adverts stay on time. A stop that
    // begins meanwhile ends the reload (the stop takes the runners as they are).
    const slicer = new Slicer(APPLY_SLICE_MS);
    const stopped = async () => {
      await slicer.due();
      return this.#stopping !== null;
    };
    const interrupted = () => {
      const message = `reload of ${this.#configFile} interrupted: the agent is stopping`;
      this.#log.warn(message);
      return { ok: false, message };
    };
    const nextPlans = new Map(plan.instances.map((i) => [i.spec.name, i]));
    for (const name of d.hooksChanged) {
      // New hooks (notify scripts, e-mail alerts) apply from the next transition.
      this.#instancePlans.set(name, nextPlans.get(name)!);
      this.#log.info(`instance ${name}: new notify / smtp_alert settings`);
    }
    for (const { name, from, to } of d.reprioritized) {
      // A new priority applies from the next advert: no restart, no VIP flap.
      this.#instancePlans.set(name, nextPlans.get(name)!);
      this.#runners.get(name)?.setBasePriority(to);
      this.#log.info(`instance ${name}: priority ${from} -> ${to}`);
      if (await stopped()) return interrupted();
    }
    for (const name of [...d.restarted, ...d.removed]) {
      const runner = this.#runners.get(name);
      if (runner === undefined) continue;
      runner.stop();
      await runner.settled();
      await this.#kernel?.instanceStopped(runner.spec);
      this.#socketRetry.forget(name);
      this.#runners.delete(name);
      this.#instancePlans.delete(name);
      if (await stopped()) return interrupted();
    }
    this.#tracking.apply(plan);
    for (const ip of plan.instances) {
      if (!this.#runners.has(ip.spec.name)) this.#startInstance(ip);
      if (await stopped()) return interrupted();
    }
    for (const name of [...this.#runners.keys()]) {
      this.#updateTracking(name);
      if (await stopped()) return interrupted();
    }
    if (d.rebuildGroups) this.#buildGroups(plan.syncGroups);
    if (this.#lvs !== null) await this.#lvs.reload(loaded.lvs);
    else if (plan.hasVirtualServers) await this.#startLvs(loaded.lvs);
    await this.#announce?.reload(plan.announce);
    this.#pushSyncRole();
    // checker_nice may have changed; a new worker thread was created by a SCHED_RR thread.
    this.#applyHelperNice();
    if (this.#realtime !== null) this.#applyRealtime(this.#realtime, true);
    this.#reloads++;
    this.#scheduleCompaction();
    const message = `reloaded ${this.#configFile}: ` +
      `${d.unchanged.length + d.hooksChanged.length} instance(s) unchanged, ` +
      `${d.reprioritized.length} with a new priority, ${d.restarted.length} restarted, ` +
      `${d.added.length} added, ${d.removed.length} removed`;
    this.#log.info(message);
    this.#lastReload = { at, ok: true, message };
    return { ok: true, message };
  }

  /**
   * Stops cleanly: masters send priority 0 and remove their VIPs; files are removed; IPVS
   * services go or stay as `opts.ipvs` or `global.ipvs_on_stop` says.
   */
  stop(opts: LvsStopOptions = {}): Promise<void> {
    // Assigned before `#stop` runs, so that callbacks during the stop see it.
    this.#stopping ??= Promise.resolve().then(() => this.#stop(opts));
    return this.#stopping;
  }

  /**
   * Every step runs whatever the others did: one that throws is logged and the stop goes on,
   * so `done` always resolves (run.ts ends the process anyway after STOP_DEADLINE_MS).
   */
  async #stop(opts: LvsStopOptions): Promise<void> {
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        this.#log.error(`stop: ${what} failed: ${e instanceof Error ? e.message : e}`);
      }
    };
    try {
      this.#log.info("stopping");
      await step("systemd notify", () => this.#service?.stopping());
      await step("socket retries", () => this.#socketRetry[Symbol.dispose]());
      this.#compactTimer?.cancel();
      this.#compactTimer = null;
      // Withdrawn first: the network stops sending us traffic while the VIPs are still here.
      await step("announce", () => this.#announce?.stop());
      for (const g of this.#groups) {
        await step(`sync group ${g.plan.name}`, () => g.group?.[Symbol.dispose]());
      }
      for (const r of this.#runners.values()) await step(`instance ${r.spec.name}`, () => r.stop());
      await step(
        "VIP removal",
        () => Promise.all([...this.#runners.values()].map((r) => r.settled())),
      );
      await step("kernel settings", () => this.#kernel?.stop());
      await step("static addresses and routes", () => this.#statics?.stop());
      await step("tracking", () => this.#tracking.stop());
      if (this.#lvs !== null) await step("load balancer", () => this.#lvs!.stop(opts));
      // Notify scripts and mail get 5 s; the notify FIFO its own 1 s in close(): a FIFO nobody
      // reads never drains, and waiting for it delayed the stop by the whole 5 s.
      await step("scripts", () =>
        Promise.race([
          Promise.all([this.#scriptsQueue.idle(), this.#mailer?.idle() ?? Promise.resolve()]),
          new Promise((r) => setTimeout(r, 5000)),
        ]));
      await step("notify", () => this.#notifier.close());
      await step("control socket", () => this.#control?.close());
      await step("metrics", () => this.#metrics?.shutdown());
      await step("rtnetlink events", () => this.#events?.[Symbol.dispose]());
      await step("rtnetlink", () => this.#rtnl?.[Symbol.dispose]());
      await step("VRRP sockets", () => this.#transport?.[Symbol.dispose]());
      await step("announce socket", () => this.#frames?.[Symbol.dispose]());
      await step("clock", () => this.#clock[Symbol.dispose]());
      await step("event loop", () => this.#reactor.close());
      if (this.#pidFile !== null) await removePidFile(this.#pidFile);
    } finally {
      this.#log.info("stopped");
      this.#done();
    }
  }

  // ---- status -------------------------------------------------------------------------

  /** The agent's state for `haagent status`. */
  status(): AgentStatus {
    const instances: InstanceStatus[] = [];
    const drops: Record<string, number> = { "unknown-vrid": this.#unknownVrid };
    for (const r of this.#runners.values()) {
      const inst = r.instance;
      const s = r.spec;
      const d = r.counters.snapshot() as Record<string, number>;
      d["peer"] = r.peerDrops;
      for (const [k, n] of Object.entries(d)) drops[k] = (drops[k] ?? 0) + n;
      instances.push({
        name: s.name,
        interface: s.interface,
        vrid: s.vrid,
        version: s.version,
        family: s.family,
        state: r.state,
        reason: r.reason,
        since: r.since.toISOString(),
        priority: s.priority,
        effectivePriority: r.effectivePriority,
        advertIntervalMs: s.advertIntervalCs * 10,
        masterAdverIntervalMs: (inst?.masterAdverIntCs ?? s.advertIntervalCs) * 10,
        masterAddress: r.masterAddress,
        preempt: s.preempt,
        preemptDelayMs: s.preemptDelayMs,
        unicastPeers: s.unicastPeers,
        vmac: s.vmac?.name ?? null,
        accept: s.accept ?? true,
        vips: s.vips.map((v) => `${v.address}/${v.prefix}`),
        faults: r.faults,
        stats: inst ? { ...inst.stats() } as unknown as Record<string, number> : {},
        drops: d,
      });
    }
    const lvs = this.#lvs?.status() ?? {
      ipvs: {
        available: false,
        reason: "no virtual servers configured",
        services: 0,
        lastOps: 0,
        errors: 0,
        syncDaemon: null,
      },
      virtualServers: [],
      mail: null,
    };
    return {
      version: VERSION,
      pid: Deno.pid,
      routerId: this.#plan?.routerId ?? "",
      configFile: this.#configFile,
      startedAt: this.#startedAt.toISOString(),
      uptimeS: Math.round((Date.now() - this.#startedAt.getTime()) / 1000),
      reloads: this.#reloads,
      lastReload: this.#lastReload,
      process: { ...processStatus(), waits: this.#reactor.waits },
      instances,
      syncGroups: this.#groups.map((g) => ({
        name: g.plan.name,
        members: g.plan.members,
        state: g.group?.state ?? "INIT",
      })),
      ipvs: lvs.ipvs,
      virtualServers: lvs.virtualServers,
      tracked: this.#tracking.status(),
      mail: sumMail(this.#mailer?.stats ?? null, lvs.mail ?? null),
      announce: this.#announce?.status() ?? null,
      drops,
    };
  }
}

export { PidFileInUse };

/** The configuration was refused; `errors` are formatted `FILE:LINE:COL: ...` lines. */
export class ConfigRefused extends Error {
  readonly errors: string[];
  constructor(errors: string[]) {
    super(`configuration refused (${errors.length} error(s))`);
    this.name = "ConfigRefused";
    this.errors = errors;
  }
}

/**
 * Test builds only: a full garbage collection, then the VRRP thread's memory (a leak test reads
 * the heap after each batch of reloads). Needs `--v8-flags=--expose-gc`.
 */
function testGc(): Deno.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("test-gc needs --v8-flags=--expose-gc");
  gc();
  return Deno.memoryUsage();
}

/** The process's memory and open file descriptors. */
function processStatus(): Omit<AgentStatus["process"], "waits"> {
  const m = Deno.memoryUsage();
  let openFds = -1;
  try {
    openFds = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) openFds++;
  } catch {
    openFds = -1;
  }
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, openFds };
}

/** The pid file names another process that is running: is another agent running? */
/** Whether IPv6 forwarding is on for an interface (RFC 4861: NAs then carry the Router flag). */
function ipv6Forwarding(ifname: string): boolean {
  try {
    return Deno.readTextFileSync(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`).trim() === "1";
  } catch {
    return false;
  }
}

/** Mail counters of both threads, or null when neither sends mail. */
function sumMail(a: MailStatus | null, b: MailStatus | null): MailStatus | null {
  if (a === null) return b;
  if (b === null) return a;
  return { sent: a.sent + b.sent, failed: a.failed + b.failed, dropped: a.dropped + b.dropped };
}
