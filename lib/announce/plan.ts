/**
 * What the agent announces to BGP and from which sources: the VIPs of instances with
 * `announce: true` (held while MASTER) and the addresses of virtual servers with
 * `announce: true` (held while their quorum holds), as host routes in one kernel table with one
 * protocol number. Plain data, compared by JSON on reload.
 *
 * @module
 */
import type { VirtualServerConfig } from "../config/types.ts";

/** An address family. */
export type Family = "ipv4" | "ipv6";

/** One VRRP instance's announced addresses, each with the interface it is added to. */
export interface AnnouncedInstance {
  name: string;
  addresses: { family: Family; address: string; device: string }[];
}

/** One virtual server's announced addresses. */
export interface AnnouncedService {
  /** `virtualServerKey()`: how the load-balancer side names it in quorum reports. */
  key: string;
  /** For status and logs: `TCP 198.51.100.60:53`. */
  name: string;
  addresses: { family: Family; address: string }[];
}

/** The announce part of the agent's plan. */
export interface AnnouncePlan {
  table: number;
  protocol: number;
  instances: AnnouncedInstance[];
  virtualServers: AnnouncedService[];
}

/** A virtual server's quorum as the load-balancer side reports it to the agent. */
export interface QuorumReport {
  key: string;
  /** Quorum holds (with hysteresis, as keepalived). */
  up: boolean;
  /** Real servers whose checks pass, of all real servers. */
  upServers: number;
  servers: number;
  /** Sum of live weights, and the quorum it is compared with. */
  aliveWeight: number;
  quorum: number;
}

/**
 * The identity of a virtual server shared by the agent and the load-balancer worker: its
 * protocol and address, fwmark or group (the loader refuses two services with the same one).
 */
export function virtualServerKey(vs: VirtualServerConfig): string {
  const what = vs.group !== undefined
    ? `group ${vs.group}`
    : vs.fwmark !== undefined
    ? `fwmark ${vs.fwmark}`
    : vs.family === "ipv6"
    ? `[${vs.address}]:${vs.port}`
    : `${vs.address}:${vs.port}`;
  return `${vs.protocol} ${vs.family} ${what}`;
}
