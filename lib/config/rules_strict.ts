/**
 * Strict mode (keepalived vrrp_strict / strict_mode), VMAC and unicast keys of an instance:
 * the defaults that depend on strict mode, keepalived's resets with a warning at the key, its
 * refusals as errors, and the checks of keys that have no effect in a combination. Sources:
 * keepalived 2.2.7 vrrp.c vrrp_complete_instance() and vrrp_parser.c vrrp_end_handler().
 *
 * @module
 */
import { parseIp } from "../net/ip.ts";
import type { Walker } from "./walker.ts";
import type { Config, GlobalConfig, VrrpInstanceConfig, WalkedConfig } from "./types.ts";

type WalkedInstance = WalkedConfig["vrrpInstances"][number];

/** The instance keys strictDefaults() fills or resets. */
export type StrictFilled = Pick<
  VrrpInstanceConfig,
  | "strictMode"
  | "accept"
  | "checkUnicastSrc"
  | "vmacName"
  | "vmacXmitBase"
  | "skipCheckAdvAddr"
  | "garpMasterRefreshRepeat"
  | "garpLowerPrioRepeat"
  | "garpLowerPrioDelayMs"
  | "lowerPrioNoAdvert"
  | "higherPrioSendAdvert"
  | "preemptDelayMs"
>;

/**
 * The instance keys whose default depends on strict mode or the global section, with
 * keepalived's strict-mode resets (each warned at the key, as keepalived's "... - resetting"
 * config errors; authentication is removed from `inst`). `version` is the instance's resolved
 * version; `p` its path.
 */
export function strictDefaults(
  g: GlobalConfig,
  inst: WalkedInstance,
  version: 2 | 3,
  p: string,
  w: Walker,
): StrictFilled {
  const strict = inst.strictMode ?? g.vrrpStrict;
  const owner = inst.priority === 255;
  const given = (k: string) => w.positions.has(`${p}.${k}`);
  const reset = (key: string, what: string, to: string) => {
    const at = `${p}.${key}`;
    w.warn(w.at(at), at, `${what} under strict mode (set to ${to}, as keepalived does)`);
  };
  // keepalived: a peer with min_ttl / max_ttl turns check_unicast_src on.
  const ttlGiven = inst.unicastPeers.some((_, i) =>
    given(`unicast_peers[${i}].min_ttl`) || given(`unicast_peers[${i}].max_ttl`)
  );
  const out: StrictFilled = {
    strictMode: strict,
    accept: inst.accept ?? (owner || !strict),
    checkUnicastSrc: inst.checkUnicastSrc ?? (ttlGiven || g.checkUnicastSrc),
    vmacName: inst.vmacName ?? `vrrp.${inst.vrid}`,
    vmacXmitBase: inst.vmacXmitBase,
    skipCheckAdvAddr: inst.skipCheckAdvAddr ?? g.skipCheckAdvAddr,
    garpMasterRefreshRepeat: inst.garpMasterRefreshRepeat ?? g.garpMasterRefreshRepeat,
    garpLowerPrioRepeat: inst.garpLowerPrioRepeat ?? g.garpLowerPrioRepeat ?? g.garpMasterRepeat,
    garpLowerPrioDelayMs: inst.garpLowerPrioDelayMs ?? g.garpLowerPrioDelayMs ??
      g.garpMasterDelayMs,
    lowerPrioNoAdvert: inst.lowerPrioNoAdvert ?? g.lowerPrioNoAdvert ?? false,
    higherPrioSendAdvert: inst.higherPrioSendAdvert ?? g.higherPrioSendAdvert ?? false,
    preemptDelayMs: inst.preemptDelayMs,
  };
  // vrrp_complete_instance(): defaults of the GARP / advert answers, forced by strict mode.
  if (strict) {
    if (inst.garpLowerPrioRepeat !== undefined && inst.garpLowerPrioRepeat !== 0) {
      reset("garp_lower_prio_repeat", "no gratuitous ARP repeats", "0");
    }
    if (inst.garpLowerPrioDelayMs !== undefined && inst.garpLowerPrioDelayMs !== 0) {
      reset("garp_lower_prio_delay", "no gratuitous ARP repeat delay", "0s");
    }
    if (inst.lowerPrioNoAdvert === false) {
      reset("lower_prio_no_advert", "no advert to a lower priority", "true");
    }
    if (inst.higherPrioSendAdvert === true) {
      reset("higher_prio_send_advert", "no advert to a higher priority", "false");
    }
    out.garpLowerPrioRepeat = 0;
    out.garpLowerPrioDelayMs = 0;
    out.lowerPrioNoAdvert = true;
    out.higherPrioSendAdvert = false;
    if (inst.preemptDelayMs > 0) {
      reset("preempt_delay", "preempt_delay is not allowed", "0s");
      out.preemptDelayMs = 0;
    }
    if (inst.vmacXmitBase) {
      reset("vmac_xmit_base", "vmac_xmit_base is not allowed", "false");
      out.vmacXmitBase = false;
    }
    if (inst.authentication !== undefined) {
      const at = `${p}.authentication`;
      w.warn(
        w.at(at),
        at,
        "strict mode does not allow authentication: it is ignored (adverts carry none), as keepalived does",
      );
      delete inst.authentication;
    }
    if (inst.accept === true && !owner && version === 2) {
      reset("accept", "accept mode for VRRPv2 does not comply with RFC 3768", "false");
      out.accept = false;
    }
  }
  // vrrp_end_handler(): unicast with use_vmac needs vmac_xmit_base.
  if (inst.useVmac && inst.unicastPeers.length > 0 && !out.vmacXmitBase) {
    const at = given("use_vmac") ? `${p}.use_vmac` : p;
    w.warn(w.at(at), at, "unicast with use_vmac needs vmac_xmit_base: set, as keepalived does");
    out.vmacXmitBase = true;
  }
  return out;
}

