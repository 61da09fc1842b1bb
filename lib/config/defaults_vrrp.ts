/**
 * Defaults of an instance that depend on strict mode (keepalived vrrp_strict / strict_mode) or
 * on the global section: Accept_Mode, the answers to lower and higher priorities, the GARP
 * repeats, the VMAC name, check_unicast_src; with keepalived's strict-mode resets, each warned
 * at its key. Source: keepalived 2.2.7 vrrp.c vrrp_complete_instance() and vrrp_parser.c
 * vrrp_end_handler().
 *
 * @module
 */
import type { Walker } from "./walker.ts";
import type { GlobalConfig, VrrpInstanceConfig, WalkedConfig } from "./types.ts";

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
