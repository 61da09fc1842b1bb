/**
 * The load-balancer runtime: one CheckRunner per check of every real server, real server
 * state (all checks up = up), quorum with hysteresis, notify scripts, and IPVS programmed
 * through the reconciler after every change and periodically (rules changed by hand are put
 * back). Without IPVS in the kernel the checkers still run and status says why.
 *
 * @module
 */
import { CheckRunner, IcmpService, makeChecker } from "../check/mod.ts";
import type { Config } from "../config/types.ts";
import { checkerAlerts, mailSettings } from "../config/alerts.ts";
import { type Mailer, mailerFor } from "../runtime/mail.ts";
import { auditScript } from "../runtime/script.ts";
import { scriptPolicy } from "../runtime/script_security.ts";
import type { SyncDaemon } from "../ipvs/codec.ts";
import { IpvsManager } from "../ipvs/manager.ts";
import type { DesiredService } from "../ipvs/types.ts";
import type { Timer } from "../runtime/clock.ts";
import type { LvsFactory, LvsRuntime, LvsStartOptions, LvsStopOptions } from "./lvs.ts";
import { type IpvsState, readIpvsState, writeIpvsState } from "./ipvs_state.ts";
import {
  aliveWeight,
  buildModels,
  desiredFor,
  liveWeight,
  nextQuorum,
  type RsModel,
  type RsState,
  startQuorum,
  type VsModel,
} from "./lvs_model.ts";
import type { RealServerStatus, VirtualServerStatus } from "./status_types.ts";
import { type QuorumReport, virtualServerKey } from "../announce/plan.ts";

/**
 * How often IPVS is compared with the configuration even when nothing changed (to put back
 * rules changed by hand): every 10 s, or 20 times the last pass's duration when a large table
 * makes a pass slow, so resyncing never takes more than 5 % of the time.
 */
const RESYNC_MS = 10_000;
const RESYNC_FACTOR = 20;

interface RsRun {
  model: RsModel;
  runners: CheckRunner[];
  state: RsState;
  reason: string;
}

interface VsRun {
  model: VsModel;
  rs: Map<string, RsRun>;
  quorumUp: boolean;
}

/** Opens IPVS (the kernel's, or a fake kernel's in tests). */
export type IpvsOpener = (
  reactor: Parameters<LvsFactory>[0]["reactor"],
  log: Parameters<LvsFactory>[0]["log"],
) => Promise<IpvsManager | { unavailable: string }>;

/** Builds the LVS runtime (checkers + IPVS). */
export const makeLvsRuntime: LvsFactory = (deps) =>
  lvsRuntimeWith((reactor, log) => IpvsManager.open(reactor, log))(deps);

