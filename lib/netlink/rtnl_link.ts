/**
 * rtnetlink link requests beyond listing, pure: create a macvlan, delete a link, set it up, set
 * IPv4 per-interface settings (devconf: arp_ignore, rp_filter, ...) and the IPv6 address
 * generation mode; and read a link's kind, parent and IPv4 devconf from RTM_NEWLINK messages.
 * Laid out as keepalived 2.2.7 sends them (vrrp_vmac.c, vrrp_if_config.c), so captured
 * requests compare byte for byte.
 *
 * @module
 */

import { AttributeDecoder, AttributeEncoder } from "./attrs.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_LINK,
  IFLA_LINKINFO,
  NLM_F_CREATE,
  NLM_F_EXCL,
  RTM_DELLINK,
  RTM_NEWLINK,
} from "./message.ts";

/** Per-interface IPv4 settings (enum IPV4_DEVCONF_*, the sysctls of net.ipv4.conf.IF). */
export const DEVCONF = {
  rp_filter: 8,
  arp_filter: 13,
  arp_ignore: 19,
  promote_secondaries: 20,
  accept_local: 23,
} as const;

/** A devconf setting by name. */
export type DevconfName = keyof typeof DEVCONF;

/** Link attribute: per-family data (IFLA_AF_SPEC). */
export const IFLA_AF_SPEC = 26;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_MACVLAN_MODE = 1;
/** macvlan mode private: no traffic between macvlans of one parent (keepalived's VMAC mode). */
export const MACVLAN_MODE_PRIVATE = 1;
const IFLA_INET_CONF = 1;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
const IFINFOMSG_LEN = 16;

/** An rtnetlink link request ready to send: message type, flags beyond REQUEST|ACK, payload. */
export interface LinkRequest {
  type: number;
  flags: number;
  payload: Uint8Array;
}

function ifinfomsg(family: number, ifindex: number, flags = 0, change = 0): Uint8Array {
  const b = new Uint8Array(IFINFOMSG_LEN);
  const v = new DataView(b.buffer);
  b[0] = family;
  v.setInt32(4, ifindex, true);
  v.setUint32(8, flags >>> 0, true);
  v.setUint32(12, change >>> 0, true);
  return b;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Nests without NLA_F_NESTED, as keepalived and iproute2's addattr_l do for these types. */
function plainNest(e: AttributeEncoder, type: number, fn: (inner: AttributeEncoder) => void): void {
  const inner = new AttributeEncoder();
  fn(inner);
  e.bytes(type, inner.finish());
}

/** A macvlan to create on `parentIfindex`. */
export interface MacvlanSpec {
  name: string;
  parentIfindex: number;
  mac: Uint8Array;
  /** MACVLAN_MODE_*; keepalived's VMAC uses private. */
  mode: number;
}

/** RTM_NEWLINK with NLM_F_CREATE | NLM_F_EXCL: `ip link add link P name N address M type macvlan mode private`. */
export function createMacvlanRequest(s: MacvlanSpec): LinkRequest {
  if (s.mac.length !== 6) throw new RangeError(`MAC address of ${s.mac.length} bytes`);
  if (s.name === "" || s.name.length > 15) {
    throw new RangeError(`Invalid interface name "${s.name}" (1 to 15 characters)`);
  }
  const e = new AttributeEncoder();
  plainNest(e, IFLA_LINKINFO, (li) => {
    li.bytes(IFLA_INFO_KIND, new TextEncoder().encode("macvlan"));
    plainNest(li, IFLA_INFO_DATA, (d) => d.u32(IFLA_MACVLAN_MODE, s.mode));
  });
  e.u32(IFLA_LINK, s.parentIfindex);
  e.bytes(IFLA_IFNAME, new TextEncoder().encode(s.name));
  e.bytes(IFLA_ADDRESS, s.mac);
  return {
    type: RTM_NEWLINK,
    flags: NLM_F_CREATE | NLM_F_EXCL,
    payload: join(ifinfomsg(AF_UNSPEC, 0), e.finish()),
  };
}

/** RTM_DELLINK of `ifindex` (family AF_INET, as keepalived sends it; the kernel ignores it). */
export function deleteLinkRequest(ifindex: number): LinkRequest {
  return { type: RTM_DELLINK, flags: 0, payload: ifinfomsg(AF_INET, ifindex) };
}

/** RTM_NEWLINK setting IFF_UP. */
export function linkUpRequest(ifindex: number): LinkRequest {
  return { type: RTM_NEWLINK, flags: 0, payload: ifinfomsg(AF_UNSPEC, ifindex, IFF_UP, IFF_UP) };
}

/** RTM_NEWLINK setting IPv4 devconf values (`sysctl net.ipv4.conf.IF.NAME=V`), in order. */
export function devconfRequest(
  ifindex: number,
  values: readonly (readonly [DevconfName, number])[],
): LinkRequest {
  const e = new AttributeEncoder();
  plainNest(
    e,
    IFLA_AF_SPEC,
    (spec) =>
      plainNest(spec, AF_INET, (inet) =>
        plainNest(inet, IFLA_INET_CONF, (conf) => {
          for (const [name, v] of values) conf.u32(DEVCONF[name], v);
        })),
  );
  return { type: RTM_NEWLINK, flags: 0, payload: join(ifinfomsg(AF_UNSPEC, ifindex), e.finish()) };
}

/**
 * RTM_NEWLINK setting IPv6 address generation to none, so the link gets no EUI-64 link-local
 * address from its (virtual) MAC (RFC 5798 7.4; keepalived does this before setting it up).
 */
export function addrGenModeNoneRequest(ifindex: number): LinkRequest {
  const e = new AttributeEncoder();
  plainNest(
    e,
    IFLA_AF_SPEC,
    (spec) =>
      plainNest(
        spec,
        AF_INET6,
        (inet6) => inet6.u8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE),
      ),
  );
  return { type: RTM_NEWLINK, flags: 0, payload: join(ifinfomsg(AF_UNSPEC, ifindex), e.finish()) };
}

