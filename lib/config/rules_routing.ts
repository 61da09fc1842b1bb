/**
 * Routes and policy routing rules, virtual (per instance, while master) and static (start to
 * stop): the checks keepalived's alloc_route / alloc_rule make. Their defaults that depend on
 * other fields are in defaults_routing.ts.
 *
 * @module
 */
import { familyOf } from "./scalars.ts";
import type { Walker } from "./walker.ts";
import type { Config, RouteConfig, RuleConfig } from "./types.ts";

/** Every route and rule list of the file with the path of its key, in keepalived's parse order. */
function lists(
  cfg: Config,
): { routes: [RouteConfig[], string][]; rules: [RuleConfig[], string][] } {
  const routes: [RouteConfig[], string][] = [[cfg.staticRoutes, "static_routes"]];
  const rules: [RuleConfig[], string][] = [[cfg.staticRules, "static_rules"]];
  for (const inst of cfg.vrrpInstances) {
    const p = `vrrp_instances.${inst.name}`;
    routes.push([inst.routes, `${p}.virtual_routes`]);
    rules.push([inst.rules, `${p}.virtual_rules`]);
  }
  return { routes, rules };
}

function range(text: string): [number, number] {
  const [a, b] = text.split("-");
  return [Number(a), Number(b ?? a)];
}

/** Checks routes and rules; `ifaceMissing` warns about interfaces absent on this host. */
export function routingRules(
  cfg: Config,
  w: Walker,
  ifaceMissing: (name: string, path: string) => void,
): void {
  const { routes, rules } = lists(cfg);
  for (const [list, lp] of routes) {
    list.forEach((r, i) => {
      const rp = w.pathOf.get(r) ?? `${lp}[${i}]`;
      if (r.via !== undefined && familyOf(r.via) !== r.to.family) {
        w.error(
          w.at(`${rp}.via`),
          `${rp}.via`,
          `gateway ${r.via} is not of the family of ${r.to.address}/${r.to.prefix}`,
        );
      }
      if (r.src !== undefined && familyOf(r.src) !== r.to.family) {
        w.error(w.at(`${rp}.src`), `${rp}.src`, `${r.src} is not of the route's family`);
      }
      if (r.type !== "unicast" && r.via !== undefined) {
        w.error(w.at(`${rp}.via`), `${rp}.via`, `a ${r.type} route has no gateway`);
      }
      if (r.onlink && r.via === undefined) {
        w.error(w.at(`${rp}.onlink`), `${rp}.onlink`, "onlink needs a gateway (via)");
      }
      if (r.device !== undefined) ifaceMissing(r.device, `${rp}.device`);
    });
  }
  for (const [list, lp] of rules) {
    list.forEach((r, i) => {
      const rp = w.pathOf.get(r) ?? `${lp}[${i}]`;
      for (const k of ["from", "to"] as const) {
        const c = r[k];
        if (c !== undefined && c.family !== r.family) {
          w.error(w.at(`${rp}.${k}`), `${rp}.${k}`, `${c.address} is not ${r.family}`);
        }
      }
      if (r.action === "table" && r.table === undefined) {
        w.error(
          w.at(rp),
          rp,
          "a rule needs an action: table (with `table: N`), goto, nop, blackhole, unreachable " +
            "or prohibit (keepalived ignores a rule without one)",
        );
      }
      if (r.action !== "table" && r.table !== undefined) {
        w.error(w.at(`${rp}.table`), `${rp}.table`, `a ${r.action} rule looks up no table`);
      }
      if (r.action === "goto") {
        if (r.goto === undefined) w.error(w.at(rp), rp, "action goto needs `goto: PREFERENCE`");
        else if (r.goto <= r.priority) {
          w.error(
            w.at(`${rp}.goto`),
            `${rp}.goto`,
            `goto ${r.goto} is not above the rule's priority ${r.priority} (keepalived refuses it)`,
          );
        }
      } else if (r.goto !== undefined) {
        w.error(w.at(`${rp}.goto`), `${rp}.goto`, `goto needs action: goto (not ${r.action})`);
      }
      if (r.suppressPrefixlength !== undefined && r.action !== "table") {
        w.error(
          w.at(`${rp}.suppress_prefixlength`),
          `${rp}.suppress_prefixlength`,
          "suppress_prefixlength applies to table rules only (keepalived skips the rule)",
        );
      }
      if (r.fwmask !== undefined && r.fwmark === undefined) {
        w.error(w.at(`${rp}.fwmask`), `${rp}.fwmask`, "fwmask needs fwmark");
      }
      for (const k of ["sport", "dport", "uidRange"] as const) {
        const t = r[k];
        if (t === undefined) continue;
        const [a, b] = range(t);
        const key = k === "uidRange" ? "uid_range" : k;
        const max = k === "uidRange" ? 4294967295 : 65535;
        if (a > b || b > max) {
          w.error(
            w.at(`${rp}.${key}`),
            `${rp}.${key}`,
            `${t} is not FIRST-LAST with FIRST <= LAST <= ${max}`,
          );
        }
      }
      if (r.iif !== undefined) ifaceMissing(r.iif, `${rp}.iif`);
      if (r.oif !== undefined) ifaceMissing(r.oif, `${rp}.oif`);
    });
  }
  cfg.staticAddresses.forEach((a, i) => {
    const ap = w.pathOf.get(a) ?? `static_ipaddresses[${i}]`;
    ifaceMissing(a.device, `${ap}.device`);
  });
}
