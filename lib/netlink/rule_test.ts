import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { FakeNetlink } from "./fake.ts";
import { NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, type NlMessage } from "./message.ts";
import { Rtnl } from "./rtnl.ts";
import {
  decodeRule,
  encodeRuleRequest,
  RTM_DELRULE,
  RTM_GETRULE,
  RTM_NEWRULE,
  type RuleSpec,
  ruleText,
} from "./rule.ts";

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

function asMessage(payload: Uint8Array): NlMessage {
  return { type: RTM_NEWRULE, flags: 0, seq: 0, pid: 0, payload };
}

Deno.test("rule: a table rule encodes as iproute2 6.1 sends `ip rule add ... protocol keepalived`", () => {
  // strace of `ip rule add from 10.0.0.0/8 to 192.168.1.0/24 pref 100 table 100 protocol
  // keepalived`: fib_rule_hdr {AF_INET, dst_len 24, src_len 8, tos 0, table 100, action 1},
  // then FRA_SRC, FRA_DST, FRA_PRIORITY, FRA_PROTOCOL.
  const b = encodeRuleRequest({
    family: "ipv4",
    action: "table",
    table: 100,
    priority: 100,
    from: { address: "10.0.0.0", prefix: 8 },
    to: { address: "192.168.1.0", prefix: 24 },
  });
  assertEquals(
    hex(b),
    "02 18 08 00 64 00 00 01 00 00 00 00 " +
      "08 00 02 00 0a 00 00 00 " +
      "08 00 01 00 c0 a8 01 00 " +
      "08 00 06 00 64 00 00 00 " +
      "05 00 15 00 12 00 00 00",
  );
});

Deno.test("rule: a table above 255 goes in FRA_TABLE with 0 in the header", () => {
  const b = encodeRuleRequest({ family: "ipv6", action: "table", table: 1000, priority: 5 });
  assertEquals([...b.subarray(0, 8)], [10, 0, 0, 0, 0, 0, 0, 1]);
  assertEquals(hex(b.subarray(12, 20)), "08 00 0f 00 e8 03 00 00");
});

Deno.test("rule: decode(encode(x)) gives x back for every option", () => {
  const cases: RuleSpec[] = [
    { family: "ipv4", action: "table", table: 100, priority: 10, protocol: 18 },
    {
      family: "ipv4",
      action: "table",
      table: 70000,
      priority: 11,
      invert: true,
      from: { address: "192.0.2.0", prefix: 24 },
      to: { address: "198.51.100.7", prefix: 32 },
      tos: 0x10,
      fwmark: 7,
      fwmask: 0xff,
      iif: "eth0",
      oif: "eth1",
      suppressPrefixLength: 0,
      uidRange: { start: 1000, end: 1999 },
      ipProto: 6,
      sport: { start: 1024, end: 2048 },
      dport: { start: 80, end: 80 },
      protocol: 18,
    },
    {
      family: "ipv6",
      action: "unreachable",
      priority: 12,
      from: { address: "2001:db8::", prefix: 32 },
      protocol: 18,
    },
    { family: "ipv4", action: "goto", goto: 100, priority: 13, protocol: 18 },
    { family: "ipv4", action: "nop", priority: 14, protocol: 18 },
    { family: "ipv4", action: "blackhole", priority: 15, protocol: 18 },
    { family: "ipv6", action: "prohibit", priority: 16, protocol: 4 },
  ];
  for (const c of cases) {
    const d = decodeRule(asMessage(encodeRuleRequest(c)));
    assert(d.ok, JSON.stringify(c));
    assertEquals(d.value, c);
  }
});

Deno.test("rule: mutated and truncated input never throws", () => {
  const b = encodeRuleRequest({
    family: "ipv4",
    action: "table",
    table: 7,
    priority: 1,
    from: { address: "10.1.0.0", prefix: 16 },
    iif: "eth0",
    sport: { start: 1, end: 2 },
  });
  let seed = 1;
  for (let i = 0; i < 2000; i++) {
    const m = b.slice(0, (i * 7) % (b.length + 1));
    for (let k = 0; k < 3 && m.length > 0; k++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      m[seed % m.length] = seed & 0xff;
    }
    decodeRule(asMessage(m));
  }
  assertEquals(decodeRule(asMessage(new Uint8Array(4))).ok, false);
  const badAction = b.slice();
  badAction[7] = 42;
  assertEquals(decodeRule(asMessage(badAction)), { ok: false, reason: "rule action 42" });
});

Deno.test("rule: bad addresses and a goto without target are refused before sending", () => {
  let threw = 0;
  for (
    const bad of [
      { family: "ipv4", action: "table", from: { address: "2001:db8::", prefix: 32 } },
      { family: "ipv4", action: "table", to: { address: "10.0.0.0", prefix: 33 } },
      { family: "ipv4", action: "goto" },
    ] as RuleSpec[]
  ) {
    try {
      encodeRuleRequest(bad);
    } catch {
      threw++;
    }
  }
  assertEquals(threw, 3);
});

Deno.test("rule: text reads like ip rule", () => {
  assertEquals(
    ruleText({
      family: "ipv4",
      action: "table",
      table: 100,
      priority: 100,
      from: { address: "10.0.0.0", prefix: 8 },
      fwmark: 3,
      fwmask: 255,
    }),
    "rule pref 100 from 10.0.0.0/8 fwmark 3/255 lookup 100",
  );
  assertEquals(
    ruleText({ family: "ipv6", action: "blackhole", priority: 9 }),
    "-6 rule pref 9 from all blackhole",
  );
});

Deno.test("rtnl: addRule, deleteRule and listRules speak RTM_*RULE", async () => {
  const listed = encodeRuleRequest({ family: "ipv4", action: "table", table: 9, priority: 77 });
  const fake = new FakeNetlink((req) => req.type === RTM_GETRULE ? [asMessage(listed)] : []);
  const rtnl = new Rtnl(fake);
  const spec: RuleSpec = { family: "ipv4", action: "table", table: 9, priority: 77 };
  await rtnl.addRule(spec);
  await rtnl.deleteRule(spec);
  assertEquals(await rtnl.listRules("ipv4"), [{ ...spec, protocol: 18 }]);
  assertEquals(fake.requests.map((r) => r.type), [RTM_NEWRULE, RTM_DELRULE, RTM_GETRULE]);
  assertEquals(fake.requests[0]!.flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  assertEquals(fake.requests[2]!.flags & NLM_F_DUMP, NLM_F_DUMP);
  const bad = await assertRejects(
    () =>
      rtnl.addRule({ family: "ipv6", action: "table", from: { address: "1.2.3.4", prefix: 8 } }),
    TypeError,
  );
  assert(bad.message.includes("not an ipv6 address"));
});
