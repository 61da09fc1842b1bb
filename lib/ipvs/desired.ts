/**
 * keepalived's rules that decide IPVS state, pure: virtual_server_group expansion (addresses,
 * ranges, fwmarks), real servers by health (alpha: down until the first success;
 * inhibit_on_failure: weight 0 instead of removal), quorum with hysteresis and the sorry server,
 * omega (removed on shutdown). The input mirrors docs/format-sketch.yaml `virtual_servers`.
 *
 * @module
 */

import { parseIp } from "../net/ip.ts";
import type {
  DesiredService,
  Destination,
  IpvsFamily,
  IpvsProtocol,
  ServiceFlags,
  ServiceKey,
  TunnelType,
} from "./types.ts";
import { fullNetmask, serviceName } from "./types.ts";

/** A real server of a virtual server, as configured. */
export interface RealServerInput {
  /** `10.0.0.11:80` or `[2001:db8::11]:80` (port optional for fwmark services). */
  address: string;
  weight?: number;
  forwarding?: "NAT" | "DR" | "TUN";
  upperThreshold?: number;
  lowerThreshold?: number;
  inhibitOnFailure?: boolean;
}

/** One `virtual_servers` entry. Exactly one of address, fwmark, group. */
export interface VirtualServerInput {
  address?: string;
  fwmark?: number;
  group?: string;
  /** Family of a fwmark service (default ipv4). */
  family?: IpvsFamily;
  protocol?: "TCP" | "UDP" | "SCTP";
  scheduler?: string;
  schedulerFlags?: ("sh-fallback" | "sh-port" | "mh-fallback" | "mh-port")[];
  forwarding?: "NAT" | "DR" | "TUN";
  tunnelType?: TunnelType;
  persistenceTimeoutS?: number;
  persistenceGranularity?: string;
  inhibitOnFailure?: boolean;
  quorum?: number;
  hysteresis?: number;
  alpha?: boolean;
  omega?: boolean;
  ops?: boolean;
  sorryServer?: string;
  realServers: RealServerInput[];
}

/** A `virtual_server_groups` member. */
export type GroupMember = string | { fwmark: number } | { range: string; port: number };

/** Everything the mapping needs; health and previous quorum come from the checkers. */
export interface DesiredInput {
  virtualServers: readonly VirtualServerInput[];
  groups?: Readonly<Record<string, readonly GroupMember[]>>;
  /** Checker verdict of real server `rs` of virtual server `vs` (indexes); undefined = none yet. */
  alive: (vs: number, rs: number) => boolean | undefined;
  /** Quorum state of virtual server `vs` after the previous evaluation (undefined = first). */
  previousQuorum?: (vs: number) => boolean | undefined;
  /** The agent is stopping: omega virtual servers are removed. */
  shuttingDown?: boolean;
}

/** The result: the services to program and each virtual server's quorum state. */
export interface DesiredOutput {
  services: DesiredService[];
  /** Quorum state per virtual server index (true = up). */
  quorum: boolean[];
}

/** Splits `host:port` / `[v6]:port` / bare host into address and port (0 when absent). */
export function splitHostPort(text: string): { address: string; port: number } | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const address = m?.[1];
  if (address === undefined || parseIp(address) === null) {
    return parseIp(text) === null ? null : { address: text, port: 0 };
  }
  const port = m?.[2] === undefined ? 0 : Number(m[2]);
  return port > 65535 ? null : { address, port };
}

/** Expands `10.0.0.60-69` (last IPv4 octet or last IPv6 group, hex) into addresses. */
export function expandRange(range: string): string[] {
  const dash = range.lastIndexOf("-");
  const first = range.slice(0, dash);
  const ip = parseIp(first);
  if (dash < 0 || ip === null) throw new RangeError(`bad address range "${range}"`);
  const v4 = ip.family === "ipv4";
  const sep = v4 ? "." : ":";
  const head = first.slice(0, first.lastIndexOf(sep) + 1);
  const from = parseInt(first.slice(first.lastIndexOf(sep) + 1), v4 ? 10 : 16);
  const to = parseInt(range.slice(dash + 1), v4 ? 10 : 16);
  if (!(to >= from) || to > (v4 ? 255 : 0xffff)) {
    throw new RangeError(`bad address range "${range}"`);
  }
  const out: string[] = [];
  for (let i = from; i <= to; i++) out.push(head + (v4 ? String(i) : i.toString(16)));
  return out;
}

