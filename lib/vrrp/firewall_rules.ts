/**
 * The nf_tables rules keepalived 2.2.7 installs for VRRP (vrrp_nftables.c), as pure message
 * lists: the same table layout, chains, sets and rules, in the same order, under haagent's own
 * table name. Two features use them:
 * - Accept_Mode false (`accept: false`, the default under vrrp_strict for non-owners): while
 *   master, traffic to the VIPs is dropped on input and traffic from them on output
 *   (RFC 5798 6.4.3: a non-owner master MUST NOT accept packets for the VIPs). IPv6 keeps
 *   neighbour discovery working, and link-local VIPs are matched with their interface.
 * - VMAC (`use_vmac`): IGMP / MLD reports the kernel sends from a macvlan would carry the
 *   virtual MAC (and so move it on the switches to a backup); they are duplicated to the base
 *   interface and dropped on the macvlan. IPv6 router solicitations from it are dropped.
 *
 * @module
 */
import {
  bitwise,
  chainMessage,
  cmpEq,
  dup,
  lookup,
  META,
  meta,
  NF_INET,
  NFPROTO,
  NFT_REG,
  NFT_TYPE,
  type NftMessage,
  payload,
  PAYLOAD_BASE,
  ruleMessage,
  SET_FLAG,
  type SetElement,
  setElementsMessage,
  setMessage,
  tableMessage,
  VERDICT,
  verdict,
} from "../netlink/nftables.ts";

/** The table haagent owns in both the `ip` and the `ip6` family. */
export const HAAGENT_TABLE = "haagent";
/** keepalived's default chain priority (vrrp_nf_chain_priority): just before `filter`. */
export const DEFAULT_CHAIN_PRIORITY = -1;

/** An address to drop traffic for, with the interface it sits on (for IPv6 link-local). */
export interface GuardedAddress {
  family: "ipv4" | "ipv6";
  /** 4 or 16 bytes. */
  address: Uint8Array;
  ifindex: number;
}

const IPPROTO_IGMP = 2;
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_SOLICIT = 135;
const ND_NEIGHBOR_ADVERT = 136;
const ND_ROUTER_SOLICIT = 133;
const MLD2_LISTENER_REPORT = 143;
// Offsets in the IP headers.
const IP4_PROTOCOL = 9;
const IP4_SADDR = 12;
const IP4_DADDR = 16;
const IP6_NEXTHDR = 6;
const IP6_SADDR = 8;
const IP6_DADDR = 24;

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

/** fe80::/10 as mask and value. */
const LL_MASK = Uint8Array.of(0xff, 0xc0, ...new Array<number>(14).fill(0));
const LL_PREFIX = Uint8Array.of(0xfe, 0x80, ...new Array<number>(14).fill(0));
/** The macvlan link kind, as `meta oifkind` compares it (IFNAMSIZ bytes). */
const MACVLAN_KIND = (() => {
  const b = new Uint8Array(16);
  b.set(new TextEncoder().encode("macvlan"));
  return b;
})();

/** Whether an IPv6 address is link-local (fe80::/10). */
export function isLinkLocal(a: Uint8Array): boolean {
  return a.length === 16 && a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;
}

/**
 * Builds the messages, remembering which parts of the table exist (each is created once, in
 * the first batch that needs it) and numbering sets as libnftnl does (one counter).
 */
export class FirewallRules {
  readonly table: string;
  readonly priority: number;
  #setId = 0;
  readonly #made = new Set<string>();

  constructor(table = HAAGENT_TABLE, priority = DEFAULT_CHAIN_PRIORITY) {
    this.table = table;
    this.priority = priority;
  }

  /** Forgets what was created (after the tables were deleted). */
  reset(): void {
    this.#made.clear();
  }

  /** Whether any part of the table of `family` was created. */
  has(family: "ipv4" | "ipv6"): boolean {
    return this.#made.has(`${family}:table`);
  }

  /** GETTABLE, to find a table left by an earlier run. */
  getTable(family: "ipv4" | "ipv6"): NftMessage {
    return tableMessage("get", NFPROTO[family], this.table);
  }

