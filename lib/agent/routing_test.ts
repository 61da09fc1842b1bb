import { assertEquals } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { loadConfigText } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import type { AddressSpec, RouteSpec } from "../netlink/rtnl.ts";
import { type RuleSpec, ruleText } from "../netlink/rule.ts";
import { Logger } from "../runtime/log.ts";
import { type RoutingTable, StaticRouting } from "./routing.ts";

/** A kernel table in memory: what is installed, and every call in order. */
class MemTable implements RoutingTable {
  readonly calls: string[] = [];
  readonly held = new Set<string>();
  #op(kind: string, key: string, add: boolean): Promise<void> {
    this.calls.push(`${add ? "add" : "del"} ${kind} ${key}`);
    if (add && this.held.has(key)) return Promise.reject(new SyscallError("x", 17, "exists"));
    if (!add && !this.held.has(key)) return Promise.reject(new SyscallError("x", 2, "absent"));
    if (add) this.held.add(key);
    else this.held.delete(key);
    return Promise.resolve();
  }
  addAddress = (s: AddressSpec) => this.#op("addr", `${s.address}/${s.prefix}`, true);
  deleteAddress = (s: AddressSpec) => this.#op("addr", `${s.address}/${s.prefix}`, false);
  addRoute = (s: RouteSpec) => this.#op("route", `${s.to}/${s.prefix} ${s.type}`, true);
  deleteRoute = (s: RouteSpec) => this.#op("route", `${s.to}/${s.prefix} ${s.type}`, false);
  addRule = (s: RuleSpec) => this.#op("rule", ruleText(s), true);
  deleteRule = (s: RuleSpec) => this.#op("rule", ruleText(s), false);
}

function statics(yaml: string) {
  const r = loadConfigText(yaml, "t.yaml");
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  const c: Config = r.config;
  return { addresses: c.staticAddresses, routes: c.staticRoutes, rules: c.staticRules };
}

const A = statics(`static_ipaddresses: [{ address: 10.1.0.1/24, device: eth0 }]
static_routes: [{ to: 10.2.0.0/16, type: unreachable }, { to: 10.3.0.0/16, device: eth0 }]
static_rules: [{ from: 10.1.0.0/24, table: 100, priority: 100 }]
`);
const B = statics(`static_ipaddresses: [{ address: 10.1.0.1/24, device: eth0 }]
static_routes: [{ to: 10.3.0.0/16, device: eth0 }, { to: 10.4.0.0/16, type: blackhole }]
static_rules: [{ from: 10.1.0.0/24, table: 101, priority: 100 }]
`);

Deno.test("static routing: start clears leftovers quietly, then adds; stop removes rules, routes, addresses", async () => {
  const t = new MemTable();
  const errors: string[] = [];
  const log = new Logger("t", { level: "error", sink: (l) => errors.push(l), json: false });
  t.held.add("10.2.0.0/16 unreachable"); // a leftover of a killed run
  const s = new StaticRouting(t, log, (n) => (n === "eth0" ? 2 : null));
  await s.start(A);
  assertEquals(errors, [], "leftover deletes fail quietly");
  assertEquals([...t.held].sort(), [
    "10.1.0.1/24",
    "10.2.0.0/16 unreachable",
    "10.3.0.0/16 unicast",
    "rule pref 100 from 10.1.0.0/24 lookup 100",
  ]);
  t.calls.length = 0;
  await s.stop();
  assertEquals(t.calls, [
    "del rule rule pref 100 from 10.1.0.0/24 lookup 100",
    "del route 10.2.0.0/16 unreachable",
    "del route 10.3.0.0/16 unicast",
    "del addr 10.1.0.1/24",
  ]);
  assertEquals(t.held.size, 0);
});

Deno.test("static routing: a reload removes what is gone and adds what is new, nothing else", async () => {
  const t = new MemTable();
  const log = new Logger("t", { level: "error", sink: () => {}, json: false });
  const s = new StaticRouting(t, log, (n) => (n === "eth0" ? 2 : null));
  await s.start(A);
  t.calls.length = 0;
  await s.reload(B);
  assertEquals(t.calls, [
    "del rule rule pref 100 from 10.1.0.0/24 lookup 100",
    "del route 10.2.0.0/16 unreachable",
    "add route 10.4.0.0/16 blackhole",
    "add rule rule pref 100 from 10.1.0.0/24 lookup 101",
  ]);
  await s.stop();
  assertEquals(t.held.size, 0);
});
