/**
 * Cross-field rules: what no single key can decide (unique VRIDs, references between sections,
 * alerts with nowhere to go, the sync daemon's instance). VRRP instance rules are in
 * rules_vrrp.ts, virtual server rules in rules_lvs.ts. Each reports at the field that must change.
 *
 * @module
 */
import { checkerAlerts, vrrpAlerts } from "./alerts.ts";
import { suggest } from "./suggest.ts";
import type { Walker } from "./walker.ts";
import { instanceRules } from "./rules_vrrp.ts";
import { virtualServerRules } from "./rules_lvs.ts";
import { routingRules } from "./rules_routing.ts";
import { announceRules } from "./rules_announce.ts";
import type { ReservedProtocols } from "./rt_protos.ts";
import type { Config } from "./types.ts";

/** How the file is judged against the host it will run on. */
export interface LoadOptions {
  /** When given, an interface it says does not exist is a warning. */
  interfaceExists?: (name: string) => boolean;
  /** Route protocol numbers announce must not use (the host's rt_protos); default built in. */
  reservedProtocols?: ReservedProtocols;
  /**
   * When given, why a track script's command cannot run on this host for `user` (missing, not
   * executable), or null: a warning, as the agent will not track it (keepalived disables it).
   */
  scriptProblem?: (command: string, user: string | undefined) => string | null;
}

/** The rules that involve more than one field; each reports at the field that must change. */
export function checkRules(cfg: Config, w: Walker, opts: LoadOptions): void {
  const ifaceMissing = (name: string, path: string) => {
    if (opts.interfaceExists !== undefined && !opts.interfaceExists(name)) {
      w.warn(w.at(path), path, `interface "${name}" does not exist on this host`);
    }
  };
  routingRules(cfg, w, ifaceMissing);
  const tracked = new Set<string>();
  const vrids = new Map<string, string>();
  for (const inst of cfg.vrrpInstances) {
    const p = `vrrp_instances.${inst.name}`;
    instanceRules(cfg, inst, p, w, ifaceMissing);
    for (const t of inst.trackScripts) tracked.add(t.name);
    const key = `${inst.interface}/${inst.family}/${inst.vrid}`;
    const first = vrids.get(key);
    if (first !== undefined) {
      w.error(
        w.at(`${p}.vrid`),
        `${p}.vrid`,
        `VRID ${inst.vrid} is already used on ${inst.interface} (${inst.family}) by ${first} (expected a VRID unique per interface and family)`,
      );
    } else vrids.set(key, p);
  }
  const trackedProcs = new Set(
    cfg.vrrpInstances.flatMap((i) => i.trackProcesses.map((t) => t.name)),
  );
  for (const [name, pr] of Object.entries(cfg.processes)) {
    const p = `processes.${name}`;
    if (!trackedProcs.has(name)) {
      w.warn(w.at(p), p, "no instance tracks this process, so it is never looked for");
    }
    if (pr.quorumMax !== undefined && pr.quorumMax < pr.quorum) {
      w.error(
        w.at(`${p}.quorum_max`),
        `${p}.quorum_max`,
        `${pr.quorumMax} is below quorum ${pr.quorum} (expected quorum_max >= quorum)`,
      );
    }
  }
  for (const [name, sc] of Object.entries(cfg.scripts)) {
    if (!tracked.has(name)) {
      w.warn(
        w.at(`scripts.${name}`),
        `scripts.${name}`,
        "no instance tracks this script, so it never runs",
      );
      continue;
    }
    const problem = opts.scriptProblem?.(sc.command, sc.user ?? cfg.global.scriptUser);
    if (problem !== undefined && problem !== null) {
      const p = `scripts.${name}.command`;
      w.warn(
        w.at(p),
        p,
        `${problem}: the agent will not track this script and the instances tracking it go on ` +
          `without it (keepalived: "Disabling track script ${name} since not found/accessible")`,
      );
    }
  }
  const memberOf = new Map<string, string>();
  for (const g of cfg.syncGroups) {
    const p = `sync_groups.${g.name}`;
    g.members.forEach((m, i) => {
      const mp = `${p}.members[${i}]`;
      if (!w.positions.has(`vrrp_instances.${m}`)) {
        const s = suggest(m, cfg.vrrpInstances.map((x) => x.name));
        w.error(
          w.at(mp),
          mp,
          `instance "${m}" is not defined in vrrp_instances${
            s === null ? "" : ` (did you mean "${s}"?)`
          }`,
        );
        return;
      }
      const prev = memberOf.get(m);
      if (prev !== undefined) {
        w.error(
          w.at(mp),
          mp,
          `instance "${m}" is already a member of ${prev} (expected each instance in one sync group at most, once)`,
        );
      } else memberOf.set(m, p);
    });
  }
  const services = new Map<string, string>();
  cfg.virtualServers.forEach((vs) => {
    const p = w.pathOf.get(vs) ?? "virtual_servers";
    virtualServerRules(cfg, vs, p, w);
    const key = `${vs.protocol}/${vs.family}/${vs.address ?? ""}/${vs.port}/${vs.fwmark ?? ""}/${
      vs.group ?? ""
    }`;
    const first = services.get(key);
    if (first !== undefined) {
      w.error(
        w.at(p),
        p,
        `the same service is already defined at ${first} (expected each address/fwmark/group and protocol once)`,
      );
    } else services.set(key, p);
  });
  if (cfg.vrrpInstances.length === 0 && cfg.virtualServers.length === 0) {
    w.warn({ line: 1, col: 1 }, "", "nothing to do: no vrrp_instances and no virtual_servers");
  }
  mailRule(cfg, w);
  announceRules(cfg, w, opts.reservedProtocols);
  const sd = cfg.global.lvsSyncDaemon;
  if (sd !== undefined) {
    const p = "global.lvs_sync_daemon";
    if (!cfg.vrrpInstances.some((i) => i.name === sd.instance)) {
      const s = suggest(sd.instance, cfg.vrrpInstances.map((i) => i.name));
      w.error(
        w.at(`${p}.instance`),
        `${p}.instance`,
        `instance "${sd.instance}" is not defined in vrrp_instances${
          s === null ? "" : ` (did you mean "${s}"?)`
        }`,
      );
    }
    if (cfg.virtualServers.length === 0) {
      w.warn(w.at(p), p, "no virtual_servers: the sync daemon runs with the load balancer only");
    }
  }
}

