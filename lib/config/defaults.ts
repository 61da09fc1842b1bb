/**
 * Defaults that depend on other settings: an instance's family and version, inherited GARP
 * timers, VIP devices, track weights, virtual server group entries, and the checkers' timing
 * and target taken from their virtual and real servers. It turns the walker's output
 * (WalkedConfig) into the Config: every `filled` key of the schema gets its value here, and
 * the compiler checks that none is missed. Objects are completed in place (`Object.assign`),
 * so the walker's positions, which are keyed by object, still apply.
 *
 * @module
 */
import {
  resolveRoutes,
  resolveRules,
  type RulePriorities,
  rulePriorities,
} from "./defaults_routing.ts";
import { strictDefaults } from "./defaults_vrrp.ts";
import type { Walker } from "./walker.ts";
import { familyOf } from "./scalars.ts";
import type {
  CheckConfig,
  Config,
  GlobalConfig,
  RealServerConfig,
  VirtualServerConfig,
  VrrpInstanceConfig,
  VrrpScriptConfig,
  VsGroupEntry,
  WalkedConfig,
} from "./types.ts";

type WalkedInstance = WalkedConfig["vrrpInstances"][number];
type WalkedVs = WalkedConfig["virtualServers"][number];
type WalkedRs = WalkedVs["realServers"][number];
type WalkedCheck = WalkedRs["checks"][number];
type WalkedGroupEntry = WalkedConfig["virtualServerGroups"][string][number];

/** Fills the defaults that come from other settings (version, family, inherited timers). */
export function resolveDefaults(cfg: WalkedConfig, w: Walker): Config {
  const g = cfg.global;
  const scripts: Record<string, VrrpScriptConfig> = {};
  for (const [name, s] of Object.entries(cfg.scripts)) {
    const user = s.user ?? g.scriptUser;
    // Absent user and script_user: the default script user, decided at start.
    scripts[name] = Object.assign(
      s,
      { timeoutMs: s.timeoutMs ?? s.intervalMs },
      user === undefined ? {} : { user },
    );
  }
  const next = rulePriorities();
  const staticRoutes = resolveRoutes(cfg.staticRoutes, "static_routes", w);
  const staticRules = resolveRules(cfg.staticRules, "static_rules", next, w);
  const vrrpInstances = cfg.vrrpInstances.map((inst) =>
    resolveInstance(inst, g, scripts, cfg.processes, next, w)
  );
  const virtualServerGroups: Record<string, VsGroupEntry[]> = {};
  for (const [name, entries] of Object.entries(cfg.virtualServerGroups)) {
    virtualServerGroups[name] = entries.flatMap((e) => groupEntry(e, w));
  }
  const virtualServers = cfg.virtualServers.map((vs) =>
    resolveVirtualServer(vs, g, virtualServerGroups, w)
  );
  return Object.assign(cfg, {
    scripts,
    staticRoutes,
    staticRules,
    vrrpInstances,
    virtualServerGroups,
    virtualServers,
  });
}

function resolveInstance(
  inst: WalkedInstance,
  g: GlobalConfig,
  scripts: Config["scripts"],
  processes: Config["processes"],
  next: RulePriorities,
  w: Walker,
): VrrpInstanceConfig {
  const p = `vrrp_instances.${inst.name}`;
  const family = inst.family ?? inst.vips[0]?.family ?? familyOf(inst.unicastSrcIp) ??
    familyOf(inst.unicastPeers[0]?.address) ?? "ipv4";
  const version = inst.version ?? (family === "ipv6" ? 3 : g.vrrpVersion);
  const device = <V extends { device?: string }>(v: V) =>
    Object.assign(v, { device: v.device ?? inst.interface });
  return Object.assign(inst, {
    family,
    version,
    ...strictDefaults(g, inst, version, p, w),
    advertIntervalCs: inst.advertIntervalMs / 10,
    garpMasterDelayMs: inst.garpMasterDelayMs ?? g.garpMasterDelayMs,
    garpMasterRepeat: inst.garpMasterRepeat ?? g.garpMasterRepeat,
    garpMasterRefreshMs: inst.garpMasterRefreshMs ?? g.garpMasterRefreshMs,
    routes: resolveRoutes(inst.routes, `${p}.virtual_routes`, w),
    rules: resolveRules(inst.rules, `${p}.virtual_rules`, next, w),
    vips: inst.vips.map(device),
    excludedVips: inst.excludedVips.map(device),
    trackScripts: inst.trackScripts.map((t) =>
      Object.assign(t, { weight: t.weight ?? scripts[t.name]?.weight ?? 0 })
    ),
    trackProcesses: inst.trackProcesses.map((t) =>
      Object.assign(t, { weight: t.weight ?? processes[t.name]?.weight ?? 0 })
    ),
  });
}