/** Checks the strict-mode, VMAC and unicast keys of one instance (`p` is its path). */
export function featureRules(cfg: Config, inst: VrrpInstanceConfig, p: string, w: Walker): void {
  const given = (k: string) => w.positions.has(`${p}.${k}`);
  const warn = (key: string, msg: string) => {
    const at = `${p}.${key}`;
    w.warn(w.at(at), at, msg);
  };
  const unicast = inst.unicastPeers.length > 0;
  if (inst.strictMode) {
    if (unicast) {
      const at = `${p}.unicast_peers`;
      w.error(
        w.at(at),
        at,
        "strict mode does not allow unicast peers (keepalived refuses the instance; expected no unicast_peers, or strict_mode: false)",
      );
    }
    if (inst.vips.length === 0) {
      w.error(
        w.at(p),
        p,
        "strict mode needs at least one virtual_ipaddresses entry (keepalived refuses the instance)",
      );
    }
    if ((inst.state === "MASTER") !== (inst.priority === 255) && given("state")) {
      warn(
        "state",
        `under strict mode state MASTER must match being the address owner (priority 255): runs as ${
          inst.priority === 255 ? "MASTER" : "BACKUP"
        }, as keepalived does`,
      );
    }
    const first = inst.vips[0];
    if (inst.family === "ipv6" && !unicast && first !== undefined) {
      const b = parseIp(first.address)?.bytes;
      if (b !== undefined && !(b[0] === 0xfe && (b[1]! & 0xc0) === 0x80)) {
        warn(
          "virtual_ipaddresses[0]",
          "under strict mode the first IPv6 virtual address must be link-local (RFC 5798 5.2.9)",
        );
      }
    }
  }
  if (!inst.useVmac) {
    if (given("vmac_name")) warn("vmac_name", "has no effect without use_vmac: true");
    if (given("vmac_xmit_base")) {
      warn("vmac_xmit_base", "has no effect without use_vmac: true (keepalived clears it)");
    }
  } else {
    const clash = cfg.vrrpInstances.find((o) =>
      o !== inst && o.useVmac && o.vmacName === inst.vmacName
    );
    if (clash !== undefined && cfg.vrrpInstances.indexOf(clash) < cfg.vrrpInstances.indexOf(inst)) {
      const at = given("vmac_name") ? `${p}.vmac_name` : `${p}.use_vmac`;
      w.error(
        w.at(at),
        at,
        `VMAC name "${inst.vmacName}" is used by instance ${clash.name} too (expected a vmac_name of its own)`,
      );
    }
    if (inst.vmacName === inst.interface) {
      w.error(
        w.at(`${p}.vmac_name`),
        `${p}.vmac_name`,
        "the VMAC cannot have the interface's name",
      );
    }
  }
  if (!unicast) {
    if (given("unicast_ttl")) {
      warn("unicast_ttl", "has no effect without unicast_peers (keepalived resets it)");
    }
    if (given("check_unicast_src")) {
      warn("check_unicast_src", "has no effect without unicast_peers");
    }
  } else {
    if (given("mcast_dst_ip")) {
      warn("mcast_dst_ip", "ignored with unicast_peers, as keepalived does");
    }
    inst.unicastPeers.forEach((peer, i) => {
      const pp = `${p}.unicast_peers[${i}]`;
      if (peer.minTtl > peer.maxTtl) {
        w.warn(
          w.at(pp),
          pp,
          `min_ttl ${peer.minTtl} > max_ttl ${peer.maxTtl}: every advert from ${peer.address} will be dropped`,
        );
      }
      const ttl = w.positions.has(`${pp}.min_ttl`) || w.positions.has(`${pp}.max_ttl`);
      if (ttl && !inst.checkUnicastSrc) {
        w.warn(w.at(pp), pp, "min_ttl / max_ttl have no effect with check_unicast_src: false");
      }
    });
  }
  const group = inst.mcastDstIp === undefined ? undefined : parseIp(inst.mcastDstIp);
  if (group !== undefined && group !== null && group.family === "ipv6" && group.bytes[1] !== 2) {
    w.error(
      w.at(`${p}.mcast_dst_ip`),
      `${p}.mcast_dst_ip`,
      `${inst.mcastDstIp} is not a link-local multicast group (expected ff02::/16, as keepalived does)`,
    );
  }
  if (inst.mcastDstIp !== undefined && group?.family !== inst.family) {
    w.error(
      w.at(`${p}.mcast_dst_ip`),
      `${p}.mcast_dst_ip`,
      `${inst.mcastDstIp} is not of the instance's family (expected an ${
        inst.family === "ipv4" ? "IPv4" : "IPv6"
      } multicast group)`,
    );
  }
}
