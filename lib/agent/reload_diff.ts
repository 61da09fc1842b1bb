/**
 * What a reload does with each VRRP instance, decided from the old and new plans alone (pure):
 * an instance whose plan is unchanged keeps running; one whose notify hooks or e-mail switch
 * changed takes the new plan without a restart; one whose (non-owner) priority changed gets
 * the new priority in place; any other change restarts it; removed ones stop, new ones start.
 *
 * @module
 */
import type { InstancePlan, Plan } from "./plan.ts";

/** The reload's decisions, by instance name (each list in the order of its plan). */
export interface ReloadDiff {
  /** Same plan: untouched. */
  unchanged: string[];
  /** Only notify hooks / smtp_alert changed: the new plan applies from the next transition. */
  hooksChanged: string[];
  /** The priority changed (not to or from 255), perhaps with hooks: applied in place. */
  reprioritized: { name: string; from: number; to: number }[];
  /** Anything else changed: stopped, then started with the new plan. */
  restarted: string[];
  /** Gone from the file: stopped. */
  removed: string[];
  /** New in the file: started. */
  added: string[];
  /** Whether the sync groups must be built again (they changed, or members were replaced). */
  rebuildGroups: boolean;
}

/** Compares the running plan with the new one. */
export function diffReload(
  old: Pick<Plan, "instances" | "syncGroups">,
  next: Pick<Plan, "instances" | "syncGroups">,
): ReloadDiff {
  const d: ReloadDiff = {
    unchanged: [],
    hooksChanged: [],
    reprioritized: [],
    restarted: [],
    removed: [],
    added: [],
    rebuildGroups: false,
  };
  const nextByName = new Map(next.instances.map((i) => [i.spec.name, i]));
  const oldNames = new Set(old.instances.map((i) => i.spec.name));
  for (const o of old.instances) {
    const name = o.spec.name;
    const n = nextByName.get(name);
    if (n === undefined) d.removed.push(name);
    else if (JSON.stringify(n) === JSON.stringify(o)) d.unchanged.push(name);
    else if (!changesInPlace(o, n)) d.restarted.push(name);
    else if (n.spec.priority !== o.spec.priority) {
      d.reprioritized.push({ name, from: o.spec.priority, to: n.spec.priority });
    } else d.hooksChanged.push(name);
  }
  for (const n of next.instances) if (!oldNames.has(n.spec.name)) d.added.push(n.spec.name);
  d.rebuildGroups = JSON.stringify(old.syncGroups) !== JSON.stringify(next.syncGroups) ||
    d.restarted.length + d.added.length > 0;
  return d;
}

/**
 * Whether `b` differs from `a` only in what applies without a restart: the priority (not to or
 * from 255, which changes the owner's behaviour), the notify hooks and the e-mail switch.
 */
function changesInPlace(a: InstancePlan, b: InstancePlan): boolean {
  if (a.spec.priority !== b.spec.priority && (a.spec.priority === 255 || b.spec.priority === 255)) {
    return false;
  }
  const norm = (p: InstancePlan) =>
    JSON.stringify({ ...p, spec: { ...p.spec, priority: 0 }, notify: null, smtpAlert: false });
  return norm(a) === norm(b);
}
