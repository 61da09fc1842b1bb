/**
 * Strict mode (keepalived vrrp_strict / strict_mode), VMAC and unicast keys of an instance:
 * keepalived's refusals as errors, and the checks of keys that have no effect in a
 * combination (the defaults and resets are in defaults_vrrp.ts). Source: keepalived 2.2.7
 * vrrp.c vrrp_complete_instance().
 *
 * @module
 */
import { parseIp } from "../net/ip.ts";
import type { Walker } from "./walker.ts";
import type { Config, VrrpInstanceConfig } from "./types.ts";

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
        "strict mode does not allow unicast peers (keepalived 2.2.7 does not start with it; expected no unicast_peers, or strict_mode: false)",
      );
    }
    if (inst.vips.length === 0) {
      w.error(
        w.at(p),
        p,
        "strict mode needs at least one virtual_ipaddresses entry (keepalived 2.2.7 does not start without)",
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
