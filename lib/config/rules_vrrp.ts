/**
 * Rules of one VRRP instance: version and family, advert interval per version, authentication,
 * preemption, address families, unicast peers, tracked interfaces and references (routes and
 * rules are in rules_routing.ts).
 *
 * @module
 */
import { advertCapacity, DEFAULT_MTU } from "../net/advert_capacity.ts";
import { formatDuration } from "./duration.ts";
import { familyOf } from "./scalars.ts";
import { featureRules } from "./rules_strict.ts";
import { suggest } from "./suggest.ts";
import type { Walker } from "./walker.ts";
import type { Config, VrrpInstanceConfig } from "./types.ts";

/** Checks one instance (`p` is its path); `ifaceMissing` warns about absent interfaces. */
export function instanceRules(
  cfg: Config,
  inst: VrrpInstanceConfig,
  p: string,
  w: Walker,
  ifaceMissing: (name: string, path: string) => void,
): void {
  const fam = inst.family === "ipv4" ? "IPv4" : "IPv6";
  ifaceMissing(inst.interface, `${p}.interface`);
  if (inst.version === 2 && inst.family === "ipv6") {
    const at = w.positions.has(`${p}.version`) ? `${p}.version` : `${p}.family`;
    w.error(
      w.at(at),
      at,
      "VRRPv2 carries IPv4 addresses only (expected version: 3 for an IPv6 instance)",
    );
  }
  const ms = inst.advertIntervalMs;
  const ap = `${p}.advert_interval`;
  if (inst.version === 2 && (ms % 1000 !== 0 || ms < 1000 || ms > 255_000)) {
    w.error(
      w.at(ap),
      ap,
      `${formatDuration(ms)} is not valid for VRRPv2 (expected whole seconds from 1s to 255s)`,
    );
  }
  if (inst.version === 3 && (ms % 10 !== 0 || ms < 10 || ms > 40_950)) {
    w.error(
      w.at(ap),
      ap,
      `${formatDuration(ms)} is not valid for VRRPv3 (expected 10ms to 40.95s in steps of 10ms)`,
    );
  }
  if (inst.authentication !== undefined && inst.version !== 2) {
    w.error(
      w.at(`${p}.authentication`),
      `${p}.authentication`,
      "authentication exists in VRRPv2 only (expected no authentication with version 3)",
    );
  }
  if (!inst.preempt && inst.state === "MASTER") {
    w.error(
      w.at(`${p}.preempt`),
      `${p}.preempt`,
      "preempt: false (nopreempt) needs state BACKUP: an instance that starts as MASTER takes over regardless (expected state: BACKUP, or preempt: true)",
    );
  }
  if (inst.preemptDelayMs > 0 && (inst.state === "MASTER" || !inst.preempt)) {
    w.warn(
      w.at(`${p}.preempt_delay`),
      `${p}.preempt_delay`,
      `preempt_delay has no effect ${inst.preempt ? "with state MASTER" : "with preempt: false"}`,
    );
  }
  const sameFamily = (text: string | undefined, path: string, what: string) => {
    const f = familyOf(text);
    if (f !== undefined && f !== inst.family) {
      w.error(
        w.at(path),
        path,
        `${what} ${text} is not ${fam} (expected an ${fam} address, like the instance)`,
      );
    }
  };
  inst.vips.forEach((v) => {
    const vp = w.pathOf.get(v) ?? `${p}.virtual_ipaddresses`;
    sameFamily(v.address, vp, "virtual address");
    if (v.label !== undefined && v.family === "ipv6") {
      w.error(
        w.at(`${vp}.label`),
        `${vp}.label`,
        "IPv6 addresses have no labels (expected no label)",
      );
    }
    if (v.device !== inst.interface) ifaceMissing(v.device, `${vp}.device`);
  });
  for (const v of inst.excludedVips) {
    const vp = w.pathOf.get(v) ?? `${p}.virtual_ipaddresses_excluded`;
    if (v.device !== inst.interface) ifaceMissing(v.device, `${vp}.device`);
  }
  if (inst.vips.length === 0) {
    w.warn(w.at(p), p, "no virtual_ipaddresses: the master will hold no address");
  }
  // keepalived: the VIPs past what fits in an advert are moved to the eVIPs (held, not listed).
  const listed = inst.vips.filter((v) => v.family === inst.family);
  const room = advertCapacity(inst.family, inst.version, DEFAULT_MTU);
  const first = listed[room];
  if (first !== undefined) {
    const vp = w.pathOf.get(first) ?? `${p}.virtual_ipaddresses`;
    w.warn(
      w.at(vp),
      vp,
      `${listed.length} addresses do not fit in an advert (at most ${room} on a ` +
        `${DEFAULT_MTU}-byte MTU): the last ${listed.length - room} are held but not ` +
        `advertised, like virtual_ipaddresses_excluded (keepalived: excess moved to eVIPs)`,
    );
  }
  sameFamily(inst.unicastSrcIp, `${p}.unicast_src_ip`, "unicast_src_ip");
  const peers = new Set<string>();
  inst.unicastPeers.forEach(({ address: peer }, i) => {
    const pp = `${p}.unicast_peers[${i}]`;
    sameFamily(peer, pp, "unicast peer");
    if (peers.has(peer)) w.error(w.at(pp), pp, `unicast peer ${peer} is listed twice`);
    peers.add(peer);
  });
  featureRules(cfg, inst, p, w);
  for (const t of inst.trackInterfaces) {
    ifaceMissing(t.name, w.pathOf.get(t) ?? `${p}.track_interfaces`);
  }
  const refs = [
    ["process", "processes", inst.trackProcesses, cfg.processes],
    ["script", "scripts", inst.trackScripts, cfg.scripts],
  ] as const;
  for (const [what, section, list, defined] of refs) {
    for (const t of list) {
      if (defined[t.name] !== undefined || w.positions.has(`${section}.${t.name}`)) continue;
      const tp = w.pathOf.get(t) ?? `${p}.track_${section}`;
      const s = suggest(t.name, Object.keys(defined));
      w.error(
        w.at(tp),
        tp,
        `${what} "${t.name}" is not defined in ${section}${
          s === null ? "" : ` (did you mean "${s}"?)`
        }`,
      );
    }
  }
}
