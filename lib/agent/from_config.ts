/**
 * Config (validated YAML) -> Plan (what the runtime runs).
 *
 * @module
 */
import { ruleSpecOf } from "./routing.ts";
import { mailSettings, vrrpAlerts } from "../config/alerts.ts";
import type {
  Config,
  VipConfig,
  VirtualServerConfig,
  VrrpInstanceConfig,
} from "../config/types.ts";
import type { InstanceSpec, VipSpec } from "../vrrp/runner.ts";
import type { InstancePlan, NotifyPlan, Plan } from "./plan.ts";
import { type AnnouncePlan, type Family, virtualServerKey } from "../announce/plan.ts";
import { expandRange } from "./lvs_model.ts";

/** Command-line overrides of global settings. */
export interface Overrides {
  control?: string;
  pidFile?: string;
  logLevel?: Plan["logLevel"];
}

function vip(v: VipConfig, instanceIf: string, excluded: boolean): VipSpec {
  return {
    family: v.family,
    address: v.address,
    prefix: v.prefix,
    device: v.device === instanceIf ? null : v.device,
    label: v.label ?? null,
    scope: v.scope === "nowhere" ? null : v.scope === "global" ? null : v.scope,
    excluded,
  };
}

function notify(n: {
  notifyMaster?: string;
  notifyBackup?: string;
  notifyFault?: string;
  notifyStop?: string;
  notify?: string;
  notifyFifo?: string;
}): NotifyPlan {
  return {
    master: n.notifyMaster ?? null,
    backup: n.notifyBackup ?? null,
    fault: n.notifyFault ?? null,
    stop: n.notifyStop ?? null,
    any: n.notify ?? null,
    fifo: n.notifyFifo ?? null,
  };
}

function instanceSpec(i: VrrpInstanceConfig, c: Config): InstanceSpec {
  return {
    name: i.name,
    interface: i.interface,
    vrid: i.vrid,
    version: i.version,
    family: i.family,
    priority: i.priority,
    advertIntervalCs: i.advertIntervalCs,
    initialState: i.state,
    preempt: i.preempt,
    preemptDelayMs: i.preemptDelayMs,
    authPassword: i.version === 2 && i.authentication?.type === "PASS"
      ? i.authentication.password
      : null,
    unicastSrc: i.unicastSrcIp ?? null,
    unicastPeers: i.unicastPeers.map((p) => p.address),
    vips: [
      ...i.vips.map((v) => vip(v, i.interface, false)),
      ...i.excludedVips.map((v) => vip(v, i.interface, true)),
    ],
    routes: i.routes.map((r) => ({
      family: r.to.family,
      to: r.to.address,
      prefix: r.to.prefix,
      via: r.via ?? null,
      src: r.src ?? null,
      device: r.device ?? null,
      table: r.table ?? null,
      metric: r.metric ?? null,
      type: r.type,
      scope: r.scope,
      onlink: r.onlink,
    })),
    rules: i.rules.map(ruleSpecOf),
    v3Checksum: c.global.v3Checksum,
    announce: {
      repeat: i.garpMasterRepeat,
      delayMs: i.garpMasterDelayMs,
      refreshMs: i.garpMasterRefreshMs,
      refreshRepeat: i.garpMasterRefreshRepeat,
      intervalMs: i.family === "ipv4" ? c.global.garpIntervalMs : c.global.gnaIntervalMs,
      lowerPrioRepeat: i.garpLowerPrioRepeat,
      lowerPrioDelayMs: i.garpLowerPrioDelayMs,
    },
    mcastGroup: i.mcastDstIp ?? null,
    unicastTtl: i.unicastTtl,
    checkUnicastSrc: i.checkUnicastSrc,
    peerTtl: i.unicastPeers.map((p) => ({ min: p.minTtl, max: p.maxTtl })),
    skipCheckAdvAddr: i.skipCheckAdvAddr,
    lowerPrioNoAdvert: i.lowerPrioNoAdvert,
    higherPrioSendAdvert: i.higherPrioSendAdvert,
    dontTrackPrimary: i.dontTrackPrimary,
    accept: i.accept,
    vmac: i.useVmac ? { name: i.vmacName, xmitBase: i.vmacXmitBase } : null,
  };
}

