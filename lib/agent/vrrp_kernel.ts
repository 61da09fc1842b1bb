/**
 * Kernel state VRRP instances need beyond their addresses and routes: VMAC interfaces
 * (use_vmac) and the nf_tables drop rules of Accept_Mode off (accept: false, vrrp_strict).
 * One firewall writer and one VMAC writer for the agent; the runners get their guard writers
 * here, and the agent tells this module about instances starting and stopping and about link
 * events (a VMAC goes with its base interface and is created again when the base is back).
 *
 * @module
 */
import type { NftExec } from "../netlink/nft_conn.ts";
import { NftConn } from "../netlink/nft_conn.ts";
import type { Rtnl } from "../netlink/rtnl.ts";
import { isLinkLocal6, parseIp } from "../net/ip.ts";
import type { Logger } from "../runtime/log.ts";
import { ProcSysctl, type Sysctl } from "../runtime/sysctl.ts";
import { AcceptWriter, Firewall } from "../vrrp/firewall.ts";
import type { GuardedAddress } from "../vrrp/firewall_rules.ts";
import type { InstanceSpec } from "../vrrp/runner.ts";
import { eui64LinkLocal, Vmacs } from "../vrrp/vmac.ts";
import type { Writer } from "../vrrp/writer.ts";
import type { LinkCache } from "./links.ts";

/** What this module needs from the agent. */
export interface VrrpKernelDeps {
  rtnl: Rtnl;
  links: LinkCache;
  log: Logger;
  /** Default: /proc/sys. */
  sysctl?: Sysctl;
  /** Default: a NETLINK_NETFILTER socket. */
  nft?: () => NftExec;
}

/** VMACs and firewall rules of the agent's instances. */
export class VrrpKernel {
  readonly #deps: VrrpKernelDeps;
  readonly #fw: Firewall;
  readonly #vmacs: Vmacs;
  /** Instances with a VMAC, by name: their spec and what to call once it is up. */
  readonly #wanted = new Map<string, { spec: InstanceSpec; ready: () => void }>();
  /** VMAC creations in flight, by instance. */
  readonly #pending = new Map<string, Promise<void>>();

  constructor(deps: VrrpKernelDeps) {
    this.#deps = deps;
    this.#fw = new Firewall(deps.nft ?? (() => NftConn.open()), deps.log.child("nftables"));
    this.#vmacs = new Vmacs({
      rtnl: deps.rtnl,
      sysctl: deps.sysctl ?? new ProcSysctl(),
      firewall: this.#fw,
      log: deps.log.child("vmac"),
    });
  }

  /** At start: tables a crashed agent left behind are deleted (they would drop VIP traffic). */
  start(): void {
    this.#fw.removeLeftovers();
  }

  /** The guard writers of an instance: its no_accept drop rules, for a non-owner. */
  guards(spec: InstanceSpec): Writer[] {
    if (spec.accept !== false || spec.priority === 255) return [];
    return [new AcceptWriter(this.#fw, spec.name, () => this.#guarded(spec))];
  }

  /** The instance starts: its VMAC (if any) is created; `ready` runs once it is up. */
  instanceStarted(spec: InstanceSpec, ready: () => void): void {
    if (spec.vmac == null) return;
    this.#wanted.set(spec.name, { spec, ready });
    this.#create(spec.name);
  }

  /** The instance stopped (or is being replaced): its VMAC is removed. */
  async instanceStopped(spec: InstanceSpec): Promise<void> {
    if (spec.vmac == null) return;
    this.#wanted.delete(spec.name);
    await this.#pending.get(spec.name);
    await this.#vmacs.down(spec.vmac.name);
  }

  /**
   * A link changed: a VMAC the kernel deleted (with its base, or by hand) is forgotten and made
   * again as soon as its base interface exists.
   */
  linkChanged(name: string, deleted: boolean): void {
    for (const [inst, w] of this.#wanted) {
      const v = w.spec.vmac!;
      if (name !== v.name && name !== w.spec.interface) continue;
      if (deleted && name === v.name) this.#vmacs.forget(v.name);
      const baseThere = this.#deps.links.link(w.spec.interface) !== null;
      if (baseThere && this.#vmacs.get(v.name) === null) this.#create(inst);
    }
  }

  /** At stop: every VMAC removed, rp_filter restored, the nftables tables deleted. */
  async stop(): Promise<void> {
    this.#wanted.clear();
    await Promise.allSettled([...this.#pending.values()]);
    await this.#vmacs.close().catch((e) => this.#deps.log.error(String(e)));
    this.#fw.close();
  }

  #create(inst: string): void {
    const w = this.#wanted.get(inst);
    if (w === undefined || this.#pending.has(inst)) return;
    const { spec, ready } = w;
    const v = spec.vmac!;
    const p = this.#vmacs.up({
      owner: spec.name,
      name: v.name,
      base: spec.interface,
      family: spec.family,
      vrid: spec.vrid,
      linkLocal: spec.family === "ipv6" && !v.xmitBase ? this.#linkLocal(spec) : null,
    }).then(() => {
      if (this.#wanted.get(inst) === w) ready();
    }).catch((e) => {
      // The instance stays in FAULT (its interface does not exist) until the base is back.
      this.#deps.log.error((e as Error).message);
    }).finally(() => this.#pending.delete(inst));
    this.#pending.set(inst, p);
  }

  /** keepalived set_link_local_address(): unicast_src_ip, the base's link-local, its EUI-64. */
  #linkLocal(spec: InstanceSpec): Uint8Array | null {
    const src = spec.unicastSrc === null ? null : parseIp(spec.unicastSrc);
    if (src !== null && src.family === "ipv6") return src.bytes;
    const base = this.#deps.links.link(spec.interface);
    if (base === null) return null;
    for (const a of this.#deps.links.addresses(base.index)) {
      const b = parseIp(a.address)?.bytes;
      if (a.family === "ipv6" && b !== undefined && isLinkLocal6(b)) return b;
    }
    return eui64LinkLocal(base.mac);
  }

  /** The addresses the drop rules cover: VIPs and excluded VIPs, with their interfaces. */
  #guarded(spec: InstanceSpec): GuardedAddress[] {
    const vipIf = spec.vmac?.name ?? spec.interface;
    const out: GuardedAddress[] = [];
    for (const v of spec.vips) {
      const a = parseIp(v.address);
      if (a === null) continue;
      const dev = v.device ?? (v.family === spec.family ? vipIf : spec.interface);
      out.push({
        family: a.family,
        address: a.bytes,
        ifindex: this.#deps.links.link(dev)?.index ?? 0,
      });
    }
    return out;
  }
}
