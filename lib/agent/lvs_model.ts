/**
 * Pure mapping from the configuration's virtual servers to IPVS desired state: service keys
 * (groups and ranges expanded), service settings, check specs, and the destinations a pass
 * must program given which real servers are alive (inhibit_on_failure, sorry_server, quorum).
 *
 * @module
 */
import type { CheckSpec, DnsType } from "../check/types.ts";
import type {
  CheckConfig,
  Config,
  RealServerConfig,
  VirtualServerConfig,
  VsGroupEntry,
} from "../config/types.ts";
import {
  type DesiredService,
  type Destination,
  fullNetmask,
  type Service,
  type ServiceKey,
  serviceName,
} from "../ipvs/types.ts";
import { formatIp, parseIp } from "../net/ip.ts";

/** A real server's live condition. */
export interface RsState {
  up: boolean;
  /** Weight from a dynamic check (MISC_CHECK misc_dynamic, FILE_CHECK), if any. */
  dynamicWeight: number | null;
}

/** One virtual server, ready to run. */
export interface VsModel {
  /** Stable id: the position-independent description of the virtual server. */
  id: string;
  /** For logs and status: `TCP 10.0.0.50:80`, `FWM 7`, `group web (3 services)`. */
  name: string;
  keys: ServiceKey[];
  service: Omit<Service, "key">;
  config: VirtualServerConfig;
  realServers: RsModel[];
}

/** One real server of a virtual server. */
export interface RsModel {
  id: string;
  name: string;
  config: RealServerConfig;
  checks: CheckSpec[];
}

function lowerForwarding(f: "NAT" | "DR" | "TUN"): Destination["forwarding"] {
  return f === "NAT" ? "nat" : f === "DR" ? "dr" : "tun";
}

function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Every address from `from` to `to` (same family, last 16 bits may differ), at most 65536. */
export function expandRange(from: string, to: string): string[] {
  const a = parseIp(from), b = parseIp(to);
  if (a === null || b === null || a.family !== b.family) return [];
  const n = a.bytes.length;
  const lo = (a.bytes[n - 2]! << 8) | a.bytes[n - 1]!;
  const hi = (b.bytes[n - 2]! << 8) | b.bytes[n - 1]!;
  const out: string[] = [];
  for (let v = lo; v <= hi && out.length < 65536; v++) {
    const bytes = a.bytes.slice();
    bytes[n - 2] = v >> 8;
    bytes[n - 1] = v & 0xff;
    out.push(formatIp(bytes));
  }
  return out;
}

function groupKeys(entries: VsGroupEntry[], vs: VirtualServerConfig): ServiceKey[] {
  const protocol = vs.protocol.toLowerCase() as "tcp" | "udp" | "sctp";
  const keys: ServiceKey[] = [];
  for (const e of entries) {
    if (e.kind === "fwmark") keys.push({ family: e.family, fwmark: e.fwmark });
    else if (e.kind === "address") {
      keys.push({ family: e.family, protocol, address: e.address, port: e.port || vs.port });
    } else {
      for (const address of expandRange(e.from, e.to)) {
        keys.push({ family: e.family, protocol, address, port: e.port || vs.port });
      }
    }
  }
  return keys;
}

function serviceKeys(vs: VirtualServerConfig, c: Config): ServiceKey[] {
  if (vs.fwmark !== undefined) return [{ family: vs.family, fwmark: vs.fwmark }];
  if (vs.group !== undefined) return groupKeys(c.virtualServerGroups[vs.group] ?? [], vs);
  const protocol = vs.protocol.toLowerCase() as "tcp" | "udp" | "sctp";
  return [{ family: vs.family, protocol, address: vs.address!, port: vs.port }];
}

