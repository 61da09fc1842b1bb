/**
 * Rules of one virtual server: exactly one of address, fwmark, group; scheduler flags, tunnels,
 * persistence, sorry server and real server families, duplicate real servers, checker targets.
 *
 * @module
 */
import { parseIp } from "../net/ip.ts";
import { familyOf } from "./scalars.ts";
import { suggest } from "./suggest.ts";
import type { Walker } from "./walker.ts";
import type { Config, VirtualServerConfig } from "./types.ts";

/** Checks one virtual server (`p` is its path). */
export function virtualServerRules(
  cfg: Config,
  vs: VirtualServerConfig,
  p: string,
  w: Walker,
): void {
  const set = (["address", "fwmark", "group"] as const).filter((k) => vs[k] !== undefined);
  if (set.length !== 1) {
    w.error(
      w.at(p),
      p,
      `expected exactly one of address, fwmark, group (found ${
        set.length === 0 ? "none" : set.join(", ")
      })`,
    );
  }
  if (vs.group !== undefined && cfg.virtualServerGroups[vs.group] === undefined) {
    const s = suggest(vs.group, Object.keys(cfg.virtualServerGroups));
    w.error(
      w.at(`${p}.group`),
      `${p}.group`,
      `group "${vs.group}" is not defined in virtual_server_groups${
        s === null ? "" : ` (did you mean "${s}"?)`
      }`,
    );
  }
  const group = vs.group === undefined ? undefined : cfg.virtualServerGroups[vs.group];
  if (vs.persistenceTimeoutMs === 0 && group?.some((e) => e.kind !== "fwmark" && e.port === 0)) {
    w.error(
      w.at(`${p}.group`),
      `${p}.group`,
      `group "${vs.group}" has addresses without port; only a persistent service may use them ` +
        "(expected persistence_timeout, or ports in the group)",
    );
  }
  if (vs.address !== undefined) {
    if (vs.port === 0 && vs.persistenceTimeoutMs === 0) {
      w.error(
        w.at(`${p}.address`),
        `${p}.address`,
        `${vs.address} has no port; only a persistent service may omit it (expected ADDR:PORT)`,
      );
    }
    const f = familyOf(vs.address);
    if (f !== undefined && f !== vs.family) {
      w.error(
        w.at(`${p}.family`),
        `${p}.family`,
        `family ${vs.family} contradicts the address ${vs.address}`,
      );
    }
  }
  vs.schedulerFlags.forEach((flag, i) => {
    const need = flag.startsWith("sh-") ? "sh" : flag.startsWith("mh-") ? "mh" : null;
    if (need !== null && vs.scheduler !== need) {
      const fp = `${p}.scheduler_flags[${i}]`;
      w.error(
        w.at(fp),
        fp,
        `${flag} applies to scheduler ${need} only (the scheduler is ${vs.scheduler})`,
      );
    }
  });
  const anyTun = vs.forwarding === "TUN" || vs.realServers.some((r) => r.forwarding === "TUN");
  if (w.positions.has(`${p}.tunnel_type`) && !anyTun) {
    w.error(
      w.at(`${p}.tunnel_type`),
      `${p}.tunnel_type`,
      "tunnel_type applies to forwarding TUN only (expected forwarding: TUN, or no tunnel_type)",
    );
  }
  if (vs.tunnelType === "gue" && vs.tunnelPort === undefined) {
    w.error(
      w.at(`${p}.tunnel_type`),
      `${p}.tunnel_type`,
      "a gue tunnel needs a port (expected tunnel_port)",
    );
  }
  if (vs.tunnelPort !== undefined && vs.tunnelType !== "gue") {
    w.error(
      w.at(`${p}.tunnel_port`),
      `${p}.tunnel_port`,
      "tunnel_port applies to tunnel_type gue only",
    );
  }
  if (vs.persistenceGranularity !== undefined) {
    granularityRule(vs, `${p}.persistence_granularity`, w);
  }
  if (vs.ops && vs.protocol !== "UDP") {
    w.warn(w.at(`${p}.ops`), `${p}.ops`, "one-packet scheduling applies to UDP services only");
  }
  if (
    vs.sorryServer !== undefined && vs.forwarding !== "TUN" && vs.sorryServer.family !== vs.family
  ) {
    w.error(
      w.at(`${p}.sorry_server`),
      `${p}.sorry_server`,
      `sorry server ${vs.sorryServer.address} is not of the service's family ${vs.family} (only TUN forwarding may mix families)`,
    );
  }
  const seen = new Set<string>();
  for (const rs of vs.realServers) {
    const rp = w.pathOf.get(rs) ?? `${p}.real_servers`;
    if (rs.forwarding !== "TUN" && rs.family !== vs.family) {
      w.error(
        w.at(`${rp}.address`),
        `${rp}.address`,
        `real server ${rs.address} is ${rs.family} but the service is ${vs.family} (expected the same family with ${rs.forwarding} forwarding; only TUN may mix)`,
      );
    }
    const key = `${rs.address}/${rs.port}`;
    if (seen.has(key)) {
      w.error(
        w.at(`${rp}.address`),
        `${rp}.address`,
        `real server ${rs.address}:${rs.port} is listed twice in this service`,
      );
    }
    seen.add(key);
    for (const c of rs.checks) {
      const cp = w.pathOf.get(c) ?? `${rp}.checks`;
      if (c.type === "UDP_CHECK" && c.minReplyLength > c.maxReplyLength) {
        w.error(
          w.at(`${cp}.min_reply_length`),
          `${cp}.min_reply_length`,
          `min_reply_length ${c.minReplyLength} exceeds max_reply_length ${c.maxReplyLength}`,
        );
      }
      if (c.type !== "FILE_CHECK" && c.type !== "MISC_CHECK" && c.type !== "TCP_CHECK") {
        // Only TCP_CHECK opens its own socket (ffi); the others use Deno's / node's, which
        // cannot set SO_MARK or SO_BINDTODEVICE.
        for (const [key, v] of [["fwmark", c.fwmark], ["bind_if", c.bindIf]] as const) {
          if (v === undefined) continue;
          w.warn(
            w.at(`${cp}.${key}`),
            `${cp}.${key}`,
            `${key} is applied by TCP_CHECK only; ${c.type} ignores it`,
          );
        }
        if (c.type === "PING_CHECK" && c.bindPort !== undefined) {
          w.warn(w.at(`${cp}.bind_port`), `${cp}.bind_port`, "PING_CHECK has no port; ignored");
        }
      }
      if (
        c.type === "UDP_CHECK" && c.replyData === undefined &&
        (w.positions.has(`${cp}.min_reply_length`) || w.positions.has(`${cp}.max_reply_length`))
      ) {
        w.warn(
          w.at(cp),
          cp,
          "min_reply_length / max_reply_length are checked only with reply_data (keepalived " +
            "checks reply lengths only when require_reply gives data); ignored",
        );
      }
      if (
        c.type !== "FILE_CHECK" && c.type !== "MISC_CHECK" && c.bindto !== undefined &&
        familyOf(c.bindto) !== familyOf(c.connectIp)
      ) {
        w.error(
          w.at(`${cp}.bindto`),
          `${cp}.bindto`,
          `bindto ${c.bindto} is not of the family of ${c.connectIp}`,
        );
      }
    }
  }
}

function granularityRule(vs: VirtualServerConfig, path: string, w: Walker): void {
  const g = vs.persistenceGranularity!;
  if (vs.family === "ipv4") {
    const b = parseIp(g);
    const bits = b === null || b.family !== "ipv4"
      ? null
      : ((b.bytes[0]! << 24) | (b.bytes[1]! << 16) | (b.bytes[2]! << 8) | b.bytes[3]!) >>> 0;
    const contiguous = bits !== null && ((~bits >>> 0) & ((~bits >>> 0) + 1)) === 0;
    if (!contiguous) {
      w.error(w.at(path), path, `"${g}" is not a netmask (expected a netmask like 255.255.255.0)`);
    }
  } else if (!/^[0-9]{1,3}$/.test(g) || Number(g) < 1 || Number(g) > 128) {
    w.error(w.at(path), path, `"${g}" is not a prefix length (expected 1 to 128 for IPv6)`);
  }
  if (vs.persistenceTimeoutMs === 0) {
    w.warn(w.at(path), path, "persistence_granularity has no effect without persistence_timeout");
  }
}
