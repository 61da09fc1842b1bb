/**
 * Defaults of routes and policy routing rules that depend on other fields: `blackhole: true`
 * folded into the route type, a rule's family and action, and keepalived's automatic rule
 * preferences (16384 counting down per family, in parse order).
 *
 * @module
 */
import type { Walker } from "./walker.ts";
import type { Family, RouteConfig, RuleConfig, WalkedConfig } from "./types.ts";

/** keepalived's first automatic rule preference (RULE_START_PRIORITY), counted down per family. */
export const RULE_START_PRIORITY = 16384;

/** The next automatic rule preference per family, shared in keepalived's parse order. */
export type RulePriorities = Record<Family, number>;

/** A fresh counter: static_rules first, then each instance's virtual_rules, in file order. */
export function rulePriorities(): RulePriorities {
  return { ipv4: RULE_START_PRIORITY, ipv6: RULE_START_PRIORITY };
}

type WalkedRoute = WalkedConfig["staticRoutes"][number];
type WalkedRule = WalkedConfig["staticRules"][number];

/** Folds `blackhole: true` into the route type (an error when another type contradicts it). */
export function resolveRoutes(list: WalkedRoute[], lp: string, w: Walker): RouteConfig[] {
  list.forEach((r, i) => {
    const rp = w.pathOf.get(r) ?? `${lp}[${i}]`;
    if (!r.blackhole) return;
    if (r.type !== "unicast" && r.type !== "blackhole") {
      w.error(w.at(`${rp}.blackhole`), `${rp}.blackhole`, `contradicts type: ${r.type}`);
    }
    r.type = "blackhole";
  });
  return list;
}

/** Fills rule families, actions and preferences as keepalived does. */
export function resolveRules(
  list: WalkedRule[],
  lp: string,
  next: RulePriorities,
  w: Walker,
): RuleConfig[] {
  return list.map((r, i) => {
    const rp = w.pathOf.get(r) ?? `${lp}[${i}]`;
    const family = r.family ?? r.from?.family ?? r.to?.family ?? "ipv4";
    const action = r.action ?? (r.goto !== undefined ? "goto" : "table");
    let priority = r.priority;
    if (priority === undefined) {
      priority = next[family]--;
      w.warn(
        w.at(rp),
        rp,
        `no priority: set to ${priority} as keepalived does (16384 for the first rule without ` +
          "one, counting down); give one so that the order of the rules is yours",
      );
    }
    return Object.assign(r, { family, action, priority });
  });
}
