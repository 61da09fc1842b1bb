/**
 * The agent's view of interfaces and their addresses, loaded by one rtnetlink dump and kept
 * current by link/address events, so lookups on the hot path are synchronous.
 *
 * @module
 */
import type { Address, Link, Rtnl, RtnlEvent } from "../netlink/rtnl.ts";
import { isLinkLocal6, parseIp } from "../net/ip.ts";

/** A cached interface. */
export interface CachedLink {
  index: number;
  name: string;
  mac: Uint8Array;
  /** Administratively up and running (carrier), as keepalived judges. */
  up: boolean;
  /** The interface's MTU (0 when the kernel did not say). */
  mtu: number;
}

/** Interfaces and addresses by index. */
export class LinkCache {
  readonly #byIndex = new Map<number, Link>();
  readonly #byName = new Map<string, number>();
  /** Addresses per ifindex, in kernel order. */
  readonly #addrs = new Map<number, Address[]>();

  /** Replaces everything with a fresh dump. */
  async load(rtnl: Rtnl): Promise<void> {
    // One dump at a time per netlink socket (the kernel answers EBUSY otherwise).
    const links = await rtnl.listLinks();
    const addrs = await rtnl.listAddresses();
    this.#byIndex.clear();
    this.#byName.clear();
    this.#addrs.clear();
    for (const l of links) this.#putLink(l);
    for (const a of addrs) this.#putAddr(a);
  }

  #putLink(l: Link): void {
    const old = this.#byIndex.get(l.index);
    if (old !== undefined && old.name !== l.name) this.#byName.delete(old.name);
    this.#byIndex.set(l.index, l);
    this.#byName.set(l.name, l.index);
  }

  #putAddr(a: Address): void {
    const list = this.#addrs.get(a.ifindex) ?? [];
    const i = list.findIndex((x) => x.address === a.address && x.family === a.family);
    if (i >= 0) list[i] = a;
    else list.push(a);
    this.#addrs.set(a.ifindex, list);
  }

  /** Applies one rtnetlink event. */
  apply(e: RtnlEvent): void {
    if (e.kind === "link") {
      if (e.deleted) {
        this.#byIndex.delete(e.link.index);
        if (this.#byName.get(e.link.name) === e.link.index) this.#byName.delete(e.link.name);
        this.#addrs.delete(e.link.index);
      } else {
        this.#putLink(e.link);
      }
    } else if (e.kind === "address") {
      if (e.deleted) {
        const list = this.#addrs.get(e.address.ifindex) ?? [];
        this.#addrs.set(
          e.address.ifindex,
          list.filter((x) => !(x.address === e.address.address && x.family === e.address.family)),
        );
      } else {
        this.#putAddr(e.address);
      }
    }
  }

  /** An interface by name, or null. */
  link(name: string): CachedLink | null {
    const idx = this.#byName.get(name);
    const l = idx === undefined ? undefined : this.#byIndex.get(idx);
    if (l === undefined) return null;
    return {
      index: l.index,
      name: l.name,
      mac: l.mac ?? new Uint8Array(6),
      up: l.up && l.running,
      mtu: l.mtu,
    };
  }

  /** The name of an interface index, or null. */
  name(index: number): string | null {
    return this.#byIndex.get(index)?.name ?? null;
  }

  /** The name of the interface holding `address` (canonical text), or null when none does. */
  holder(family: "ipv4" | "ipv6", address: string): string | null {
    for (const [index, list] of this.#addrs) {
      if (list.some((a) => a.family === family && a.address === address)) return this.name(index);
    }
    return null;
  }

  /** Addresses of an interface. */
  addresses(index: number): readonly Address[] {
    return this.#addrs.get(index) ?? [];
  }

  /**
   * The address adverts are sent from: the primary IPv4 address, or the first usable
   * (not tentative) IPv6 link-local address.
   */
  sourceAddress(
    index: number,
    family: "ipv4" | "ipv6",
    exclude: ReadonlySet<string>,
  ): string | null {
    for (const a of this.addresses(index)) {
      if (a.family !== family || exclude.has(a.address)) continue;
      if (family === "ipv4" && !a.secondary) return a.address;
      if (family === "ipv6" && !a.tentative) {
        const b = parseIp(a.address)?.bytes;
        if (b !== undefined && isLinkLocal6(b)) return a.address;
      }
    }
    return null;
  }
}
