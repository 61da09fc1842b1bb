/**
 * Kernel-level IPVS state, as desired by haagent or found in the kernel (not the YAML config):
 * virtual services, their real servers (destinations), and the text forms used in logs.
 *
 * @module
 */

import { formatIp, isIpv4, parseIp } from "../net/ip.ts";

/** Address family of a service or destination. */
export type IpvsFamily = "ipv4" | "ipv6";

/** Transport protocol of an address:port service. */
export type IpvsProtocol = "tcp" | "udp" | "sctp";

/** Identifies a virtual service: protocol + address + port, or a firewall mark. */
export type ServiceKey =
  | { family: IpvsFamily; protocol: IpvsProtocol; address: string; port: number }
  | { family: IpvsFamily; fwmark: number };

/** Service flags (`IP_VS_SVC_F_*`); `sh*` and `mh*` share the scheduler flag bits 1 and 2. */
export interface ServiceFlags {
  persistent?: boolean;
  /** Set by the kernel on every service it holds; ignored when comparing. */
  hashed?: boolean;
  /** One-packet scheduling (keepalived `ops`). */
  onePacket?: boolean;
  shFallback?: boolean;
  shPort?: boolean;
  mhFallback?: boolean;
  mhPort?: boolean;
}

/** Traffic counters from a dump (ignored when comparing). */
export interface IpvsStats {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
}

/** A virtual service, without its destinations. */
export interface Service {
  key: ServiceKey;
  /** Scheduler name: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh twos. */
  scheduler: string;
  flags: ServiceFlags;
  /** Persistence timeout; 0 when not persistent. */
  timeoutS: number;
  /** Persistence granularity: a dotted mask for IPv4, a prefix length ("128") for IPv6. */
  netmask: string;
  /** Counters, in dumps only. */
  stats?: IpvsStats;
}

/** How packets reach a destination. `local` is what the kernel reports for a local address. */
export type Forwarding = "nat" | "dr" | "tun" | "local";

/** Encapsulation of a `tun` destination. */
export type TunnelType = "ipip" | "gue" | "gre";

/** A real server of a service; its family is its address's. */
export interface Destination {
  address: string;
  port: number;
  forwarding: Forwarding;
  /** `tun` only; default ipip. */
  tunnelType?: TunnelType;
  /** `tun` with gue only: the UDP port. */
  tunnelPort?: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Active and inactive connections, in dumps only. */
  activeConns?: number;
  inactiveConns?: number;
  /** Counters, in dumps only. */
  stats?: IpvsStats;
}

/** A service with its destinations: what `diff` compares and `dump` returns. */
export interface DesiredService extends Service {
  destinations: Destination[];
}

/** The netmask of a non-persistent service of `family` (all ones). */
export function fullNetmask(family: IpvsFamily): string {
  return family === "ipv4" ? "255.255.255.255" : "128";
}

/** The canonical text of an address (so `::0001` and `::1` compare equal); input if invalid. */
export function canonicalAddress(address: string): string {
  // Dotted quads parseIp accepts have no leading zeros: they are their own canonical text.
  if (isIpv4(address)) return address;
  const ip = parseIp(address);
  return ip === null ? address : formatIp(ip.bytes);
}

/** The family of an address text, or null when it is not an address. */
export function addressFamily(address: string): IpvsFamily | null {
  if (isIpv4(address)) return "ipv4";
  return parseIp(address)?.family ?? null;
}

function hostPort(address: string, port: number): string {
  if (isIpv4(address)) return `${address}:${port}`;
  const a = canonicalAddress(address);
  return a.includes(":") ? `[${a}]:${port}` : `${a}:${port}`;
}

/** A service key as ipvsadm shows it: `TCP 10.0.0.50:80`, `UDP [2001:db8::1]:53`, `FWM 7`. */
export function serviceName(key: ServiceKey): string {
  if ("fwmark" in key) return `FWM ${key.fwmark}${key.family === "ipv6" ? " IPv6" : ""}`;
  return `${key.protocol.toUpperCase()} ${hostPort(key.address, key.port)}`;
}

/** A destination as ipvsadm shows it: `10.0.0.11:80`, `[2001:db8::11]:80`. */
export function destinationName(dest: Pick<Destination, "address" | "port">): string {
  return hostPort(dest.address, dest.port);
}
