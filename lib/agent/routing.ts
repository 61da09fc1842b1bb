/**
 * Routes and policy routing rules in kernel terms, and the static ones (static_ipaddress,
 * static_routes, static_rules) as keepalived 2.2.7's VRRP process keeps them: leftovers of an
 * earlier run deleted at start (errors ignored), then addresses, routes and rules added; on a
 * reload those no longer configured are removed and new ones added; at stop rules, routes and
 * addresses are removed, in that order (vrrp_daemon.c: start_vrrp, vrrp_terminate_phase2).
 *
 * @module
 */
import { SyscallError } from "../../ffi/errno.ts";
import type { AddressSpec, RouteSpec } from "../netlink/rtnl.ts";
import type { RuleSpec } from "../netlink/rule.ts";
import type { RouteConfig, RuleConfig, StaticAddressConfig } from "../config/types.ts";
import type { Logger } from "../runtime/log.ts";
import type { AddressTable } from "../vrrp/addresses.ts";

/** The kernel calls static routing needs: the VRRP writers' (rtnetlink's `Rtnl` in the agent). */
export type RoutingTable = AddressTable;

/** Resolves an interface name to its index, or null when it does not exist. */
export type IfindexOf = (name: string) => number | null;

/** A route in kernel terms; `ifindex` is the device's (absent: none, or `dflt`). */
export function routeSpecOf(r: RouteConfig, ifindex: number | undefined): RouteSpec {
  return {
    family: r.to.family,
    to: r.to.address,
    prefix: r.to.prefix,
    ...(r.via !== undefined ? { via: r.via } : {}),
    ...(r.src !== undefined ? { src: r.src } : {}),
    ...(ifindex !== undefined ? { ifindex } : {}),
    ...(r.device !== undefined ? { ifname: r.device } : {}),
    ...(r.table !== undefined ? { table: r.table } : {}),
    ...(r.metric !== undefined ? { metric: r.metric } : {}),
    type: r.type,
    scope: r.scope === "nowhere" ? 255 : r.scope,
    ...(r.onlink ? { onlink: true } : {}),
  };
}

function numRange(text: string): { start: number; end: number } {
  const [a, b] = text.split("-");
  return { start: Number(a), end: Number(b ?? a) };
}

/** A rule in kernel terms. */
export function ruleSpecOf(r: RuleConfig): RuleSpec {
  return {
    family: r.family,
    action: r.action,
    priority: r.priority,
    ...(r.table !== undefined ? { table: r.table } : {}),
    ...(r.goto !== undefined ? { goto: r.goto } : {}),
    ...(r.from !== undefined ? { from: { address: r.from.address, prefix: r.from.prefix } } : {}),
    ...(r.to !== undefined ? { to: { address: r.to.address, prefix: r.to.prefix } } : {}),
    ...(r.invert ? { invert: true } : {}),
    ...(r.tos !== undefined ? { tos: r.tos } : {}),
    ...(r.fwmark !== undefined ? { fwmark: r.fwmark } : {}),
    ...(r.fwmask !== undefined ? { fwmask: r.fwmask } : {}),
    ...(r.iif !== undefined ? { iif: r.iif } : {}),
    ...(r.oif !== undefined ? { oif: r.oif } : {}),
    ...(r.uidRange !== undefined ? { uidRange: numRange(r.uidRange) } : {}),
    ...(r.ipProto !== undefined ? { ipProto: r.ipProto } : {}),
    ...(r.sport !== undefined ? { sport: numRange(r.sport) } : {}),
    ...(r.dport !== undefined ? { dport: numRange(r.dport) } : {}),
    ...(r.suppressPrefixlength !== undefined
      ? { suppressPrefixLength: r.suppressPrefixlength }
      : {}),
  };
}

/** An address in kernel terms, or null when its device does not exist. */
export function addressSpecOf(a: StaticAddressConfig, ifindexOf: IfindexOf): AddressSpec | null {
  const ifindex = ifindexOf(a.device);
  if (ifindex === null) return null;
  return {
    ifindex,
    ifname: a.device,
    address: a.address,
    prefix: a.prefix,
    ...(a.label !== undefined ? { label: a.label } : {}),
    scope: a.scope === "nowhere" ? 255 : a.scope,
    nodad: a.family === "ipv6",
  };
}

/** The static part of a configuration. */
export interface StaticPlan {
  addresses: StaticAddressConfig[];
  routes: RouteConfig[];
  rules: RuleConfig[];
}