/** What `linkDetails` finds in an RTM_NEWLINK message. */
export interface LinkDetails {
  /** IFLA_INFO_KIND ("macvlan", "veth", ...), or null. */
  kind: string | null;
  /** IFLA_MACVLAN_MODE when the kind is macvlan. */
  macvlanMode: number | null;
  /** IFLA_LINK: the parent's index (macvlan, vlan, veth peer), or null. */
  parentIndex: number | null;
  /** IPv4 devconf by IPV4_DEVCONF number, when the kernel sent it. */
  ipv4Conf: ReadonlyMap<number, number>;
}

/** Reads kind, parent and IPv4 devconf from the attributes after `ifinfomsg`; never throws. */
export function linkDetails(attrs: Uint8Array): LinkDetails {
  const out = {
    kind: null as string | null,
    macvlanMode: null as number | null,
    parentIndex: null as number | null,
    ipv4Conf: new Map<number, number>(),
  };
  const d = new AttributeDecoder(attrs);
  while (d.next()) {
    switch (d.type) {
      case IFLA_LINK:
        out.parentIndex = d.u32();
        break;
      case IFLA_LINKINFO:
        d.nested((li) => {
          while (li.next()) {
            if (li.type === IFLA_INFO_KIND) out.kind = li.string();
            else if (li.type === IFLA_INFO_DATA && out.kind === "macvlan") {
              li.nested((data) => {
                while (data.next()) {
                  if (data.type === IFLA_MACVLAN_MODE) out.macvlanMode = data.u32();
                }
              });
            }
          }
        });
        break;
      case IFLA_AF_SPEC:
        d.nested((spec) => {
          while (spec.next()) {
            if (spec.type !== AF_INET) continue;
            spec.nested((inet) => {
              while (inet.next()) {
                if (inet.type !== IFLA_INET_CONF) continue;
                // The kernel sends a bare u32 array indexed by IPV4_DEVCONF_* - 1 (host order).
                const raw = inet.bytes();
                const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
                for (let i = 0; i + 4 <= raw.length; i += 4) {
                  out.ipv4Conf.set(i / 4 + 1, v.getUint32(i, true));
                }
              }
            });
          }
        });
        break;
    }
  }
  return out;
}