function payloadBytes(p: string | undefined): Uint8Array | null {
  if (p === undefined) return null;
  if (p.startsWith("hex:")) {
    const hex = p.slice(4).replace(/[\s:]/g, "");
    const out = new Uint8Array(hex.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  return new TextEncoder().encode(p);
}

/** Config check -> checker spec (units already in ms). */
function checkSpec(ck: CheckConfig, vs: VirtualServerConfig, heloName: string): CheckSpec {
  if (ck.type === "FILE_CHECK") {
    return {
      type: "FILE_CHECK",
      file: ck.file,
      weightMultiplier: ck.weightMultiplier,
      connectTimeoutMs: 5000,
      retry: 0,
      delayBeforeRetryMs: 1000,
      delayLoopMs: vs.delayLoopMs,
      warmupMs: 0,
      alpha: vs.alpha,
      rise: 1,
      fall: 1,
    };
  }
  const timing = {
    ...(ck.logAllFailures ? { logAllFailures: true } : {}),
    retry: ck.retry,
    delayBeforeRetryMs: ck.delayBeforeRetryMs,
    delayLoopMs: ck.delayLoopMs,
    warmupMs: ck.warmupMs,
    alpha: ck.alpha,
    rise: ck.rise,
    fall: ck.fall,
  };
  if (ck.type === "MISC_CHECK") {
    return {
      type: "MISC_CHECK",
      ...timing,
      connectTimeoutMs: ck.miscTimeoutMs,
      miscPath: ck.miscPath,
      miscTimeoutMs: ck.miscTimeoutMs,
      miscDynamic: ck.miscDynamic,
      ...(ck.user !== undefined ? { user: ck.user } : {}),
    };
  }
  const common = {
    ...timing,
    connectIp: ck.connectIp,
    connectPort: ck.connectPort,
    ...(ck.bindto !== undefined ? { bindto: ck.bindto } : {}),
    ...(ck.bindPort !== undefined ? { bindPort: ck.bindPort } : {}),
    ...(ck.bindIf !== undefined ? { bindIf: ck.bindIf } : {}),
    ...(ck.fwmark !== undefined ? { fwmark: ck.fwmark } : {}),
    connectTimeoutMs: ck.connectTimeoutMs,
  };
  switch (ck.type) {
    case "TCP_CHECK":
      return { type: "TCP_CHECK", ...common };
    case "PING_CHECK":
      return { type: "PING_CHECK", ...common };
    case "SMTP_CHECK":
      return { type: "SMTP_CHECK", ...common, heloName: ck.heloName ?? heloName };
    case "DNS_CHECK":
      return { type: "DNS_CHECK", ...common, dnsType: ck.dnsType as DnsType, dnsName: ck.dnsName };
    case "UDP_CHECK":
      return {
        type: "UDP_CHECK",
        ...common,
        payload: payloadBytes(ck.payload),
        requireReply: ck.requireReply || ck.replyData !== undefined,
        minReplyLength: ck.minReplyLength,
        maxReplyLength: ck.maxReplyLength,
        ...replyPattern(ck.replyData),
      };
    case "HTTP_GET":
    case "SSL_GET":
      return {
        type: ck.type,
        ...common,
        urls: ck.urls.map((u) => ({
          path: u.path,
          statusCodes: u.statusCodes.map((s) => [s.from, s.to] as [number, number]),
          ...(u.digest !== undefined ? { digest: u.digest.toLowerCase() } : {}),
          ...(u.regex !== undefined ? { regex: u.regex } : {}),
          regexNoMatch: u.regexNoMatch,
          ...(u.virtualhost ?? ck.virtualhost
            ? { virtualhost: (u.virtualhost ?? ck.virtualhost)! }
            : {}),
        })),
        httpProtocol: ck.httpProtocol === "1.1" ? "1.1" : "1.0",
        ...(ck.fastRecovery ? { fastRecovery: true } : {}),
        enableSni: ck.type === "SSL_GET" ? ck.enableSni : false,
        verifyCert: ck.type === "SSL_GET" ? ck.verifyCert : false,
      };
  }
}

/**
 * keepalived's read_hex_str for `require_reply HEX`: pairs of hexadecimal digits, spaces
 * ignored, `x` a wildcard nibble (its mask bits set).
 */
export function replyPattern(
  text: string | undefined,
): { replyData: Uint8Array; replyMask: Uint8Array | null } | Record<never, never> {
  if (text === undefined) return {};
  const digits = text.replace(/[ \t]/g, "");
  const data = new Uint8Array(Math.ceil(digits.length / 2));
  const mask = new Uint8Array(data.length);
  for (let i = 0; i < digits.length; i++) {
    const c = digits[i]!.toLowerCase();
    const shift = i % 2 === 0 && i + 1 < digits.length ? 4 : 0;
    if (c === "x") mask[i >> 1]! |= 0x0f << shift;
    else data[i >> 1]! |= parseInt(c, 16) << shift;
  }
  return { replyData: data, replyMask: mask.some((b) => b !== 0) ? mask : null };
}

/** Builds the models of every virtual server. */
export function buildModels(c: Config, heloName: string): VsModel[] {
  return c.virtualServers.map((vs) => {
    const keys = serviceKeys(vs, c);
    const name = vs.group !== undefined
      ? `group ${vs.group} (${keys.length} service${keys.length === 1 ? "" : "s"})`
      : serviceName(keys[0]!);
    const flags: Service["flags"] = {};
    if (vs.persistenceTimeoutMs > 0) flags.persistent = true;
    if (vs.ops) flags.onePacket = true;
    for (const f of vs.schedulerFlags) {
      if (f === "sh-fallback") flags.shFallback = true;
      if (f === "sh-port") flags.shPort = true;
      if (f === "mh-fallback") flags.mhFallback = true;
      if (f === "mh-port") flags.mhPort = true;
    }
    const service: Omit<Service, "key"> = {
      scheduler: vs.scheduler,
      flags,
      timeoutS: Math.round(vs.persistenceTimeoutMs / 1000),
      netmask: vs.persistenceGranularity ?? fullNetmask(vs.family),
    };
    const id = JSON.stringify({ keys, service });
    return {
      id,
      name,
      keys,
      service,
      config: vs,
      realServers: vs.realServers.map((rs) => ({
        id: `${id}/${hostPort(rs.address, rs.port)}`,
        name: hostPort(rs.address, rs.port),
        config: rs,
        checks: rs.checks.map((ck) => checkSpec(ck, vs, heloName)),
      })),
    };
  });
}

/** The destination of a real server with a weight. */
function destination(vs: VirtualServerConfig, rs: RealServerConfig, weight: number): Destination {
  const fwd = lowerForwarding(rs.forwarding);
  return {
    address: rs.address,
    port: rs.port,
    forwarding: fwd,
    ...(fwd === "tun" && vs.tunnelType !== undefined ? { tunnelType: vs.tunnelType } : {}),
    ...(fwd === "tun" && vs.tunnelPort !== undefined ? { tunnelPort: vs.tunnelPort } : {}),
    weight,
    upperThreshold: rs.upperThreshold,
    lowerThreshold: rs.lowerThreshold,
  };
}

/** The weight a live real server runs with. */
export function liveWeight(rs: RealServerConfig, st: RsState): number {
  return st.dynamicWeight ?? rs.weight;
}

/** Sum of live weights (what quorum is compared with). */
export function aliveWeight(m: VsModel, states: ReadonlyMap<string, RsState>): number {
  let sum = 0;
  for (const rs of m.realServers) {
    const st = states.get(rs.id);
    if (st?.up) sum += liveWeight(rs.config, st);
  }
  return sum;
}

/**
 * keepalived's quorum with hysteresis: gained at alive >= quorum + hysteresis, lost at
 * alive < quorum - hysteresis; in between it stays as it was.
 */
export function nextQuorum(m: VsModel, alive: number, was: boolean): boolean {
  const { quorum, hysteresis } = m.config;
  if (was) return alive >= quorum - hysteresis;
  return alive >= quorum + hysteresis;
}

/**
 * A new virtual server's quorum at start, as keepalived 2.2.7 decides it (init_service_vs ->
 * update_quorum_state with init set, from a state of no quorum): up when alive >= quorum +
 * hysteresis, and then quorum_up runs; otherwise down, and quorum_down runs only when there
 * is a sorry server to put in ("Starting with quorum down").
 */
export function startQuorum(m: VsModel, alive: number): { up: boolean; notify: boolean } {
  const up = alive >= m.config.quorum + m.config.hysteresis;
  return { up, notify: up || m.config.sorryServer !== undefined };
}

/** The IPVS services and destinations for one virtual server in its current condition. */
export function desiredFor(
  m: VsModel,
  states: ReadonlyMap<string, RsState>,
  quorumUp: boolean,
): DesiredService[] {
  const dests: Destination[] = [];
  for (const rs of m.realServers) {
    const st = states.get(rs.id) ?? { up: !m.config.alpha, dynamicWeight: null };
    if (st.up) dests.push(destination(m.config, rs.config, liveWeight(rs.config, st)));
    else if (rs.config.inhibitOnFailure) dests.push(destination(m.config, rs.config, 0));
  }
  const sorry = m.config.sorryServer;
  if (!quorumUp && sorry !== undefined) {
    dests.push({
      address: sorry.address,
      port: sorry.port || m.config.port,
      forwarding: lowerForwarding(m.config.forwarding),
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
    });
  }
  return m.keys.map((key) => ({
    key,
    ...m.service,
    flags: { ...m.service.flags },
    // fwmark services carry no port: real servers keep theirs.
    destinations: dests.map((d) => ({ ...d })),
  }));
}
