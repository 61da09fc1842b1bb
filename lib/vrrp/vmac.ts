/**
 * The VMAC writer (keepalived `use_vmac`, vrrp_vmac.c and vrrp_if_config.c): a macvlan in
 * private mode with the virtual router MAC 00:00:5e:00:01:VRID (IPv6 00:00:5e:00:02:VRID,
 * RFC 5798 7.3) on top of the instance's interface, carrying the VIPs, so that a failover moves
 * no MAC address in the clients' neighbour tables. What keepalived 2.2.7 sets, this sets:
 * - on the macvlan: arp_ignore 1, accept_local 1, rp_filter 0, promote_secondaries 1 (IPv4),
 *   IPv6 off for an IPv4 instance, address generation mode none, then up;
 * - on the base interface: arp_ignore 1 and arp_filter 1 (so only the macvlan answers ARP for
 *   the VIPs), put back when its last VMAC goes (keepalived 2.2.7 writes back what it had set);
 * - net.ipv4.conf.all.rp_filter 0, after raising default and every interface to the old value
 *   so nothing else changes (clear_rp_filter), restored at close;
 * - through the firewall writer, IGMP / MLD reports of the macvlan leave through the base.
 * A macvlan of that name left by an earlier run is reused when it matches, else replaced.
 *
 * @module
 */
import { Errno, SyscallError } from "../../ffi/errno.ts";
import type { AddressSpec, Link } from "../netlink/rtnl.ts";
import {
  addrGenModeNoneRequest,
  createMacvlanRequest,
  deleteLinkRequest,
  DEVCONF,
  devconfRequest,
  type LinkRequest,
  linkUpRequest,
  MACVLAN_MODE_PRIVATE,
} from "../netlink/rtnl_link.ts";
import { formatIp } from "../net/ip.ts";
import type { Logger } from "../runtime/log.ts";
import type { Sysctl } from "../runtime/sysctl.ts";
import type { Firewall } from "./firewall.ts";

/** The VRRP virtual MAC of a virtual router (RFC 5798 7.3). */
export function virtualMac(family: "ipv4" | "ipv6", vrid: number): Uint8Array {
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, family === "ipv4" ? 0x01 : 0x02, vrid);
}

/** keepalived's default VMAC name (`vrrp.VRID`). */
export function defaultVmacName(vrid: number): string {
  return `vrrp.${vrid}`;
}

/** The rtnetlink calls the writer needs (`Rtnl`, or a fake). */
export interface VmacRtnl {
  linkRequest(r: LinkRequest, what: string): Promise<void>;
  linkByName(name: string): Promise<Link | null>;
  listLinks(): Promise<Link[]>;
  addAddress(spec: AddressSpec): Promise<void>;
}

/** The EUI-64 link-local address of a MAC (keepalived make_link_local_address()). */
export function eui64LinkLocal(mac: Uint8Array): Uint8Array {
  return Uint8Array.of(
    0xfe,
    0x80,
    0,
    0,
    0,
    0,
    0,
    0,
    mac[0]! ^ 0x02,
    mac[1]!,
    mac[2]!,
    0xff,
    0xfe,
    mac[3]!,
    mac[4]!,
    mac[5]!,
  );
}

/** One instance's VMAC. */
export interface VmacSpec {
  /** The instance, for messages. */
  owner: string;
  /** Name of the macvlan (use_vmac NAME, default vrrp.VRID). */
  name: string;
  /** The instance's interface, the macvlan's parent. */
  base: string;
  family: "ipv4" | "ipv6";
  vrid: number;
  /**
   * IPv6 adverts sent from the VMAC: the link-local address to give it (keepalived
   * set_link_local_address(): unicast_src_ip, else the base's link-local, else the EUI-64 of
   * the base's MAC). Null: none (vmac_xmit_base, or IPv4).
   */
  linkLocal?: Uint8Array | null;
}