  /** DELTABLE (everything in it goes with it). */
  deleteTable(family: "ipv4" | "ipv6"): NftMessage {
    return tableMessage("del", NFPROTO[family], this.table);
  }

  /**
   * The messages adding (`op` "new") or removing ("del") drop rules for `addrs`, with whatever
   * table parts are still missing first (keepalived's order: table, chains, sets, rules, then
   * the elements of each set).
   */
  guard(op: "new" | "del", addrs: readonly GuardedAddress[]): NftMessage[] {
    const out: NftMessage[] = [];
    const v4 = addrs.filter((a) => a.family === "ipv4");
    const v6 = addrs.filter((a) => a.family === "ipv6" && !isLinkLocal(a.address));
    const ll = addrs.filter((a) => a.family === "ipv6" && isLinkLocal(a.address));
    if (op === "new") {
      if (v4.length > 0) out.push(...this.#setupIpv4Vips());
      if (v6.length > 0 || ll.length > 0) out.push(...this.#setupIpv6Vips());
      if (ll.length > 0) out.push(...this.#setupIpv6LinkLocal());
    }
    const elems = (family: "ipv4" | "ipv6", set: string, list: GuardedAddress[], ifx: boolean) => {
      if (list.length === 0 || !this.#made.has(`${family}:${set}`)) return;
      const elements: SetElement[] = list.map((a) => ({
        key: ifx ? new Uint8Array([...a.address, ...u32le(a.ifindex)]) : a.address,
      }));
      out.push(setElementsMessage(op, NFPROTO[family], this.table, set, elements));
    };
    elems("ipv4", "vips", v4, false);
    elems("ipv6", "vips", v6, false);
    elems("ipv6", "vips_link_local", ll, true);
    return out;
  }

  /**
   * The messages mapping a VMAC to its base interface (`op` "new") or unmapping it, so that
   * IGMP (IPv4) or MLD (IPv6) reports leave through the base interface.
   */
  vmac(op: "new" | "del", family: "ipv4" | "ipv6", vmacIfindex: number, baseIfindex: number) {
    const out: NftMessage[] = [];
    const mapId = op === "new" ? this.#setupVmac(family, out) : undefined;
    const nf = NFPROTO[family];
    if (!this.#made.has(`${family}:vmac_map`)) return out;
    const opts = { ...(mapId !== undefined ? { setId: mapId.map } : {}), exclusive: false };
    out.push(
      setElementsMessage(op, nf, this.table, "vmac_map", [
        { key: u32le(vmacIfindex), data: u32le(baseIfindex) },
      ], opts),
    );
    if (family === "ipv6") {
      const setOpts = { ...(mapId !== undefined ? { setId: mapId.set } : {}), exclusive: false };
      out.push(
        setElementsMessage(op, nf, this.table, "vmac_set", [{ key: u32le(vmacIfindex) }], setOpts),
      );
    }
    return out;
  }

  #once(key: string): boolean {
    if (this.#made.has(key)) return false;
    this.#made.add(key);
    return true;
  }

  #base(family: "ipv4" | "ipv6", name: "in" | "out"): NftMessage {
    return chainMessage(NFPROTO[family], this.table, name, {
      hooknum: name === "in" ? NF_INET.LOCAL_IN : NF_INET.LOCAL_OUT,
      priority: this.priority,
      type: "filter",
      policy: "accept",
    });
  }

  /** nft add table F T; nft add chain F T out { type filter hook output priority P; } */
  #setupTable(family: "ipv4" | "ipv6", out: NftMessage[]): void {
    if (this.#once(`${family}:table`)) {
      out.push(tableMessage("new", NFPROTO[family], this.table));
      out.push(this.#base(family, "out"));
    }
  }

  #setupIpv4Vips(): NftMessage[] {
    const out: NftMessage[] = [];
    this.#setupTable("ipv4", out);
    if (!this.#once("ipv4:vips")) return out;
    const f = NFPROTO.ipv4;
    out.push(this.#base("ipv4", "in"));
    out.push(setMessage(f, this.table, {
      name: "vips",
      keyType: NFT_TYPE.ipv4,
      keyLen: 4,
      id: ++this.#setId,
      keyByteOrder: 2,
    }));
    // nft add rule ip T in ip daddr @vips drop; ... out ip saddr @vips drop
    for (const [chain, off] of [["in", IP4_DADDR], ["out", IP4_SADDR]] as const) {
      out.push(ruleMessage(f, this.table, chain, [
        payload(NFT_REG.r1, PAYLOAD_BASE.network, off, 4),
        lookup(NFT_REG.r1, "vips"),
        verdict(VERDICT.drop),
      ]));
    }
    return out;
  }

  #setupIpv6Vips(): NftMessage[] {
    const out: NftMessage[] = [];
    this.#setupTable("ipv6", out);
    if (!this.#once("ipv6:vips")) return out;
    const f = NFPROTO.ipv6;
    const t = this.table;
    out.push(this.#base("ipv6", "in"));
    out.push(chainMessage(f, t, "in_link_local"));
    out.push(chainMessage(f, t, "out_link_local"));
    out.push(setMessage(f, t, {
      name: "vips",
      keyType: NFT_TYPE.ipv6,
      keyLen: 16,
      id: ++this.#setId,
      keyByteOrder: 2,
    }));
    const ndId = ++this.#setId;
    out.push(setMessage(f, t, {
      name: "neighbor-discovery",
      flags: SET_FLAG.constant,
      keyType: NFT_TYPE.icmpv6Type,
      keyLen: 1,
      id: ndId,
      keyByteOrder: 1,
    }));
    out.push(
      setElementsMessage("new", f, t, "neighbor-discovery", [
        { key: Uint8Array.of(ND_NEIGHBOR_SOLICIT) },
        { key: Uint8Array.of(ND_NEIGHBOR_ADVERT) },
      ], { setId: ndId, exclusive: false }),
    );
    for (const [chain, off] of [["in", IP6_DADDR], ["out", IP6_SADDR]] as const) {
      // icmpv6 type @neighbor-discovery accept
      out.push(ruleMessage(f, t, chain, [
        payload(NFT_REG.r1, PAYLOAD_BASE.network, IP6_NEXTHDR, 1),
        cmpEq(NFT_REG.r1, Uint8Array.of(IPPROTO_ICMPV6)),
        payload(NFT_REG.r1, PAYLOAD_BASE.transport, 0, 1),
        lookup(NFT_REG.r1, "neighbor-discovery"),
        verdict(VERDICT.accept),
      ]));
      // ip6 daddr fe80::/10 goto in_link_local (saddr / out_link_local for output)
      out.push(ruleMessage(f, t, chain, [
        payload(NFT_REG.r1, PAYLOAD_BASE.network, off, 16),
        bitwise(NFT_REG.r1, NFT_REG.r1, LL_MASK, new Uint8Array(16)),
        cmpEq(NFT_REG.r1, LL_PREFIX),
        verdict(VERDICT.goto, `${chain}_link_local`),
      ]));
    }
    for (const [chain, off] of [["in", IP6_DADDR], ["out", IP6_SADDR]] as const) {
      out.push(ruleMessage(f, t, chain, [
        payload(NFT_REG.r1, PAYLOAD_BASE.network, off, 16),
        lookup(NFT_REG.r1, "vips"),
        verdict(VERDICT.drop),
      ]));
    }
    return out;
  }

  #setupIpv6LinkLocal(): NftMessage[] {
    if (!this.#once("ipv6:vips_link_local")) return [];
    const f = NFPROTO.ipv6;
    const t = this.table;
    const out: NftMessage[] = [
      setMessage(f, t, {
        name: "vips_link_local",
        keyType: (NFT_TYPE.ipv6 << 6) | NFT_TYPE.ifindex,
        keyLen: 20,
        id: ++this.#setId,
        keyByteOrder: 1,
      }),
    ];
    // ip6 daddr . iif @vips_link_local drop (saddr . oif for output)
    for (
      const [chain, off, key] of [
        ["in_link_local", IP6_DADDR, META.iif],
        ["out_link_local", IP6_SADDR, META.oif],
      ] as const
    ) {
      out.push(ruleMessage(f, t, chain, [
        payload(NFT_REG.r1, PAYLOAD_BASE.network, off, 16),
        meta(key, NFT_REG.r2),
        lookup(NFT_REG.r1, "vips_link_local"),
        verdict(VERDICT.drop),
      ]));
    }
    return out;
  }

  /** Creates the map (and for IPv6 the set) and the rules; returns their batch ids. */
  #setupVmac(
    family: "ipv4" | "ipv6",
    out: NftMessage[],
  ): { map: number; set: number } | undefined {
    this.#setupTable(family, out);
    if (!this.#once(`${family}:vmac_map`)) return undefined;
    const f = NFPROTO[family];
    const t = this.table;
    const map = ++this.#setId;
    out.push(setMessage(f, t, {
      name: "vmac_map",
      flags: SET_FLAG.map,
      keyType: NFT_TYPE.ifindex,
      keyLen: 4,
      dataType: NFT_TYPE.ifindex,
      dataLen: 4,
      id: map,
      keyByteOrder: 1,
      dataByteOrder: 1,
    }));
    let set = 0;
    if (family === "ipv6") {
      set = ++this.#setId;
      out.push(setMessage(f, t, {
        name: "vmac_set",
        keyType: NFT_TYPE.ifindex,
        keyLen: 4,
        id: set,
        keyByteOrder: 1,
      }));
    }
    const oifIsMacvlan = [
      meta(META.oifkind, NFT_REG.r2),
      cmpEq(NFT_REG.r2, MACVLAN_KIND),
      meta(META.oif, NFT_REG.r2),
    ];
    // ip protocol igmp meta oifkind "macvlan" dup to ip daddr device oif map @vmac_map drop
    // (ip6: icmpv6 type mld2-listener-report ... ip6 daddr ...)
    const match = family === "ipv4"
      ? [
        payload(NFT_REG.r1, PAYLOAD_BASE.network, IP4_PROTOCOL, 1),
        cmpEq(NFT_REG.r1, Uint8Array.of(IPPROTO_IGMP)),
        payload(NFT_REG.r1, PAYLOAD_BASE.network, IP4_DADDR, 4),
      ]
      : [
        meta(META.l4proto, NFT_REG.r1),
        cmpEq(NFT_REG.r1, Uint8Array.of(IPPROTO_ICMPV6)),
        payload(NFT_REG.r1, PAYLOAD_BASE.transport, 0, 1),
        cmpEq(NFT_REG.r1, Uint8Array.of(MLD2_LISTENER_REPORT)),
        payload(NFT_REG.r1, PAYLOAD_BASE.network, IP6_DADDR, 16),
      ];
    out.push(ruleMessage(f, t, "out", [
      ...match,
      ...oifIsMacvlan,
      lookup(NFT_REG.r2, "vmac_map", { dreg: NFT_REG.r2, setId: map }),
      dup(NFT_REG.r1, NFT_REG.r2),
      verdict(VERDICT.drop),
    ]));
    if (family === "ipv6") {
      // icmpv6 type nd-router-solicit meta oifkind "macvlan" oif @vmac_set drop
      out.push(ruleMessage(f, t, "out", [
        meta(META.l4proto, NFT_REG.r1),
        cmpEq(NFT_REG.r1, Uint8Array.of(IPPROTO_ICMPV6)),
        payload(NFT_REG.r1, PAYLOAD_BASE.transport, 0, 1),
        cmpEq(NFT_REG.r1, Uint8Array.of(ND_ROUTER_SOLICIT)),
        ...oifIsMacvlan,
        lookup(NFT_REG.r2, "vmac_set", { setId: set }),
        verdict(VERDICT.drop),
      ]));
    }
    return { map, set };
  }
}