/** An empty static plan. */
export const NO_STATICS: StaticPlan = { addresses: [], routes: [], rules: [] };

// errnos: EEXIST 17, ENOENT 2, ESRCH 3, EADDRNOTAVAIL 99, ENODEV 19.
const EXISTS = [17];
const ABSENT = [2, 3, 19, 99];

/** Keeps static addresses, routes and rules installed from start to stop. */
export class StaticRouting {
  readonly #table: RoutingTable;
  readonly #log: Logger;
  readonly #ifindexOf: IfindexOf;
  #plan: StaticPlan = NO_STATICS;

  constructor(table: RoutingTable, log: Logger, ifindexOf: IfindexOf) {
    this.#table = table;
    this.#log = log;
    this.#ifindexOf = ifindexOf;
  }

  /** Start: deletes leftovers of an earlier run (quietly), then adds everything. */
  async start(plan: StaticPlan): Promise<void> {
    await this.#remove(plan, true);
    this.#plan = plan;
    await this.#add(plan);
  }

  /** Reload: removes what the new plan no longer has, then adds what is new. */
  async reload(plan: StaticPlan): Promise<void> {
    const gone: StaticPlan = {
      addresses: this.#plan.addresses.filter((a) => !has(plan.addresses, a)),
      routes: this.#plan.routes.filter((r) => !has(plan.routes, r)),
      rules: this.#plan.rules.filter((r) => !has(plan.rules, r)),
    };
    const added: StaticPlan = {
      addresses: plan.addresses.filter((a) => !has(this.#plan.addresses, a)),
      routes: plan.routes.filter((r) => !has(this.#plan.routes, r)),
      rules: plan.rules.filter((r) => !has(this.#plan.rules, r)),
    };
    await this.#remove(gone, false);
    this.#plan = plan;
    await this.#add(added);
  }

  /** Stop: removes rules, routes and addresses. */
  async stop(): Promise<void> {
    const plan = this.#plan;
    this.#plan = NO_STATICS;
    await this.#remove(plan, false);
  }

  async #add(p: StaticPlan): Promise<void> {
    for (const a of p.addresses) {
      const spec = addressSpecOf(a, this.#ifindexOf);
      if (spec === null) {
        this.#log.error(
          `cannot add static address ${a.address}/${a.prefix}: interface "${a.device}" does not exist`,
        );
        continue;
      }
      await this.#do(this.#table.addAddress(spec), EXISTS);
    }
    for (const r of p.routes) {
      const spec = this.#route(r);
      if (spec !== null) await this.#do(this.#table.addRoute(spec), EXISTS);
    }
    for (const r of p.rules) await this.#do(this.#table.addRule(ruleSpecOf(r)), EXISTS);
  }

  async #remove(p: StaticPlan, quiet: boolean): Promise<void> {
    const ignore = quiet ? null : ABSENT;
    for (const r of p.rules) {
      // A rule is deleted by every selector it was added with; ENOENT when it is gone.
      await this.#do(this.#table.deleteRule(ruleSpecOf(r)), ignore);
    }
    for (const r of p.routes) {
      const spec = this.#route(r, true);
      if (spec !== null) await this.#do(this.#table.deleteRoute(spec), ignore);
    }
    for (const a of p.addresses) {
      const spec = addressSpecOf(a, this.#ifindexOf);
      if (spec !== null) await this.#do(this.#table.deleteAddress(spec), ignore);
    }
  }

  #route(r: RouteConfig, quiet = false): RouteSpec | null {
    if (r.device === undefined) return routeSpecOf(r, undefined);
    const ifindex = this.#ifindexOf(r.device);
    if (ifindex === null) {
      if (!quiet) {
        this.#log.error(
          `cannot add static route ${r.to.address}/${r.to.prefix}: interface "${r.device}" ` +
            "does not exist",
        );
      }
      return null;
    }
    return routeSpecOf(r, ifindex);
  }

  /** Awaits one request; errnos in `ignore` are expected, null ignores every error. */
  async #do(p: Promise<void>, ignore: number[] | null): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (ignore === null) return;
      if (e instanceof SyscallError && ignore.includes(e.errno)) return;
      this.#log.error((e as Error).message);
    }
  }
}

function has<T>(list: T[], x: T): boolean {
  const key = JSON.stringify(x);
  return list.some((y) => JSON.stringify(y) === key);
}