/** A VMAC in place. */
export interface VmacUp {
  ifindex: number;
  mac: Uint8Array;
  baseIfindex: number;
}

interface BaseState {
  refs: number;
  /** arp_ignore / arp_filter before we changed them, or null when they were already 1. */
  saved: { arpIgnore: number; arpFilter: number } | null;
  name: string;
}

function sameMac(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Creates, configures and removes VMACs; keeps what it changed so it can put it back. */
export class Vmacs {
  readonly #rtnl: VmacRtnl;
  readonly #sysctl: Sysctl;
  readonly #firewall: Firewall | null;
  readonly #log: Logger;
  readonly #up = new Map<string, { spec: VmacSpec; up: VmacUp }>();
  readonly #bases = new Map<number, BaseState>();
  /** clear_rp_filter's memory: all's old value, default's, and the interfaces raised. */
  #rpFilter: { all: number; dflt: number | null; raised: Map<number, number> } | null = null;

  constructor(host: { rtnl: VmacRtnl; sysctl: Sysctl; firewall: Firewall | null; log: Logger }) {
    this.#rtnl = host.rtnl;
    this.#sysctl = host.sysctl;
    this.#firewall = host.firewall;
    this.#log = host.log;
  }

  /** The VMAC of `name`, if up. */
  get(name: string): VmacUp | null {
    return this.#up.get(name)?.up ?? null;
  }

  /**
   * Creates (or reuses) and configures the VMAC of `spec`. Throws an Error naming the macvlan,
   * the step and the errno when it cannot; what was done so far is undone.
   */
  async up(spec: VmacSpec): Promise<VmacUp> {
    const have = this.#up.get(spec.name);
    if (have !== undefined) return have.up;
    const who = `(${spec.owner}) VMAC ${spec.name}`;
    const base = await this.#rtnl.linkByName(spec.base);
    if (base === null) throw new Error(`${who}: interface "${spec.base}" does not exist`);
    const mac = virtualMac(spec.family, spec.vrid);
    let link = await this.#rtnl.linkByName(spec.name);
    if (link !== null) {
      if (link.kind !== "macvlan") {
        throw new Error(`${who}: interface "${spec.name}" exists and is not a macvlan`);
      }
      if (
        link.parentIndex !== base.index || !sameMac(link.mac, mac) ||
        link.macvlanMode !== MACVLAN_MODE_PRIVATE
      ) {
        this.#log.warn(`${who}: replacing the macvlan of that name (other parent, MAC or mode)`);
        await this.#rtnl.linkRequest(deleteLinkRequest(link.index), `${who}: cannot delete it`);
        link = null;
      } else {
        this.#log.info(`${who}: reusing the macvlan left by an earlier run`);
      }
    }
    let created = false;
    if (link === null) {
      await this.#rtnl.linkRequest(
        createMacvlanRequest({
          name: spec.name,
          parentIfindex: base.index,
          mac,
          mode: MACVLAN_MODE_PRIVATE,
        }),
        `${who}: cannot create the macvlan on "${spec.base}"`,
      );
      created = true;
      link = await this.#rtnl.linkByName(spec.name);
      if (link === null) throw new Error(`${who}: created, but the kernel does not list it`);
    }
    const up: VmacUp = { ifindex: link.index, mac, baseIfindex: base.index };
    const held = { base: false };
    try {
      await this.#configure(spec, up, base, who, held);
    } catch (e) {
      if (created) {
        await this.#rtnl.linkRequest(deleteLinkRequest(up.ifindex), `${who}: cannot delete it`)
          .catch(() => {});
      }
      if (held.base) await this.#releaseBase(up.baseIfindex, who);
      throw e;
    }
    this.#up.set(spec.name, { spec, up });
    return up;
  }

  async #configure(
    spec: VmacSpec,
    up: VmacUp,
    base: Link,
    who: string,
    held: { base: boolean },
  ): Promise<void> {
    if (spec.family === "ipv4") {
      // keepalived: set_interface_parameters() for IPv4 instances.
      await this.#clearRpFilter();
      await this.#rtnl.linkRequest(
        devconfRequest(up.ifindex, [
          ["arp_ignore", 1],
          ["accept_local", 1],
          ["rp_filter", 0],
          ["promote_secondaries", 1],
        ]),
        `${who}: cannot set arp_ignore, accept_local, rp_filter, promote_secondaries`,
      );
      await this.#holdBase(base, who);
      held.base = true;
    }
    this.#firewall?.mapVmac(spec.family, up.ifindex, up.baseIfindex, spec.owner);
    // keepalived: link_set_ipv6(): IPv6 off unless the instance (or an eVIP) is IPv6.
    const ipv6Off = spec.family === "ipv4" ? 1 : 0;
    this.#sysctl.write(`net/ipv6/conf/${spec.name}/disable_ipv6`, ipv6Off);
    // RFC 5798 7.4: no link-local address derived from the virtual MAC.
    await this.#rtnl.linkRequest(
      addrGenModeNoneRequest(up.ifindex),
      `${who}: cannot set addrgenmode none`,
    );
    await this.#rtnl.linkRequest(linkUpRequest(up.ifindex), `${who}: cannot set it up`);
    if (spec.family === "ipv6" && spec.linkLocal !== undefined && spec.linkLocal !== null) {
      const ll = spec.linkLocal;
      await this.#rtnl.addAddress({
        ifindex: up.ifindex,
        ifname: spec.name,
        address: formatIp(ll),
        prefix: 64,
        nodad: true,
      }).catch((e) => {
        if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) throw e;
      });
    }
  }

  /** Removes the VMAC of `name` (its addresses go with it) and puts the base back. */
  async down(name: string): Promise<void> {
    const v = this.#up.get(name);
    if (v === undefined) return;
    this.#up.delete(name);
    const who = `(${v.spec.owner}) VMAC ${name}`;
    this.#firewall?.unmapVmac(v.spec.family, v.up.ifindex, v.up.baseIfindex, v.spec.owner);
    try {
      await this.#rtnl.linkRequest(deleteLinkRequest(v.up.ifindex), `${who}: cannot delete it`);
    } catch (e) {
      // ENODEV: gone with its parent already.
      if (!(e instanceof SyscallError && e.errno === Errno.ENODEV)) {
        this.#log.error((e as Error).message);
      }
    }
    if (v.spec.family === "ipv4") await this.#releaseBase(v.up.baseIfindex, who);
  }

  /** Forgets a VMAC the kernel already removed (its parent was deleted). */
  forget(name: string): void {
    const v = this.#up.get(name);
    if (v === undefined) return;
    this.#up.delete(name);
    this.#firewall?.unmapVmac(v.spec.family, v.up.ifindex, v.up.baseIfindex, v.spec.owner);
    const b = this.#bases.get(v.up.baseIfindex);
    if (b !== undefined && v.spec.family === "ipv4" && --b.refs === 0) {
      this.#bases.delete(v.up.baseIfindex);
    }
  }

  /** Removes every VMAC and restores rp_filter (at stop). */
  async close(): Promise<void> {
    for (const name of [...this.#up.keys()]) await this.down(name);
    await this.#restoreRpFilter();
  }

  /** arp_ignore 1 and arp_filter 1 on the base, counted per base (keepalived's reset_arp_config). */
  async #holdBase(base: Link, who: string): Promise<void> {
    const b = this.#bases.get(base.index);
    if (b !== undefined) {
      b.refs++;
      return;
    }
    const arpIgnore = base.ipv4Conf?.get(DEVCONF.arp_ignore) ??
      this.#sysctl.read(`net/ipv4/conf/${base.name}/arp_ignore`) ?? 0;
    const arpFilter = base.ipv4Conf?.get(DEVCONF.arp_filter) ??
      this.#sysctl.read(`net/ipv4/conf/${base.name}/arp_filter`) ?? 0;
    const state: BaseState = { refs: 1, saved: null, name: base.name };
    if (arpIgnore !== 1 || arpFilter !== 1) {
      await this.#rtnl.linkRequest(
        devconfRequest(base.index, [["arp_ignore", 1], ["arp_filter", 1]]),
        `${who}: cannot set arp_ignore and arp_filter on "${base.name}"`,
      );
      state.saved = { arpIgnore, arpFilter };
    }
    this.#bases.set(base.index, state);
  }

  async #releaseBase(baseIfindex: number, who: string): Promise<void> {
    const b = this.#bases.get(baseIfindex);
    if (b === undefined || --b.refs > 0) return;
    this.#bases.delete(baseIfindex);
    if (b.saved === null) return;
    await this.#rtnl.linkRequest(
      devconfRequest(baseIfindex, [
        ["arp_ignore", b.saved.arpIgnore],
        ["arp_filter", b.saved.arpFilter],
      ]),
      `${who}: cannot put back arp_ignore and arp_filter of "${b.name}"`,
    ).catch((e) => this.#log.error((e as Error).message));
  }

  /**
   * keepalived's clear_rp_filter(): the macvlan needs rp_filter 0, which only works with
   * all.rp_filter 0 (the kernel uses the larger of the two). So raise default and every
   * interface to all's value first, then set all to 0: nothing else changes behaviour.
   */
  async #clearRpFilter(): Promise<void> {
    if (this.#rpFilter !== null) return;
    const all = this.#sysctl.read("net/ipv4/conf/all/rp_filter");
    if (all === null || all === 0) return;
    const state = { all, dflt: null as number | null, raised: new Map<number, number>() };
    const dflt = this.#sysctl.read("net/ipv4/conf/default/rp_filter");
    if (dflt !== null && dflt < all) {
      this.#log.info(`setting net.ipv4.conf.default.rp_filter from ${dflt} to ${all}`);
      this.#sysctl.write("net/ipv4/conf/default/rp_filter", all);
      state.dflt = dflt;
    }
    for (const l of await this.#rtnl.listLinks()) {
      const v = l.ipv4Conf?.get(DEVCONF.rp_filter);
      if (v === undefined || v >= all) continue;
      await this.#rtnl.linkRequest(
        devconfRequest(l.index, [["rp_filter", all]]),
        `Cannot set rp_filter of "${l.name}"`,
      );
      state.raised.set(l.index, v);
    }
    this.#log.info(`setting net.ipv4.conf.all.rp_filter from ${all} to 0 (VMAC)`);
    this.#sysctl.write("net/ipv4/conf/all/rp_filter", 0);
    this.#rpFilter = state;
  }

  /** keepalived's restore_rp_filter(): put back what is still as we left it. */
  async #restoreRpFilter(): Promise<void> {
    const s = this.#rpFilter;
    if (s === null) return;
    this.#rpFilter = null;
    try {
      if (this.#sysctl.read("net/ipv4/conf/all/rp_filter") === 0) {
        this.#sysctl.write("net/ipv4/conf/all/rp_filter", s.all);
      }
      if (s.dflt !== null && this.#sysctl.read("net/ipv4/conf/default/rp_filter") === s.all) {
        this.#sysctl.write("net/ipv4/conf/default/rp_filter", s.dflt);
      }
    } catch (e) {
      this.#log.error((e as Error).message);
    }
    if (s.raised.size === 0) return;
    const links = await this.#rtnl.listLinks().catch(() => [] as Link[]);
    for (const l of links) {
      const old = s.raised.get(l.index);
      if (old === undefined || l.ipv4Conf?.get(DEVCONF.rp_filter) !== s.all) continue;
      await this.#rtnl.linkRequest(
        devconfRequest(l.index, [["rp_filter", old]]),
        `Cannot put back rp_filter of "${l.name}"`,
      ).catch((e) => this.#log.error((e as Error).message));
    }
  }
}