function groupEntry(e: WalkedGroupEntry, w: Walker): VsGroupEntry[] {
  const path = w.pathOf.get(e) ?? "virtual_server_groups";
  const kinds = (["endpoint", "range", "fwmark"] as const).filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    w.error(
      w.at(path),
      path,
      `expected exactly one of address, range, fwmark (found ${
        kinds.length === 0 ? "none" : kinds.map((k) => k === "endpoint" ? "address" : k).join(", ")
      })`,
    );
    return [];
  }
  if (e.endpoint !== undefined) {
    if (w.positions.has(`${path}.port`)) {
      w.error(
        w.at(`${path}.port`),
        `${path}.port`,
        "port applies to range entries only (expected the port inside address, ADDR:PORT)",
      );
    }
    return [{ kind: "address", ...e.endpoint }];
  }
  if (e.range !== undefined) {
    return [{
      kind: "range",
      from: e.range.from,
      to: e.range.to,
      port: e.port,
      family: e.range.family,
    }];
  }
  if (e.fwmark === undefined) return [];
  return [{ kind: "fwmark", fwmark: e.fwmark, family: e.family ?? "ipv4" }];
}

function resolveVirtualServer(
  vs: WalkedVs,
  g: GlobalConfig,
  groups: Config["virtualServerGroups"],
  w: Walker,
): VirtualServerConfig {
  const port = vs.port ?? 0;
  const group = vs.group === undefined ? undefined : groups[vs.group];
  const groupFamily = group?.find((e) => e.kind !== "fwmark")?.family;
  const family = vs.family ?? groupFamily ?? vs.realServers[0]?.family ?? "ipv4";
  const realServers = vs.realServers.map((rs) => {
    const resolved = Object.assign(rs, {
      port: rs.port === 0 ? port : rs.port,
      forwarding: rs.forwarding ?? vs.forwarding,
      inhibitOnFailure: rs.inhibitOnFailure ?? vs.inhibitOnFailure,
    });
    return Object.assign(resolved, {
      checks: rs.checks.map((c) => resolveCheck(c, vs, resolved, g, w)),
    });
  });
  const tunnel = vs.forwarding === "TUN" ? { tunnelType: vs.tunnelType ?? "ipip" } : {};
  return Object.assign(vs, { port, family, realServers }, tunnel);
}

function resolveCheck(
  c: WalkedCheck,
  vs: WalkedVs,
  rs: Omit<RealServerConfig, "checks">,
  g: GlobalConfig,
  w: Walker,
): CheckConfig {
  if (c.type === "FILE_CHECK") return c;
  const delayLoopMs = c.delayLoopMs ?? vs.delayLoopMs;
  const timing = {
    delayLoopMs,
    warmupMs: c.warmupMs ?? delayLoopMs,
    alpha: c.alpha ?? vs.alpha,
    delayBeforeRetryMs: c.delayBeforeRetryMs ?? delayLoopMs,
  };
  if (c.type === "MISC_CHECK") {
    const user = c.user ?? g.scriptUser;
    return Object.assign(
      c,
      timing,
      { miscTimeoutMs: c.miscTimeoutMs ?? delayLoopMs },
      user === undefined ? {} : { user },
    );
  }
  const out = Object.assign(c, timing, {
    connectIp: c.connectIp ?? rs.address,
    connectPort: c.connectPort ?? rs.port,
  });
  if (out.connectPort === 0 && out.type !== "PING_CHECK") {
    const path = w.pathOf.get(out) ?? "virtual_servers";
    w.error(
      w.at(path),
      path,
      `${out.type} has no port to connect to: the real server has none (expected connect_port)`,
    );
  }
  return out;
}
