/**
 * Defaults that depend on other settings: an instance's family and version, inherited GARP
 * timers, VIP devices, track weights, virtual server group entries, and the checkers' timing
 * and target taken from their virtual and real servers.
 *
 * @module
 */
import { routingDefaults } from "./rules_routing.ts";
import type { Walker } from "./walker.ts";
import { familyOf } from "./scalars.ts";
import type {
  CheckConfig,
  Config,
  Family,
  RealServerConfig,
  VirtualServerConfig,
  VrrpInstanceConfig,
  VsGroupEntry,
} from "./types.ts";

// ---- defaults that depend on other settings -------------------------------------------------

type Loose<T> = { [K in keyof T]?: T[K] };

/** Fills the defaults that come from other settings (version, family, inherited timers). */
export function resolveDefaults(cfg: Config, w: Walker): void {
  const g = cfg.global;
  for (const s of Object.values(cfg.scripts)) {
    s.timeoutMs ??= s.intervalMs;
    if (g.scriptUser !== undefined) s.user ??= g.scriptUser;
  }
  for (const inst of cfg.vrrpInstances) {
    const r = inst as Loose<VrrpInstanceConfig>;
    r.family ??= inst.vips[0]?.family ?? familyOf(inst.unicastSrcIp) ??
      familyOf(inst.unicastPeers[0]) ?? "ipv4";
    r.version ??= inst.family === "ipv6" ? 3 : g.vrrpVersion;
    inst.advertIntervalCs = inst.advertIntervalMs / 10;
    r.garpMasterDelayMs ??= g.garpMasterDelayMs;
    r.garpMasterRepeat ??= g.garpMasterRepeat;
    r.garpMasterRefreshMs ??= g.garpMasterRefreshMs;
    for (const vip of [...inst.vips, ...inst.excludedVips]) {
      (vip as { device?: string }).device ??= inst.interface;
    }
    for (const t of inst.trackScripts) {
      (t as { weight?: number }).weight ??= cfg.scripts[t.name]?.weight ?? 0;
    }
    for (const t of inst.trackProcesses) {
      (t as { weight?: number }).weight ??= cfg.processes[t.name]?.weight ?? 0;
    }
  }
  for (const [name, entries] of Object.entries(cfg.virtualServerGroups)) {
    cfg.virtualServerGroups[name] = entries.flatMap((e) => groupEntry(e, w));
  }
  for (const vs of cfg.virtualServers) resolveVirtualServer(cfg, vs, w);
  routingDefaults(cfg, w);
}

function groupEntry(raw: unknown, w: Walker): VsGroupEntry[] {
  const e = raw as {
    endpoint?: { address: string; port: number; family: Family };
    range?: { from: string; to: string; family: Family };
    port: number;
    fwmark?: number;
    family?: Family;
  };
  const path = w.pathOf.get(raw as object) ?? "virtual_server_groups";
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
  return [{ kind: "fwmark", fwmark: e.fwmark!, family: e.family ?? "ipv4" }];
}

function resolveVirtualServer(cfg: Config, vs: VirtualServerConfig, w: Walker): void {
  const r = vs as Loose<VirtualServerConfig>;
  r.port ??= 0;
  const group = vs.group === undefined ? undefined : cfg.virtualServerGroups[vs.group];
  const groupFamily = group?.find((e) => e.kind !== "fwmark")?.family;
  r.family ??= groupFamily ?? vs.realServers[0]?.family ?? "ipv4";
  if (vs.forwarding === "TUN") r.tunnelType ??= "ipip";
  for (const rs of vs.realServers) {
    const rr = rs as Loose<RealServerConfig>;
    if (rs.port === 0) rs.port = vs.port;
    rr.forwarding ??= vs.forwarding;
    rr.inhibitOnFailure ??= vs.inhibitOnFailure;
    for (const c of rs.checks) resolveCheck(cfg, vs, rs, c, w);
  }
}

function resolveCheck(
  cfg: Config,
  vs: VirtualServerConfig,
  rs: RealServerConfig,
  check: CheckConfig,
  w: Walker,
): void {
  if (check.type === "FILE_CHECK") return;
  const c = check as Loose<Extract<CheckConfig, { type: "TCP_CHECK" | "MISC_CHECK" }>> & {
    miscTimeoutMs?: number;
    user?: string;
    connectIp?: string;
    connectPort?: number;
  };
  c.delayLoopMs ??= vs.delayLoopMs;
  c.warmupMs ??= c.delayLoopMs;
  c.alpha ??= vs.alpha;
  c.delayBeforeRetryMs ??= c.delayLoopMs;
  if (check.type === "MISC_CHECK") {
    c.miscTimeoutMs ??= c.delayLoopMs;
    if (cfg.global.scriptUser !== undefined) c.user ??= cfg.global.scriptUser;
    return;
  }
  c.connectIp ??= rs.address;
  c.connectPort ??= rs.port;
  if (c.connectPort === 0 && check.type !== "PING_CHECK") {
    const path = w.pathOf.get(check) ?? "virtual_servers";
    w.error(
      w.at(path),
      path,
      `${check.type} has no port to connect to: the real server has none (expected connect_port)`,
    );
  }
}