function keysOf(vs: VirtualServerInput, groups: DesiredInput["groups"]): ServiceKey[] {
  const protocol = (vs.protocol ?? "TCP").toLowerCase() as IpvsProtocol;
  const hostKey = (address: string, port: number): ServiceKey => {
    const family = parseIp(address)?.family;
    if (family === undefined) throw new RangeError(`bad virtual server address "${address}"`);
    return { family, protocol, address, port };
  };
  if (vs.fwmark !== undefined) return [{ family: vs.family ?? "ipv4", fwmark: vs.fwmark }];
  if (vs.address !== undefined) {
    const hp = splitHostPort(vs.address);
    if (hp === null) throw new RangeError(`bad virtual server address "${vs.address}"`);
    return [hostKey(hp.address, hp.port)];
  }
  const members = vs.group === undefined ? undefined : groups?.[vs.group];
  if (members === undefined) throw new RangeError(`unknown virtual_server_group "${vs.group}"`);
  return members.flatMap((m): ServiceKey[] => {
    if (typeof m === "string") {
      const hp = splitHostPort(m);
      if (hp === null) throw new RangeError(`bad group member "${m}"`);
      return [hostKey(hp.address, hp.port)];
    }
    if ("fwmark" in m) return [{ family: vs.family ?? "ipv4", fwmark: m.fwmark }];
    return expandRange(m.range).map((a) => hostKey(a, m.port));
  });
}

function flagsOf(vs: VirtualServerInput): ServiceFlags {
  const f: ServiceFlags = {};
  if ((vs.persistenceTimeoutS ?? 0) > 0) f.persistent = true;
  if (vs.ops) f.onePacket = true;
  for (const s of vs.schedulerFlags ?? []) {
    if (s === "sh-fallback") f.shFallback = true;
    if (s === "sh-port") f.shPort = true;
    if (s === "mh-fallback") f.mhFallback = true;
    if (s === "mh-port") f.mhPort = true;
  }
  return f;
}

function dest(
  rs: RealServerInput,
  vs: VirtualServerInput,
  weight: number,
): Destination {
  const hp = splitHostPort(rs.address);
  if (hp === null) throw new RangeError(`bad real server address "${rs.address}"`);
  const fwd = (rs.forwarding ?? vs.forwarding ?? "NAT").toLowerCase() as "nat" | "dr" | "tun";
  const d: Destination = {
    address: hp.address,
    port: hp.port,
    forwarding: fwd,
    weight,
    upperThreshold: rs.upperThreshold ?? 0,
    lowerThreshold: rs.lowerThreshold ?? 0,
  };
  if (fwd === "tun") d.tunnelType = vs.tunnelType ?? "ipip";
  return d;
}

/**
 * keepalived's quorum with hysteresis: up when the alive weight sum reaches quorum + hysteresis,
 * down when it falls below quorum - hysteresis, otherwise unchanged (first time: >= quorum).
 */
export function quorumUp(
  aliveWeight: number,
  quorum: number,
  hysteresis: number,
  previous: boolean | undefined,
): boolean {
  if (previous === undefined) return aliveWeight >= quorum;
  if (previous) return !(aliveWeight < quorum - hysteresis);
  return aliveWeight >= quorum + hysteresis;
}

/** The IPVS services keepalived would program for this configuration and health. */
export function desiredFromConfig(input: DesiredInput): DesiredOutput {
  const services: DesiredService[] = [];
  const quorum: boolean[] = [];
  const seen = new Set<string>();
  input.virtualServers.forEach((vs, v) => {
    const dests: Destination[] = [];
    let aliveWeight = 0;
    vs.realServers.forEach((rs, r) => {
      const verdict = input.alive(v, r);
      // alpha: a server starts down until its first check succeeds; otherwise it starts up.
      const up = verdict ?? !(vs.alpha ?? false);
      const weight = rs.weight ?? 1;
      if (up) {
        aliveWeight += weight;
        dests.push(dest(rs, vs, weight));
      } else if (rs.inhibitOnFailure ?? vs.inhibitOnFailure ?? false) {
        dests.push(dest(rs, vs, 0));
      }
    });
    const up = quorumUp(
      aliveWeight,
      vs.quorum ?? 1,
      vs.hysteresis ?? 0,
      input.previousQuorum?.(v),
    );
    quorum.push(up);
    if (!up && vs.sorryServer !== undefined) {
      dests.push(dest({ address: vs.sorryServer, weight: 1 }, vs, 1));
    }
    if (input.shuttingDown && vs.omega) return;
    for (const key of keysOf(vs, input.groups)) {
      const name = serviceName(key);
      if (seen.has(name)) continue;
      seen.add(name);
      const ds = "fwmark" in key ? dests : dests.map((d) => ({ ...d, port: d.port || key.port }));
      services.push({
        key,
        scheduler: vs.scheduler ?? "wlc",
        flags: flagsOf(vs),
        timeoutS: vs.persistenceTimeoutS ?? 0,
        netmask: vs.persistenceGranularity ?? fullNetmask(key.family),
        destinations: ds.map((d) => ({ ...d })),
      });
    }
  });
  return { services, quorum };
}
