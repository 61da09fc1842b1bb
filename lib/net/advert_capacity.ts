/**
 * How many addresses fit in a VRRP advert, as keepalived 2.2.7 counts them (vrrp.c,
 * vrrp_complete_instance): the interface MTU less the Ethernet, IP and VRRP headers (and v2's 8
 * bytes of authentication data), divided by the address size, at most 255 (the count field is
 * one byte). keepalived moves the VIPs past that to the excluded VIPs (eVIPs): held, not listed.
 * Here, below lib/config and lib/vrrp, so that `check` and the runner count alike.
 *
 * @module
 */

/** The MTU keepalived assumes when the interface's is not known (DEFAULT_MTU). */
export const DEFAULT_MTU = 1500;

const ETHER_HEADER = 14;
const VRRP_HEADER = 8;
const VRRP_AUTH = 8;

/** Addresses an advert can list: 255 for IPv4 on a 1500-byte MTU, 89 for IPv6. */
export function advertCapacity(family: "ipv4" | "ipv6", version: 2 | 3, mtu: number): number {
  const hdr = family === "ipv4"
    ? ETHER_HEADER + 20 + VRRP_HEADER + (version === 2 ? VRRP_AUTH : 0)
    : ETHER_HEADER + 40 + VRRP_HEADER;
  const fit = Math.floor((mtu - hdr) / (family === "ipv4" ? 4 : 16));
  return Math.max(0, Math.min(255, fit));
}
