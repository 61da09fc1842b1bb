/**
 * The firewall writer: carries out the nf_tables part of Accept_Mode false and of VMACs
 * (firewall_rules.ts says what, this module sends it and keeps count). One `haagent` table per
 * family, created when first needed, deleted at stop; a table left by an agent that crashed is
 * deleted at start. Every change is one nf_tables transaction, answered before it returns.
 *
 * @module
 */
import type { NftExec } from "../netlink/nft_conn.ts";
import type { NftMessage } from "../netlink/nftables.ts";
import { NetlinkError } from "../netlink/client.ts";
import type { Logger } from "../runtime/log.ts";
import { FirewallRules, type GuardedAddress, HAAGENT_TABLE } from "./firewall_rules.ts";
import type { Writer, WriterAction } from "./writer.ts";

const FAMILIES = ["ipv4", "ipv6"] as const;
const ENOENT = 2;

function key(a: GuardedAddress): string {
  return `${a.family}/${[...a.address].join(".")}/${a.ifindex}`;
}

/** Accept-mode drop rules and VMAC redirections, reference-counted per address / VMAC. */
export class Firewall implements Disposable {
  readonly #open: () => NftExec;
  readonly #log: Logger;
  readonly #rules: FirewallRules;
  #exec: NftExec | null = null;
  #unavailable: string | null = null;
  readonly #guarded = new Map<string, number>();
  readonly #vmacs = new Map<string, number>();

  /** `open` connects to nf_tables (NftConn.open, or a fake); it is called on first use. */
  constructor(open: () => NftExec, log: Logger, table = HAAGENT_TABLE) {
    this.#open = open;
    this.#log = log;
    this.#rules = new FirewallRules(table);
  }

  /** The table name. */
  get table(): string {
    return this.#rules.table;
  }

  /** Addresses with drop rules in place. */
  get guardedCount(): number {
    return this.#guarded.size;
  }

