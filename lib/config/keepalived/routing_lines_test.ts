import { assertEquals } from "../../../tests/helpers/assert.ts";
import { formatKaIssue, importKeepalivedText, realFs } from "../import_keepalived.ts";
import { loadConfigText } from "../load.ts";

function imp(text: string) {
  const r = importKeepalivedText(text, "k.conf", realFs);
  return { ...r, issues: [...r.errors, ...r.warnings].map(formatKaIssue) };
}

Deno.test("import: rule lines as keepalived's alloc_rule reads them", () => {
  const r = imp(`static_rules {
  from 10.0.0.0/8 to all lookup main priority 10
  not from 10.1.0.0/16 fwmark 0x10/0xff iif eth0 oif eth1 unreachable priority 11
  to 10.2.0.0/16 sport 1000-2000 dport 80 ipproto udp uidrange 10-20 tos 0x08 table 7 priority 12
  inet6 type prohibit priority 13
  from 10.3.0.0/16 goto 100 priority 14
  from 10.4.0.0/16 table 9 suppress_prefixlength 0 realms 3 priority 15
  from 10.5.0.0/16 priority 16
}
`);
  assertEquals(r.issues, [
    'k.conf:4:3: warning: static_rules: "dport 80" dropped: keepalived 2.2.7 accepts only ' +
    "FIRST-LAST here and ignores anything else",
    'k.conf:7:3: warning: static_rules: option "realms 3" is not supported and was dropped',
    "k.conf:8:3: warning: static_rules: no action specified for rule; keepalived drops the line, " +
    "and so does the import",
  ]);
  const loaded = loadConfigText(r.yaml.replace(/^.*from: 10\.5.*$/m, ""), "t.yaml");
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  const rules = loaded.config.staticRules;
  assertEquals(rules.map((x) => [x.action, x.priority]), [
    ["table", 10],
    ["unreachable", 11],
    ["table", 12],
    ["prohibit", 13],
    ["goto", 14],
    ["table", 15],
  ]);
  assertEquals(rules[0]!.table, 254);
  assertEquals(rules[0]!.to, undefined, "to all is no selector");
  assertEquals([rules[1]!.invert, rules[1]!.fwmark, rules[1]!.fwmask], [true, 16, 255]);
  assertEquals([rules[2]!.sport, rules[2]!.dport, rules[2]!.ipProto, rules[2]!.tos], [
    "1000-2000",
    undefined,
    17,
    8,
  ]);
  assertEquals(rules[3]!.family, "ipv6");
  assertEquals(rules[4]!.goto, 100);
});

Deno.test("import: route lines carry types, scope and onlink; static addresses need dev", () => {
  const r = imp(`static_routes {
  throw 10.0.0.0/8 table 5
  to unreachable 10.1.0.0/16
  10.2.0.0/16 via inet 192.0.2.1 dev eth0 onlink scope global metric 0x10
  fd70::/48 via fd77::1 dev eth0
}
static_ipaddress {
  192.0.2.9/24
}
`);
  assertEquals(r.issues, [
    "k.conf:8:3: static_ipaddress: no dev given (a static address needs its interface)",
  ]);
  const loaded = loadConfigText(r.yaml, "t.yaml");
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  assertEquals(loaded.config.staticRoutes.map((x) => [x.to.address, x.type, x.scope, x.onlink]), [
    ["10.0.0.0", "throw", "global", false],
    ["10.1.0.0", "unreachable", "global", false],
    ["10.2.0.0", "unicast", "global", true],
    ["fd70::", "unicast", "global", false],
  ]);
  assertEquals(loaded.config.staticRoutes[2]!.metric, 16);
});

Deno.test("import: UDP_CHECK require_reply with data becomes reply_data", () => {
  const r = imp(`virtual_server 10.0.0.1 53 {
  protocol UDP
  real_server 10.0.0.2 53 {
    UDP_CHECK {
      require_reply 01 xx 03
      min_reply_length 3
    }
  }
}
`);
  assertEquals(r.errors, []);
  const loaded = loadConfigText(r.yaml, "t.yaml");
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  const ck = loaded.config.virtualServers[0]!.realServers[0]!.checks[0]!;
  assertEquals(ck.type === "UDP_CHECK" && [ck.requireReply, ck.replyData], [true, "01 xx 03"]);
});

Deno.test("import: a multipath route keeps its first gateway, with a warning", () => {
  const r = imp(`static_routes {
  10.1.0.0/16 via 10.0.0.1 or 10.0.0.2
  10.2.0.0/16 nexthop via 10.0.0.3 dev eth0 weight 2 nexthop via 10.0.0.4 dev eth1
  10.3.0.0/16 nexthop via inet 10.0.0.5 dev eth0 onlink
  10.4.0.0/16 via 10.0.0.6 metric x
}
`);
  assertEquals(r.issues, [
    'k.conf:2:3: warning: static_routes: "or 10.0.0.2" makes keepalived\'s route multipath; ' +
    "haagent has no multipath routes, so the route keeps only its first gateway",
    "k.conf:3:3: warning: static_routes: 2 nexthops make keepalived's route multipath; haagent " +
    "has no multipath routes, so the route goes via the first nexthop only",
    'k.conf:5:3: warning: static_routes: metric "x" is not a number; keepalived drops the line, ' +
    "and so does the import",
  ]);
  const loaded = loadConfigText(r.yaml, "t.yaml");
  if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  assertEquals(
    loaded.config.staticRoutes.map((x) => [x.to.address, x.via, x.device, x.onlink]),
    [
      ["10.1.0.0", "10.0.0.1", undefined, false],
      ["10.2.0.0", "10.0.0.3", "eth0", false],
      ["10.3.0.0", "10.0.0.5", "eth0", true],
    ],
  );
});
