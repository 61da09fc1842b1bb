/**
 * The agent's side of announcing to BGP: it feeds the announce table (lib/announce) with VRRP
 * state (each runner's InstanceAnnounceWriter says when its instance holds its VIPs) and
 * virtual-server quorum (from the load-balancer side), builds the
 * entries, decides when leftovers of an earlier run may be purged, and moves to a new table or
 * protocol on reload. It holds no protocol state of its own.
 *
 * @module
 */
import { announceEntries, type AnnounceEntry, type AnnounceView } from "../announce/desired.ts";
import type { AnnouncePlan, QuorumReport } from "../announce/plan.ts";
import { AnnounceTable, type RouteWriter } from "../announce/table.ts";
import { InstanceAnnounceWriter } from "../announce/instance_writer.ts";
import type { Clock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/log.ts";
import type { AnnounceStatus } from "./status_types.ts";

/** What the announce runtime reads from the agent. */
export interface AnnounceDeps {
  writer: RouteWriter;
  log: Logger;
  clock: Clock;
  linkIndex(name: string): number | null;
  /** The instance's VRRP state, for the reasons shown in status. */
  instanceState: AnnounceView["instanceState"];
  holder: AnnounceView["holder"];
}

function announces(p: AnnouncePlan): boolean {
  return p.instances.length + p.virtualServers.length > 0;
}

/** Announced routes of one agent, across reloads. */
export class AnnounceRuntime {
  readonly #deps: AnnounceDeps;
  #plan: AnnouncePlan | null = null;
  #table: AnnounceTable | null = null;
  readonly #quorum = new Map<string, QuorumReport>();
  /** Instances that hold their VIPs, as their writers said. */
  readonly #holding = new Set<string>();
  #entries: AnnounceEntry[] = [];
  /** Every source has reported once: leftovers nobody claims may go. */
  #complete = false;
  #stopped = false;

  constructor(deps: AnnounceDeps) {
    this.#deps = deps;
  }

  /** Opens the table of `plan` (when anything announces) and lists what an earlier run left. */
  async start(plan: AnnouncePlan): Promise<void> {
    this.#plan = plan;
    if (!announces(plan)) return;
    this.#table = this.#open(plan);
    await this.#table.start();
    this.refresh();
  }

  #open(plan: AnnouncePlan): AnnounceTable {
    return new AnnounceTable(this.#deps.writer, { table: plan.table, protocol: plan.protocol }, {
      log: this.#deps.log,
      clock: this.#deps.clock,
      linkIndex: this.#deps.linkIndex,
    });
  }

  /**
   * Every source has had its say (instances started, the load-balancer side reported): from now
   * on, routes of our protocol in the table that no entry claims are deleted.
   */
  complete(): void {
    this.#complete = true;
    this.refresh();
  }

  /** The writer an instance's runner runs after its VIP writer (see instance_writer.ts). */
  writerFor(name: string): InstanceAnnounceWriter {
    return new InstanceAnnounceWriter(
      name,
      (n, holds) => this.#hold(n, holds),
      () => this.settled(),
    );
  }

  #hold(name: string, holds: boolean): void {
    if (holds === this.#holding.has(name)) return;
    if (holds) this.#holding.add(name);
    else this.#holding.delete(name);
    this.refresh();
  }

  /** The load-balancer side's quorum reports (all of them; empty when it died). */
  setQuorum(reports: readonly QuorumReport[]): void {
    this.#quorum.clear();
    for (const r of reports) this.#quorum.set(r.key, r);
    this.refresh();
  }

  /**
   * An interface went up, down or away: the kernel may have dropped our routes through it, so
   * they are written again (a failure is retried until the interface is back).
   */
  linkChanged(name: string): void {
    this.#table?.relink(name);
  }

  /** Recomputes the entries and writes the difference (after any state, quorum or address change). */
  refresh(): void {
    const plan = this.#plan;
    const table = this.#table;
    if (plan === null || table === null || this.#stopped) return;
    const d = this.#deps;
    this.#entries = announceEntries(plan, {
      instanceHolds: (name) => this.#holding.has(name),
      instanceState: d.instanceState,
      quorum: (key) => this.#quorum.get(key) ?? null,
      holder: d.holder,
    });
    table.apply(this.#entries, { purge: this.#complete });
  }

  /**
   * Takes a reloaded plan: the same table and protocol write only what changed; a new table or
   * protocol withdraws everything from the old one first (its routes cannot move in place).
   */
  async reload(plan: AnnouncePlan): Promise<void> {
    const old = this.#table;
    this.#plan = plan;
    const same = old !== null && old.settings.table === plan.table &&
      old.settings.protocol === plan.protocol;
    if (same && announces(plan)) {
      this.refresh();
      return;
    }
    if (old !== null) {
      const { table, protocol } = old.settings;
      if (announces(plan)) {
        this.#deps.log.info(
          `announce table ${table} protocol ${protocol} -> table ${plan.table} protocol ` +
            `${plan.protocol}: withdrawing from the old table`,
        );
      }
      this.#table = null;
      await old.withdrawAll();
    }
    if (!announces(plan)) {
      this.#entries = [];
      return;
    }
    this.#table = this.#open(plan);
    await this.#table.start();
    this.refresh();
  }

  /** Withdraws every route of ours (SIGTERM). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const t = this.#table;
    this.#table = null;
    await t?.withdrawAll();
  }

  /** Resolves once every route change requested so far has been answered. */
  settled(): Promise<void> {
    return this.#table?.settled() ?? Promise.resolve();
  }

  /** For `haagent status` and the metrics. */
  status(): AnnounceStatus | null {
    const t = this.#table;
    if (t === null) return null;
    return {
      table: t.settings.table,
      protocol: t.settings.protocol,
      routes: this.#entries.map((e) => {
        const prefix = `${e.address}/${e.prefix}`;
        const error = t.error(prefix);
        return {
          prefix,
          device: e.device,
          announced: e.announce && error === null && t.holds(prefix),
          reasons: e.reasons,
          sources: e.sources,
          error,
        };
      }),
      adds: t.counts.adds,
      withdrawals: t.counts.deletes,
    };
  }
}