/** Alerts switched on with nowhere to send them: one warning, where they were switched on. */
function mailRule(cfg: Config, w: Walker): void {
  const g = cfg.global;
  if (g.smtpServer !== undefined && g.notificationEmail.length > 0) return;
  const on: string[] = [];
  for (const i of cfg.vrrpInstances) {
    if (vrrpAlerts(g, i.smtpAlert)) on.push(`vrrp_instances.${i.name}`);
  }
  for (const sg of cfg.syncGroups) {
    if (vrrpAlerts(g, sg.smtpAlert)) on.push(`sync_groups.${sg.name}`);
  }
  cfg.virtualServers.forEach((vs) => {
    if (
      checkerAlerts(g, vs.smtpAlert) ||
      vs.realServers.some((rs) => checkerAlerts(g, vs.smtpAlert, rs.smtpAlert))
    ) on.push(w.pathOf.get(vs) ?? "virtual_servers");
  });
  if (on.length === 0) return;
  // Point at the switch itself: an object's smtp_alert, else the global one that applies.
  const candidates = [
    ...on.map((p) => `${p}.smtp_alert`),
    "global.smtp_alert_vrrp",
    "global.smtp_alert_checker",
    "global.smtp_alert",
  ];
  const at = candidates.find((p) => w.positions.has(p)) ?? on[0]!;
  const missing = g.smtpServer === undefined ? "global.smtp_server" : "global.notification_email";
  w.warn(w.at(at), at, `e-mail alerts are on but ${missing} is not set: no mail will be sent`);
}
