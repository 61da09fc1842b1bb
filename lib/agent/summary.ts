/**
 * The agent in one line, for the service manager's `STATUS=` (what `systemctl status` shows):
 * `3 MASTER, 1 BACKUP, 12/12 real servers up`.
 *
 * @module
 */

/** What the line is made of. */
export interface SummaryInput {
  /** How many VRRP instances are in each state. */
  states: ReadonlyMap<string, number>;
  /** Real servers up and configured, or null when there are no virtual servers. */
  realServers: { up: number; total: number } | null;
  /** Why IPVS cannot be programmed, when virtual servers are configured and it cannot. */
  ipvsUnavailable: string | null;
  /** The last reload was refused (the previous configuration runs). */
  reloadRefused: boolean;
}

const ORDER = ["MASTER", "BACKUP", "FAULT", "INIT"];

/** Formats the line: states in a fixed order, zeros left out. */
export function formatSummary(s: SummaryInput): string {
  const parts: string[] = [];
  const states = [...s.states.entries()].filter(([, n]) => n > 0).sort(([a], [b]) =>
    rank(a) - rank(b) || a.localeCompare(b)
  );
  for (const [state, n] of states) parts.push(`${n} ${state}`);
  if (parts.length === 0) parts.push("no VRRP instances");
  if (s.realServers !== null) {
    parts.push(`${s.realServers.up}/${s.realServers.total} real servers up`);
  }
  if (s.ipvsUnavailable !== null) parts.push(`IPVS unavailable (${s.ipvsUnavailable})`);
  if (s.reloadRefused) parts.push("last reload refused");
  return parts.join(", ");
}

function rank(state: string): number {
  const i = ORDER.indexOf(state);
  return i < 0 ? ORDER.length : i;
}