/** A factory of LVS runtimes that open IPVS with `openIpvs`. */
export const lvsRuntimeWith = (openIpvs: IpvsOpener): LvsFactory => (deps) => {
  const { clock, reactor, log, scripts } = deps;
  const onQuorum = deps.onQuorum ?? null;
  let lastQuorum = "";
  let ipvs: IpvsManager | null = null;
  let unavailable = "";
  let icmp: IcmpService | null = null;
  let vss = new Map<string, VsRun>();
  let lastOps = 0, errors = 0, lastPassMs = 0;
  let pending: Timer | null = null;
  let resync: Timer | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let heloName = "haagent";
  let mailer: Mailer | null = null;
  let config: Config | null = null;
  let syncRole: "master" | "backup" = "backup";
  let syncApplied = "null";
  let syncStatus: string | null = null;
  /** Where what this side owns is kept (ipvs_state.ts), or null. */
  let stateFile: string | null = null;
  let stateWritten = "";

  /** The sync daemon the configuration and the instance's role ask for, or null. */
  const wantedSync = (): SyncDaemon | null => {
    const sd = config?.global.lvsSyncDaemon;
    if (config === null || sd === undefined) return null;
    const vrid = config.vrrpInstances.find((i) => i.name === sd.instance)?.vrid ?? 0;
    return {
      role: syncRole,
      interface: sd.interface,
      syncId: sd.syncId ?? vrid,
      ...(sd.maxLen !== undefined ? { maxLen: sd.maxLen } : {}),
      ...(sd.group !== undefined ? { group: sd.group } : {}),
      ...(sd.port !== undefined ? { port: sd.port } : {}),
      ...(sd.ttl !== undefined ? { ttl: sd.ttl } : {}),
    };
  };

  /** Starts, switches or stops the kernel's sync daemon; a failure is retried at the resync. */
  const applySync = () => {
    if (ipvs === null || stopped) return;
    const m = ipvs;
    const d = wantedSync();
    const key = JSON.stringify(d);
    if (key === syncApplied) return;
    running = running.then(async () => {
      if (d === null) {
        await m.stopSyncDaemon("master");
        await m.stopSyncDaemon("backup");
        syncStatus = null;
      } else {
        await m.setSyncDaemon(d);
        syncStatus = `${d.role} on ${d.interface}, sync id ${d.syncId}`;
        log.info(`IPVS sync daemon: ${syncStatus}`);
      }
      syncApplied = key;
    }).catch((e) => {
      syncStatus = `failed: ${(e as Error).message}`;
      log.error(`IPVS sync daemon: ${(e as Error).message}`);
    });
  };

  /** Sends a checker alert when the objects' smtp_alert settings ask for one. */
  const mail = (vs: VsRun, rs: RsRun | null, subject: string, body: string) => {
    if (mailer === null || config === null) return;
    const g = config.global;
    if (!checkerAlerts(g, vs.model.config.smtpAlert, rs?.model.config.smtpAlert)) return;
    mailer.send(subject, `=> ${body} <=`);
  };

  const states = (v: VsRun) => new Map([...v.rs].map(([id, r]) => [id, r.state]));

  const desired = (): DesiredService[] =>
    [...vss.values()].flatMap((v) => desiredFor(v.model, states(v), v.quorumUp));

  const reconcile = () => {
    if (ipvs === null || stopped) return;
    const m = ipvs;
    running = running.then(async () => {
      const t0 = clock.now();
      const r = await m.reconcile(desired());
      lastPassMs = clock.now() - t0;
      lastOps = r.ops.length;
      errors += r.errors.length;
      for (const e of r.errors) log.error(`IPVS: ${e.error.message}`);
      await persist("running");
    }).catch((e) => log.error(`IPVS reconcile failed: ${(e as Error).message}`));
  };

  const schedule = () => {
    if (pending !== null) return;
    pending = clock.setTimer(0, () => {
      pending = null;
      reconcile();
    });
  };

  const runScript = (key: string, cmd: string | undefined, user?: string) => {
    if (cmd === undefined) return;
    scripts.enqueue(key, cmd, [], { timeoutMs: 30_000, ...(user ? { user } : {}) });
  };

  /** Logs a quorum change and runs its script and alert (`start`: the first decision). */
  const quorumChanged = (v: VsRun, alive: number, start: boolean) => {
    const q = v.quorumUp;
    const what = start
      ? `starting with quorum ${q ? "up" : "down"}`
      : `quorum ${q ? "gained" : "lost"}`;
    const facts = `alive weight ${alive}, quorum ${v.model.config.quorum}, ` +
      `hysteresis ${v.model.config.hysteresis}`;
    if (start) log.info(`virtual server ${v.model.name}: ${what} (${facts})`);
    else log.warn(`virtual server ${v.model.name}: ${what} (${facts})`);
    runScript(`VS:${v.model.name}`, q ? v.model.config.quorumUp : v.model.config.quorumDown);
    const verb = start
      ? `Starting with quorum ${q ? "up" : "down"}`
      : `${q ? "Gained" : "Lost"} quorum`;
    mail(v, null, `Virtualserver ${v.model.name} - ${q ? "UP" : "DOWN"}`, `${verb}: ${facts}`);
  };

  /** Tells the agent the quorum of every announcing virtual server, when any report changed. */
  const reportQuorum = () => {
    if (onQuorum === null || stopped) return;
    const reports: QuorumReport[] = [];
    for (const v of vss.values()) {
      if (!v.model.config.announce) continue;
      const st = states(v);
      reports.push({
        key: virtualServerKey(v.model.config),
        up: v.quorumUp,
        upServers: [...st.values()].filter((r) => r.up).length,
        servers: v.rs.size,
        aliveWeight: aliveWeight(v.model, st),
        quorum: v.model.config.quorum,
      });
    }
    const text = JSON.stringify(reports);
    if (text === lastQuorum) return;
    lastQuorum = text;
    onQuorum(reports);
  };

  const updateQuorum = (v: VsRun) => {
    const alive = aliveWeight(v.model, states(v));
    const q = nextQuorum(v.model, alive, v.quorumUp);
    if (q === v.quorumUp) return;
    v.quorumUp = q;
    quorumChanged(v, alive, false);
  };

  const onCheck = (vsId: string, rsId: string) => {
    // Looked up at call time, so checkers kept across a reload report to the new objects.
    const v = vss.get(vsId);
    const r = v?.rs.get(rsId);
    if (v === undefined || r === undefined) return;
    const up = r.runners.every((c) => c.up);
    const weights = r.runners.map((c) => c.lastResult).flatMap((o) =>
      o?.ok && o.weight !== undefined ? [o.weight] : []
    );
    const dynamicWeight = weights.length > 0 ? weights[weights.length - 1]! : null;
    const last = r.runners.find((c) => !c.up)?.lastResult;
    const reason = up ? "all checks pass" : last && !last.ok ? last.reason : "check failing";
    const changed = up !== r.state.up;
    if (!changed && dynamicWeight === r.state.dynamicWeight) return;
    r.state = { up, dynamicWeight };
    r.reason = reason;
    if (changed) {
      log.info(
        `real server ${r.model.name} of ${v.model.name} is ${up ? "UP" : "DOWN"}: ${reason}`,
      );
      runScript(`RS:${r.model.id}`, up ? r.model.config.notifyUp : r.model.config.notifyDown);
      mail(
        v,
        r,
        `Realserver ${r.model.name} of virtual server ${v.model.name} - ${up ? "UP" : "DOWN"}`,
        up ? "All checks succeed on service" : `CHECK failed on service: ${reason}`,
      );
    } else {
      log.info(
        `real server ${r.model.name} of ${v.model.name}: weight ` +
          `${liveWeight(r.model.config, r.state)}`,
      );
    }
    updateQuorum(v);
    reportQuorum();
    schedule();
  };

  /** `wasUp`: the state a previous agent left (a restart in place), else from alpha. */
  const startRs = (vsId: string, alpha: boolean, model: RsModel, wasUp?: boolean): RsRun => {
    const checked = model.checks.length > 0;
    const r: RsRun = {
      model,
      runners: [],
      state: { up: !checked || (wasUp ?? !alpha), dynamicWeight: null },
      reason: !checked
        ? "no checks"
        : wasUp === undefined
        ? "not checked yet"
        : `not checked yet (${wasUp ? "up" : "down"} before the restart)`,
    };
    if (
      icmp === null && model.checks.some((c) => c.type === "PING_CHECK" || c.type === "UDP_CHECK")
    ) {
      icmp = new IcmpService(reactor);
    }
    const target = { address: model.config.address, port: model.config.port };
    for (const spec of model.checks) {
      const checker = makeChecker(spec, target, {
        ...(icmp !== null ? { icmp: () => icmp! } : {}),
        reactor,
      });
      r.runners.push(
        new CheckRunner(spec, checker, clock, () => onCheck(vsId, model.id), {
          initiallyUp: wasUp ?? !spec.alpha,
          onFailedAttempt: (reason, attempt) =>
            log.info(
              `${spec.type} of real server ${model.name} failed (attempt ${attempt} of ` +
                `${spec.retry + 1}): ${reason}`,
            ),
        }),
      );
    }
    return r;
  };

  /**
   * Takes a configuration: the sync daemon, the models and their checkers. `initial` (at start)
   * is the state a previous agent left; with `deferChecks` the new checkers are returned, not
   * started (the first IPVS pass goes first).
   */
  const apply = (
    next: Config,
    opts: { initial?: IpvsState | null; deferChecks?: boolean } = {},
  ): RsRun[] => {
    config = next;
    applySync();
    return applyChecks(next, opts.initial ?? null, opts.deferChecks ?? false);
  };

  /** Writes what this side owns when it changed (after every IPVS pass). */
  const persist = (left: IpvsState["left"]) => {
    if (stateFile === null || ipvs === null) return Promise.resolve();
    const down: string[] = [];
    for (const v of vss.values()) {
      for (const r of v.rs.values()) if (!r.state.up) down.push(r.model.id);
    }
    const state: IpvsState = { version: 1, owned: ipvs.ownedServices(), down: down.sort(), left };
    const text = JSON.stringify(state);
    if (text === stateWritten) return Promise.resolve();
    const file = stateFile;
    return writeIpvsState(file, state).then(
      () => void (stateWritten = text),
      (e) => log.warn((e as Error).message),
    );
  };

  /** This thread's script policy, and every script of the virtual servers checked at once. */
  const applyScripts = (config: Config, models: VsModel[]) => {
    let passwd = "";
    try {
      passwd = Deno.readTextFileSync("/etc/passwd");
    } catch { /* only numeric ids resolve */ }
    scriptPolicy.configure({
      security: config.global.enableScriptSecurity,
      scriptUser: config.global.scriptUser ?? null,
      passwd,
    }, log.child("scripts"));
    for (const m of models) {
      for (const c of [m.config.quorumUp, m.config.quorumDown]) if (c) auditScript(c);
      for (const rs of m.realServers) {
        for (const c of [rs.config.notifyUp, rs.config.notifyDown]) if (c) auditScript(c);
        for (const ck of rs.checks) {
          if (ck.type === "MISC_CHECK") auditScript(ck.miscPath, ck.user);
        }
      }
    }
  };

  const applyChecks = (config: Config, initial: IpvsState | null, deferChecks: boolean) => {
    const wasDown = new Set(initial?.down ?? []);
    heloName = config.global.routerId ?? heloName;
    const settings = mailSettings(config.global, config.global.routerId ?? Deno.hostname());
    mailer = mailerFor(mailer, settings, log.child("mail"));
    const next = new Map<string, VsRun>();
    const started: RsRun[] = [];
    const models = buildModels(config, heloName);
    applyScripts(config, models);
    for (const m of models) {
      const old = vss.get(m.id);
      const v: VsRun = { model: m, rs: new Map(), quorumUp: old?.quorumUp ?? true };
      for (const rsm of m.realServers) {
        const prev = old?.rs.get(rsm.id);
        if (prev !== undefined && JSON.stringify(prev.model) === JSON.stringify(rsm)) {
          // Unchanged real server: its checkers and state go on.
          v.rs.set(rsm.id, { ...prev, model: rsm });
          old!.rs.delete(rsm.id);
        } else {
          const r = startRs(
            m.id,
            m.config.alpha,
            rsm,
            initial === null ? undefined : !wasDown.has(rsm.id),
          );
          started.push(r);
          v.rs.set(rsm.id, r);
        }
      }
      next.set(m.id, v);
      if (old === undefined) {
        // A new virtual server: keepalived decides its quorum once its real servers are in,
        // and runs quorum_up when it is met (a hook that registers the service must fire).
        const alive = aliveWeight(m, states(v));
        const s = startQuorum(m, alive);
        v.quorumUp = s.up;
        if (s.notify) quorumChanged(v, alive, true);
      }
    }
    for (const v of vss.values()) {
      for (const r of v.rs.values()) r.runners.forEach((c) => c.dispose());
    }
    vss = next;
    if (!deferChecks) { for (const r of started) r.runners.forEach((c) => c.start()); }
    reportQuorum();
    schedule();
    return started;
  };

  const runtime: LvsRuntime = {
    async start(lvs: unknown, opts: LvsStartOptions = { stateFile: null }) {
      const config = lvs as Config;
      stateFile = opts.stateFile;
      const initial = stateFile === null
        ? null
        : await readIpvsState(stateFile, (m) => log.warn(m));
      if (config.virtualServers.length === 0 && (initial?.owned.length ?? 0) === 0) {
        unavailable = "no virtual servers configured";
        return;
      }
      const m = await openIpvs(reactor, log);
      if (m instanceof IpvsManager) ipvs = m;
      else {
        unavailable = m.unavailable;
        log.warn(
          `${m.unavailable}: virtual servers are not programmed; ` +
            `VRRP and the health checks keep running`,
        );
      }
      if (initial !== null) {
        // What an earlier agent programmed is ours: the first pass deletes what is no longer
        // wanted, and a restart in place starts from the real servers' last states.
        ipvs?.adopt(initial.owned);
        log.info(
          `IPVS state of the previous agent (${initial.left}): ${initial.owned.length} ` +
            `service(s) owned, ${initial.down.length} real server(s) down`,
        );
      }
      // IPVS first: the first pass runs before thousands of checkers are created. Real servers
      // start as the previous agent left them if its rules stayed (kept, or a crash).
      const carried = initial?.left === "removed" ? null : initial;
      const checkers = apply(config, { initial: carried, deferChecks: true });
      pending?.cancel();
      pending = null;
      reconcile();
      await running;
      if (stopped) return;
      for (const r of checkers) r.runners.forEach((c) => c.start());
      const tick = () => {
        reconcile();
        applySync();
        resync = clock.setTimer(Math.max(RESYNC_MS, RESYNC_FACTOR * lastPassMs), tick);
      };
      resync = clock.setTimer(RESYNC_MS, tick);
    },
    async reload(lvs: unknown) {
      const config = lvs as Config;
      if (
        ipvs === null && config.virtualServers.length > 0 && unavailable.startsWith("no virtual")
      ) {
        await this.start(config, { stateFile });
        return;
      }
      apply(config);
    },
    async setSyncRole(role: "master" | "backup") {
      syncRole = role;
      applySync();
      await running;
    },
    async stop(opts: LvsStopOptions = {}) {
      const keep = (opts.ipvs ?? config?.global.ipvsOnStop ?? "remove") === "keep";
      stopped = true;
      pending?.cancel();
      resync?.cancel();
      for (const v of vss.values()) {
        for (const r of v.rs.values()) {
          r.runners.forEach((c) => c.dispose());
          // Kept rules go on serving: nothing goes down, no omega hook runs.
          if (!keep && v.model.config.omega && r.state.up) {
            runScript(`RS:${r.model.id}`, r.model.config.notifyDown);
          }
        }
        if (!keep && v.model.config.omega && v.quorumUp) {
          runScript(`VS:${v.model.name}`, v.model.config.quorumDown);
        }
      }
      await running;
      if (mailer !== null) {
        // Alerts of the last moments go out, within a bound.
        let t: Timer | null = null;
        await Promise.race([
          mailer.idle(),
          new Promise<void>((r) => (t = clock.setTimer(5000, r))),
        ]);
        (t as Timer | null)?.cancel();
      }
      if (ipvs !== null && keep) {
        // A restart in place: the kernel keeps serving; the next agent reconciles in place.
        log.info(
          `leaving ${ipvs.ownedServices().length} IPVS service(s) and the sync daemon in place ` +
            `(ipvs_on_stop: keep)`,
        );
        await persist("kept");
        ipvs[Symbol.dispose]();
      } else if (ipvs !== null) {
        // Like keepalived: the services we programmed go away with us.
        const r = await ipvs.reconcile([]).catch((e) => {
          log.error(`cannot remove IPVS services: ${(e as Error).message}`);
          return null;
        });
        if (r !== null && r.ops.length > 0) log.info(`removed ${r.ops.length} IPVS rule(s)`);
        if (syncApplied !== "null") {
          // Like keepalived: the sync daemon stops with us.
          for (const role of ["master", "backup"] as const) {
            await ipvs.stopSyncDaemon(role).catch((e) =>
              log.error(`cannot stop the IPVS sync daemon: ${(e as Error).message}`)
            );
          }
        }
        // Services whose delete failed are still ours for the next agent.
        await persist("removed");
        ipvs[Symbol.dispose]();
      }
      icmp?.close();
    },
    status() {
      const virtualServers: VirtualServerStatus[] = [...vss.values()].map((v) => ({
        name: v.model.name,
        quorumUp: v.quorumUp,
        realServers: [...v.rs.values()].map((r): RealServerStatus => ({
          address: r.model.name,
          up: r.state.up,
          weight: r.state.up
            ? liveWeight(r.model.config, r.state)
            : r.model.config.inhibitOnFailure
            ? 0
            : -1,
          reason: r.reason,
          checks: r.runners.map((c, i) => ({
            type: r.model.checks[i]!.type,
            up: c.up,
            last: c.lastResult === null
              ? "not run yet"
              : c.lastResult.ok
              ? c.lastResult.detail
              : c.lastResult.reason,
          })),
        })),
      }));
      const services = [...vss.values()].reduce((n, v) => n + v.model.keys.length, 0);
      return {
        ipvs: {
          available: ipvs !== null,
          reason: ipvs !== null ? "" : unavailable,
          services,
          lastOps,
          errors,
          syncDaemon: syncStatus,
        },
        virtualServers,
        mail: mailer?.stats ?? null,
      };
    },
  };
  return runtime;
};
