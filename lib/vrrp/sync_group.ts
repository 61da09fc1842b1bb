/**
 * keepalived sync groups: virtual routers that change state together.
 *
 * The coordinator watches its members (`VrrpInstance.watch`) and drives them:
 * - FAULT: while any member has its own fault, every other member is held in FAULT
 *   (`setGroupFault`); a MASTER forced there sends a priority-0 advert first. The group leaves
 *   FAULT only when no member is faulty (keepalived `vrrp_sync_leave_fault`).
 * - MASTER: a member whose Master_Down_Timer expires goes MASTER only if every other member is
 *   MASTER or also wants to be (its timer expired too); otherwise it stays BACKUP and re-arms
 *   its timer (keepalived `vrrp_sync_goto_master`: "prefer backup state to avoid thrashing").
 *   When a member becomes MASTER, every BACKUP member is forced to MASTER, and a member
 *   entering BACKUP (from INIT, e.g. started later) while another is MASTER joins it.
 * - BACKUP: when a member leaves MASTER for BACKUP, every MASTER member is forced to BACKUP.
 * Group state, reported after each burst of changes settles: FAULT if any member is FAULT,
 * MASTER if all are MASTER, INIT if all are INIT, otherwise BACKUP.
 *
 * @module
 */
import type { InstanceEvent, VrrpInstance, VrrpState } from "./instance.ts";

/** A group-level transition, for group notify scripts and status. */
export interface SyncGroupChange {
  /** Group name. */
  group: string;
  /** Previous group state. */
  from: VrrpState;
  /** New group state. */
  to: VrrpState;
  /** The member event that settled into this state. */
  reason: string;
}

/** Coordinates the members of one sync group. */
export class SyncGroup implements Disposable {
  readonly #name: string;
  readonly #members: readonly VrrpInstance[];
  readonly #onChange: (c: SyncGroupChange) => void;
  readonly #subscriptions: Disposable[] = [];
  #state: VrrpState;
  #depth = 0;

  /** Takes over `members` (each may belong to one group only); `onChange` sees group states. */
  constructor(
    name: string,
    members: readonly VrrpInstance[],
    onChange: (c: SyncGroupChange) => void = () => {},
  ) {
    if (members.length === 0) throw new RangeError(`sync group "${name}" has no members`);
    if (new Set(members).size !== members.length) {
      throw new RangeError(`sync group "${name}" lists a member twice`);
    }
    this.#name = name;
    this.#members = [...members];
    this.#onChange = onChange;
    this.#state = this.#computeState();
    for (const m of this.#members) {
      m.setMasterGate(() => this.#canGoMaster(m));
      this.#subscriptions.push(m.watch((e) => this.#handle(m, e)));
    }
    this.#syncFaults();
  }

  /** Group name. */
  get name(): string {
    return this.#name;
  }

  /** Current group state (see the module comment). */
  get state(): VrrpState {
    return this.#state;
  }

  /** The members, in configuration order. */
  get members(): readonly VrrpInstance[] {
    return this.#members;
  }

  /** Releases the members: no gate, no group fault, no watching. */
  [Symbol.dispose](): void {
    for (const s of this.#subscriptions) s[Symbol.dispose]();
    this.#subscriptions.length = 0;
    for (const m of this.#members) {
      m.setMasterGate(null);
      m.setGroupFault(null);
    }
  }

  #canGoMaster(self: VrrpInstance): boolean {
    return this.#members.every((m) => m === self || m.state === "MASTER" || m.wantsMaster);
  }

  #handle(member: VrrpInstance, e: InstanceEvent): void {
    this.#depth++;
    try {
      this.#syncFaults();
      if (e.type !== "state") return;
      if (e.to === "MASTER") {
        for (const m of this.#members) {
          if (m !== member && m.state === "BACKUP") {
            m.forceMaster(`sync group ${this.#name}: ${member.name} became MASTER`);
          }
        }
      } else if (e.from === "MASTER" && e.to === "BACKUP") {
        for (const m of this.#members) {
          if (m !== member && m.state === "MASTER") {
            m.forceBackup(`sync group ${this.#name}: ${member.name} became BACKUP`);
          }
        }
      } else if (e.to === "BACKUP") {
        const master = this.#members.find((m) => m !== member && m.state === "MASTER");
        if (master !== undefined) {
          member.forceMaster(`sync group ${this.#name}: ${master.name} is MASTER`);
        }
      }
    } finally {
      this.#depth--;
      if (this.#depth === 0) this.#settle(member, e);
    }
  }

  /** Holds every member in FAULT while another member has its own fault. */
  #syncFaults(): void {
    for (const m of this.#members) {
      const culprit = this.#members.find((o) => o !== m && o.ownFault !== null);
      m.setGroupFault(
        culprit === undefined
          ? null
          : `sync group ${this.#name}: ${culprit.name} is faulty (${culprit.ownFault})`,
      );
    }
  }

  #settle(member: VrrpInstance, e: InstanceEvent): void {
    const to = this.#computeState();
    if (to === this.#state) return;
    const from = this.#state;
    this.#state = to;
    const why = e.type === "state" ? `${e.from} -> ${e.to}: ${e.reason}` : e.reason;
    this.#onChange({ group: this.#name, from, to, reason: `${member.name} ${why}` });
  }

  #computeState(): VrrpState {
    const states = this.#members.map((m) => m.state);
    if (states.includes("FAULT")) return "FAULT";
    if (states.every((s) => s === "MASTER")) return "MASTER";
    if (states.every((s) => s === "INIT")) return "INIT";
    return "BACKUP";
  }
}
