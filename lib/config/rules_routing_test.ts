import { assertEquals } from "../../tests/helpers/assert.ts";
import { formatIssue } from "./errors.ts";
import { loadConfigText } from "./load.ts";

const BASE = `vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 1
    virtual_ipaddresses: [10.0.0.50/24]
`;

function load(yaml: string) {
  return loadConfigText(yaml, "t.yaml");
}

Deno.test("routing: statics and virtual rules load with keepalived's defaults", () => {
  const r = load(`${BASE}    virtual_rules:
      - { from: 10.0.0.0/24, table: 100, priority: 100 }
      - { to: 192.0.2.0/24, table: 101 }
      - { action: blackhole, family: ipv6 }
    virtual_routes:
      - { to: 10.9.0.0/16, via: 10.0.0.254, onlink: true, table: 100, metric: 5 }
      - { to: 10.8.0.0/16, blackhole: true }
static_ipaddresses:
  - { address: 10.1.0.1/24, device: eth0 }
static_routes:
  - { to: 10.7.0.0/16, type: unreachable }
  - { to: 10.6.0.0/16, device: eth0, scope: link }
static_rules:
  - { fwmark: 7, fwmask: 255, table: 7, priority: 70, iif: eth0, sport: "1000-2000" }
  - { to: 10.5.0.0/16, action: prohibit }
`);
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
  const c = r.config;
  assertEquals(c.staticAddresses, [
    { address: "10.1.0.1", prefix: 24, family: "ipv4", device: "eth0", scope: "global" },
  ]);
  assertEquals(c.staticRoutes.map((x) => [x.type, x.scope]), [
    ["unreachable", "global"],
    ["unicast", "link"],
  ]);
  assertEquals(c.staticRules[0]!.action, "table");
  assertEquals(c.staticRules[0]!.sport, "1000-2000");
  // keepalived numbers rules without a preference from 16384 down, per family, in file order:
  // static_rules first.
  assertEquals(c.staticRules[1]!.priority, 16384);
  const v = c.vrrpInstances[0]!;
  assertEquals(v.rules.map((x) => [x.family, x.action, x.priority]), [
    ["ipv4", "table", 100],
    ["ipv4", "table", 16383],
    ["ipv6", "blackhole", 16384],
  ]);
  assertEquals(v.routes[1]!.type, "blackhole");
  assertEquals(v.routes[0]!.onlink, true);
  const warns = r.warnings.map(formatIssue);
  assertEquals(warns.filter((w) => w.includes("no priority: set to")).length, 3, warns.join("\n"));
});

Deno.test("routing: bad routes and rules are refused at their line", () => {
  const r = load(`${BASE}    virtual_rules:
      - { from: 10.0.0.0/24, priority: 1 }
      - { action: goto, goto: 5, priority: 10 }
      - { action: nop, table: 5, priority: 11 }
      - { fwmask: 3, table: 1, priority: 12 }
      - { from: 10.0.0.0/8, to: "2001:db8::/32", table: 1, priority: 13 }
      - { dport: "90-80", table: 1, priority: 14 }
    virtual_routes:
      - { to: 10.9.0.0/16, type: prohibit, via: 10.0.0.1 }
      - { to: 10.9.0.0/16, onlink: true }
      - { to: 10.9.0.0/16, type: throw, blackhole: true }
`);
  assertEquals(r.ok, false);
  const errs = r.ok ? [] : r.errors.map(formatIssue);
  const want = [
    "virtual_rules[0]: a rule needs an action",
    "virtual_rules[1].goto: goto 5 is not above the rule's priority 10",
    "virtual_rules[2].table: a nop rule looks up no table",
    "virtual_rules[3].fwmask: fwmask needs fwmark",
    "virtual_rules[4].to: 2001:db8:: is not ipv4",
    "virtual_rules[5].dport: 90-80 is not FIRST-LAST",
    "virtual_routes[0].via: a prohibit route has no gateway",
    "virtual_routes[1].onlink: onlink needs a gateway",
    "virtual_routes[2].blackhole: contradicts type: throw",
  ];
  for (const w of want) {
    assertEquals(errs.some((e) => e.includes(w)), true, `${w}\n---\n${errs.join("\n")}`);
  }
  assertEquals(errs.every((e) => /^t\.yaml:\d+:\d+: /.test(e)), true, errs.join("\n"));
});

Deno.test("routing: a static address needs its device", () => {
  const r = load(`static_ipaddresses: [10.1.0.1/24]\n`);
  assertEquals(r.ok, false);
});
