/**
 * The pure core of announcing: from the plan and what the agent knows now (instance states,
 * quorum reports, which interface holds an address), the host routes that must be in the table
 * and, for every address, why it is or is not announced.
 *
 * @module
 */
import type { AnnouncePlan, Family, QuorumReport } from "./plan.ts";

/** What the agent knows at one moment. */
export interface AnnounceView {
  /** Whether the instance holds its VIPs (between its "add-vips" and "remove-vips"). */
  instanceHolds(name: string): boolean;
  /** The instance's VRRP state (`MASTER`, `BACKUP`, ...), or null when it is not running. */
  instanceState(name: string): string | null;
  /** The latest quorum report of a virtual server, or null when none came. */
  quorum(key: string): QuorumReport | null;
  /** The interface holding `address`, or null when none does. */
  holder(family: Family, address: string): string | null;
}

/** One announced (or announceable) address. */
export interface AnnounceEntry {
  family: Family;
  address: string;
  /** 32 or 128. */
  prefix: number;
  /** The interface the route points at. */
  device: string;
  /** Whether the route must be in the table. */
  announce: boolean;
  /** Why: the sources that hold it, or when none does, every source's state. */
  reasons: string[];
  /** Every source (instance or virtual server name) and whether it holds the address. */
  sources: { name: string; holds: boolean }[];
}

/** The loopback interface: where routes of addresses on no other interface point. */
export const LOOPBACK = "lo";

/** `quorum up, 2/3 real servers up (weight 2, quorum 1)`. */
export function quorumText(q: QuorumReport | null): string {
  if (q === null) return "quorum unknown (no report from the load-balancer side)";
  return `quorum ${q.up ? "up" : "down"}, ${q.upServers}/${q.servers} real servers up ` +
    `(weight ${q.aliveWeight}, quorum ${q.quorum})`;
}

interface Source {
  name: string;
  held: boolean;
  reason: string;
  /** Where the route points when this source holds it. */
  device: string;
}

/**
 * Every address of the plan with its route and reasons, in plan order (instances first). An
 * address several sources share is announced while any of them holds it; an instance's
 * interface wins over the virtual server's choice.
 */
export function announceEntries(plan: AnnouncePlan, view: AnnounceView): AnnounceEntry[] {
  const byAddress = new Map<string, { family: Family; address: string; sources: Source[] }>();
  const add = (family: Family, address: string, s: Source) => {
    const key = `${family} ${address}`;
    const e = byAddress.get(key) ?? { family, address, sources: [] };
    e.sources.push(s);
    byAddress.set(key, e);
  };
  for (const inst of plan.instances) {
    const holds = view.instanceHolds(inst.name);
    const state = holds ? "MASTER" : view.instanceState(inst.name) ?? "not running";
    for (const a of inst.addresses) {
      add(a.family, a.address, {
        name: inst.name,
        held: holds,
        reason: `${inst.name} ${state}`,
        device: a.device,
      });
    }
  }
  for (const vs of plan.virtualServers) {
    const q = view.quorum(vs.key);
    for (const a of vs.addresses) {
      const holder = view.holder(a.family, a.address);
      add(a.family, a.address, {
        name: vs.name,
        held: q?.up ?? false,
        reason: `${vs.name} ${quorumText(q)}`,
        device: holder ?? LOOPBACK,
      });
    }
  }
  return [...byAddress.values()].map(({ family, address, sources }) => {
    const holding = sources.filter((s) => s.held);
    const shown = holding.length > 0 ? holding : sources;
    return {
      family,
      address,
      prefix: family === "ipv4" ? 32 : 128,
      device: shown[0]!.device,
      announce: holding.length > 0,
      reasons: shown.map((s) => s.reason),
      sources: sources.map((s) => ({ name: s.name, holds: s.held })),
    };
  });
}