  /**
   * Deletes `haagent` tables left by an earlier run (an agent killed while master would keep
   * dropping traffic to its VIPs). Quiet when nf_tables is missing.
   */
  removeLeftovers(): void {
    const exec = this.#connect(false);
    if (exec === null) return;
    for (const family of FAMILIES) {
      try {
        if (
          !exec.exists(this.#rules.getTable(family), `Cannot look for table ${this.#name(family)}`)
        ) {
          continue;
        }
        exec.batch([this.#rules.deleteTable(family)], `Cannot delete table ${this.#name(family)}`);
        this.#log.warn(`removed table ${this.#name(family)} left by an earlier run`);
      } catch (e) {
        this.#log.error((e as Error).message);
      }
    }
  }

  /** Adds drop rules for traffic to and from `addrs`; false (and an error logged) on failure. */
  guard(addrs: readonly GuardedAddress[], who: string): boolean {
    const fresh = addrs.filter((a) => (this.#guarded.get(key(a)) ?? 0) === 0);
    for (const a of addrs) this.#guarded.set(key(a), (this.#guarded.get(key(a)) ?? 0) + 1);
    if (fresh.length === 0) return true;
    return this.#apply(() => this.#rules.guard("new", fresh), `${who}: cannot add the drop rules`);
  }

  /** Removes the drop rules `guard` added for `addrs`. */
  unguard(addrs: readonly GuardedAddress[], who: string): boolean {
    const gone: GuardedAddress[] = [];
    for (const a of addrs) {
      const n = this.#guarded.get(key(a)) ?? 0;
      if (n === 0) continue;
      if (n === 1) {
        this.#guarded.delete(key(a));
        gone.push(a);
      } else this.#guarded.set(key(a), n - 1);
    }
    if (gone.length === 0) return true;
    return this.#apply(
      () => this.#rules.guard("del", gone),
      `${who}: cannot remove the drop rules`,
    );
  }

  /** Sends IGMP / MLD reports of VMAC `vmacIfindex` out through `baseIfindex` instead. */
  mapVmac(family: "ipv4" | "ipv6", vmacIfindex: number, baseIfindex: number, who: string): boolean {
    const k = `${family}/${vmacIfindex}/${baseIfindex}`;
    const n = this.#vmacs.get(k) ?? 0;
    this.#vmacs.set(k, n + 1);
    if (n > 0) return true;
    return this.#apply(
      () => this.#rules.vmac("new", family, vmacIfindex, baseIfindex),
      `${who}: cannot redirect the VMAC's ${family === "ipv4" ? "IGMP" : "MLD"} reports`,
    );
  }

  /** Undoes `mapVmac`. */
  unmapVmac(family: "ipv4" | "ipv6", vmacIfindex: number, baseIfindex: number, who: string) {
    const k = `${family}/${vmacIfindex}/${baseIfindex}`;
    const n = this.#vmacs.get(k) ?? 0;
    if (n === 0) return true;
    if (n > 1) {
      this.#vmacs.set(k, n - 1);
      return true;
    }
    this.#vmacs.delete(k);
    return this.#apply(
      () => this.#rules.vmac("del", family, vmacIfindex, baseIfindex),
      `${who}: cannot remove the VMAC redirection`,
    );
  }

  /** Deletes the tables this agent created (at stop); nothing is left in `nft list ruleset`. */
  close(): void {
    const exec = this.#exec;
    if (exec !== null) {
      for (const family of FAMILIES) {
        if (!this.#rules.has(family)) continue;
        try {
          exec.batch(
            [this.#rules.deleteTable(family)],
            `Cannot delete table ${this.#name(family)}`,
          );
        } catch (e) {
          if (!(e instanceof NetlinkError && e.errno === ENOENT)) {
            this.#log.error((e as Error).message);
          }
        }
      }
    }
    this.#rules.reset();
    this.#guarded.clear();
    this.#vmacs.clear();
    exec?.[Symbol.dispose]();
    this.#exec = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #name(family: "ipv4" | "ipv6"): string {
    return `${family === "ipv4" ? "ip" : "ip6"} ${this.#rules.table}`;
  }

  #connect(loud: boolean): NftExec | null {
    if (this.#exec !== null) return this.#exec;
    if (this.#unavailable !== null) {
      if (loud) this.#log.error(`nf_tables is not available: ${this.#unavailable}`);
      return null;
    }
    try {
      this.#exec = this.#open();
      return this.#exec;
    } catch (e) {
      this.#unavailable = (e as Error).message;
      if (loud) this.#log.error(`nf_tables is not available: ${this.#unavailable}`);
      return null;
    }
  }

  /**
   * Sends the messages `build` makes. A batch is all or nothing, so when the kernel refuses one
   * (a table flushed behind our back answers ENOENT) the tables are rebuilt from what the
   * counters say should be in place, once, in one transaction that deletes them first.
   */
  #apply(build: () => NftMessage[], what: string): boolean {
    const exec = this.#connect(true);
    if (exec === null) return false;
    try {
      exec.batch(build(), what);
      return true;
    } catch (e) {
      this.#log.warn(`${(e as Error).message}: rebuilding table ${this.#rules.table}`);
    }
    try {
      const drop: NftMessage[] = [];
      for (const family of FAMILIES) {
        if (exec.exists(this.#rules.getTable(family), `Cannot look for ${this.#name(family)}`)) {
          drop.push(this.#rules.deleteTable(family));
        }
      }
      this.#rules.reset();
      exec.batch([...drop, ...this.#rebuild()], what);
      return true;
    } catch (e) {
      this.#rules.reset();
      this.#log.error((e as Error).message);
      return false;
    }
  }

  /** Every message needed to put back what the counters say is in place. */
  #rebuild(): NftMessage[] {
    const addrs: GuardedAddress[] = [...this.#guarded.keys()].map((k) => {
      const [family, bytes, ifindex] = k.split("/") as ["ipv4" | "ipv6", string, string];
      return { family, address: Uint8Array.from(bytes.split(".").map(Number)), ifindex: +ifindex };
    });
    const out = addrs.length > 0 ? this.#rules.guard("new", addrs) : [];
    for (const k of this.#vmacs.keys()) {
      const [family, vmac, base] = k.split("/") as ["ipv4" | "ipv6", string, string];
      out.push(...this.#rules.vmac("new", family, +vmac, +base));
    }
    return out;
  }
}

/**
 * The Accept_Mode writer of one instance (RFC 5798 6.4.3: a non-owner master MUST NOT accept
 * packets addressed to the VIPs unless Accept_Mode is on): drop rules for its VIPs from
 * "add-vips" (before the VIPs, as a guard) until "remove-vips" (after them). keepalived:
 * vrrp_handle_accept_mode() in vrrp_state_become_master() / vrrp_restore_interface().
 */
export class AcceptWriter implements Writer {
  readonly #fw: Firewall;
  readonly #who: string;
  readonly #addrs: () => GuardedAddress[];
  #held: GuardedAddress[] | null = null;

  /** `addrs` is read at each "add-vips" (interface indexes may have changed). */
  constructor(fw: Firewall, who: string, addrs: () => GuardedAddress[]) {
    this.#fw = fw;
    this.#who = who;
    this.#addrs = addrs;
  }

  act(a: WriterAction): void {
    if (a.type === "add-vips" && this.#held === null) {
      this.#held = this.#addrs();
      this.#fw.guard(this.#held, this.#who);
    } else if (a.type === "remove-vips") this.#release();
  }

  settled(): Promise<void> {
    return Promise.resolve();
  }

  #release(): void {
    if (this.#held === null) return;
    this.#fw.unguard(this.#held, this.#who);
    this.#held = null;
  }

  [Symbol.dispose](): void {
    this.#release();
  }
}