/** The addresses a virtual server announces: its own, or every address of its group. */
function serviceAddresses(
  vs: VirtualServerConfig,
  c: Config,
): { family: Family; address: string }[] {
  if (vs.address !== undefined) return [{ family: vs.family, address: vs.address }];
  const out = new Map<string, { family: Family; address: string }>();
  for (const e of c.virtualServerGroups[vs.group ?? ""] ?? []) {
    const list = e.kind === "address"
      ? [e.address]
      : e.kind === "range"
      ? expandRange(e.from, e.to)
      : [];
    for (const address of list) out.set(address, { family: e.family, address });
  }
  return [...out.values()];
}

/** The instances and virtual servers with `announce: true`, in the file's order. */
function announcePlan(c: Config): AnnouncePlan {
  return {
    table: c.global.announce.table,
    protocol: c.global.announce.protocol,
    instances: c.vrrpInstances.filter((i) => i.announce).map((i) => ({
      name: i.name,
      addresses: [...i.vips, ...i.excludedVips].map((v) => ({
        family: v.family,
        address: v.address,
        device: v.device,
      })),
    })),
    virtualServers: c.virtualServers.filter((vs) => vs.announce).map((vs) => ({
      key: virtualServerKey(vs),
      name: vs.group !== undefined
        ? `${vs.protocol} group ${vs.group}`
        : `${vs.protocol} ${vs.family === "ipv6" ? `[${vs.address}]` : vs.address}:${vs.port}`,
      addresses: serviceAddresses(vs, c),
    })),
  };
}

/** Builds the runtime plan. `hostname` is the default router_id. */
export function planFromConfig(c: Config, o: Overrides, hostname: string): Plan {
  const instances: InstancePlan[] = c.vrrpInstances.map((i) => ({
    spec: instanceSpec(i, c),
    trackInterfaces: i.trackInterfaces.map((t) => ({ ...t })),
    trackScripts: i.trackScripts.map((t) => ({ ...t })),
    trackFiles: i.trackFiles.map((t) => ({ ...t })),
    trackProcesses: i.trackProcesses.map((t) => ({ ...t })),
    notify: notify(i),
    smtpAlert: vrrpAlerts(c.global, i.smtpAlert),
  }));
  const routerId = c.global.routerId ?? hostname;
  return {
    routerId,
    control: o.control ?? c.global.control,
    pidFile: o.pidFile ?? c.global.pidFile,
    logLevel: o.logLevel ?? c.global.logLevel,
    logFormat: c.global.logFormat,
    scriptUser: c.global.scriptUser ?? null,
    scriptSecurity: c.global.enableScriptSecurity,
    mcastGroup4: c.global.vrrpMcastGroup4,
    mcastGroup6: c.global.vrrpMcastGroup6,
    scripts: Object.fromEntries(
      Object.entries(c.scripts).map(([name, s]) => [name, {
        name,
        command: s.command,
        intervalMs: s.intervalMs,
        timeoutMs: s.timeoutMs,
        weight: s.weight,
        rise: s.rise,
        fall: s.fall,
        user: s.user === undefined || s.user === c.global.scriptUser ? null : s.user,
        initFail: s.initFail,
      }]),
    ),
    processes: Object.fromEntries(
      Object.entries(c.processes).map(([name, p]) => [name, { ...p, name }]),
    ),
    processScanIntervalMs: c.global.processScanIntervalMs,
    instances,
    syncGroups: c.syncGroups.map((g) => ({
      name: g.name,
      members: g.members,
      notify: notify(g),
      smtpAlert: vrrpAlerts(c.global, g.smtpAlert),
    })),
    syncInstance: c.global.lvsSyncDaemon?.instance ?? null,
    mail: mailSettings(c.global, routerId),
    noEmailFaults: c.global.noEmailFaults,
    hasVirtualServers: c.virtualServers.length > 0,
    statics: { addresses: c.staticAddresses, routes: c.staticRoutes, rules: c.staticRules },
    announce: announcePlan(c),
    realtimePriority: c.global.realtimePriority ?? null,
    checkerNice: c.global.checkerNice,
    metricsListen: c.global.metrics
      ? { address: c.global.metrics.listen.address, port: c.global.metrics.listen.port }
      : null,
  };
}
