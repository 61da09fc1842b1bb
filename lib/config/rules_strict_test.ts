import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { formatIssue } from "./errors.ts";
import { loadConfigText } from "./load.ts";
import type { VrrpInstanceConfig } from "./types.ts";

function load(yaml: string) {
  const r = loadConfigText(yaml, "t.yaml");
  const fmt = (xs: { severity: string }[]) => xs.map((x) => formatIssue(x as never));
  return {
    ok: r.ok,
    errors: r.ok ? [] : fmt(r.errors),
    warnings: fmt(r.warnings),
    inst: r.ok ? r.config.vrrpInstances[0]! : (null as unknown as VrrpInstanceConfig),
  };
}

const base = (extra: string, global = "") =>
  `${global ? `global:\n${global}\n` : ""}vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 100
    virtual_ipaddresses: [10.0.0.50/24]
${extra}`;

Deno.test("strict: defaults - no_accept for non-owners, no lower-priority answers", () => {
  const r = load(base("", "  vrrp_strict: true"));
  assert(r.ok, r.errors.join("\n"));
  assertEquals(r.inst.strictMode, true);
  assertEquals(r.inst.accept, false);
  assertEquals(r.inst.lowerPrioNoAdvert, true);
  assertEquals(r.inst.higherPrioSendAdvert, false);
  assertEquals(r.inst.garpLowerPrioRepeat, 0);
  assertEquals(r.inst.garpLowerPrioDelayMs, 0);
  // The owner keeps accept.
  const owner = load(base("", "  vrrp_strict: true").replace("priority: 100", "priority: 255"));
  assertEquals(owner.inst.accept, true);
});

Deno.test("strict: not strict - accept on, GARP answers default to garp_master_*", () => {
  const r = load(base("", "  garp_master_repeat: 3\n  garp_master_delay: 2s"));
  assertEquals(r.inst.accept, true);
  assertEquals(r.inst.lowerPrioNoAdvert, false);
  assertEquals(r.inst.garpLowerPrioRepeat, 3);
  assertEquals(r.inst.garpLowerPrioDelayMs, 2000);
  const g = load(
    base(
      "",
      "  garp_lower_prio_repeat: 1\n  garp_lower_prio_delay: 0s\n  lower_prio_no_advert: true",
    ),
  );
  assertEquals(
    [g.inst.garpLowerPrioRepeat, g.inst.garpLowerPrioDelayMs, g.inst.lowerPrioNoAdvert],
    [1, 0, true],
  );
  const i = load(base("    garp_lower_prio_repeat: 2\n    higher_prio_send_advert: true"));
  assertEquals([i.inst.garpLowerPrioRepeat, i.inst.higherPrioSendAdvert], [2, true]);
});

Deno.test("strict: keepalived's resets are warnings at the key, and take effect", () => {
  const r = load(base(
    [
      "    strict_mode: true",
      "    preempt_delay: 10s",
      "    accept: true",
      "    garp_lower_prio_repeat: 3",
      "    lower_prio_no_advert: false",
      "    higher_prio_send_advert: true",
      "    authentication: { type: PASS, password: secret }",
    ].join("\n"),
  ));
  assert(r.ok, r.errors.join("\n"));
  const w = r.warnings.join("\n");
  assertMatch(
    w,
    /t\.yaml:\d+:\d+: warning: vrrp_instances\.VI_1\.preempt_delay: preempt_delay is not allowed under strict mode/,
  );
  assertMatch(
    w,
    /vrrp_instances\.VI_1\.accept: accept mode for VRRPv2 does not comply with RFC 3768/,
  );
  assertMatch(w, /garp_lower_prio_repeat: no gratuitous ARP repeats under strict mode/);
  assertMatch(w, /lower_prio_no_advert: no advert to a lower priority/);
  assertMatch(w, /higher_prio_send_advert: no advert to a higher priority/);
  assertMatch(w, /authentication: strict mode does not allow authentication: it is ignored/);
  assertEquals(r.inst.preemptDelayMs, 0);
  assertEquals(r.inst.accept, false);
  assertEquals(r.inst.garpLowerPrioRepeat, 0);
  assertEquals(r.inst.lowerPrioNoAdvert, true);
  assertEquals(r.inst.higherPrioSendAdvert, false);
  assertEquals(r.inst.authentication, undefined);
});

Deno.test("strict: v3 may keep accept: true", () => {
  const r = load(base("    strict_mode: true\n    version: 3\n    accept: true"));
  assertEquals(r.inst.accept, true);
  assertEquals(r.warnings.filter((x) => x.includes("accept")), []);
});

Deno.test("strict: unicast peers and no VIP are errors; state must match ownership", () => {
  const uni = load(base("    strict_mode: true\n    unicast_peers: [10.0.0.2]"));
  assertEquals(uni.ok, false);
  assertMatch(uni.errors.join("\n"), /unicast_peers: strict mode does not allow unicast peers/);
  const novip = load(
    base("    strict_mode: true").replace("    virtual_ipaddresses: [10.0.0.50/24]\n", ""),
  );
  assertEquals(novip.ok, false);
  assertMatch(novip.errors.join("\n"), /strict mode needs at least one virtual_ipaddresses entry/);
  const state = load(base("    strict_mode: true\n    state: MASTER"));
  assertMatch(
    state.warnings.join("\n"),
    /state: under strict mode state MASTER must match .* runs as BACKUP/,
  );
});

Deno.test("vmac: name defaults to vrrp.VRID; clashes and keys without use_vmac are reported", () => {
  const r = load(base("    use_vmac: true"));
  assertEquals([r.inst.useVmac, r.inst.vmacName, r.inst.vmacXmitBase], [true, "vrrp.51", false]);
  const lone = load(base("    vmac_name: v51\n    vmac_xmit_base: true"));
  assertMatch(lone.warnings.join("\n"), /vmac_name: has no effect without use_vmac: true/);
  assertMatch(lone.warnings.join("\n"), /vmac_xmit_base: has no effect without use_vmac/);
  const two = load(`vrrp_instances:
  A: { interface: eth0, vrid: 51, use_vmac: true, virtual_ipaddresses: [10.0.0.50/24] }
  B: { interface: eth1, vrid: 51, use_vmac: true, virtual_ipaddresses: [10.0.1.50/24] }
`);
  assertEquals(two.ok, false);
  assertMatch(
    two.errors.join("\n"),
    /vrrp_instances\.B\.use_vmac: VMAC name "vrrp\.51" is used by instance A too/,
  );
  const uni = load(base("    use_vmac: true\n    unicast_peers: [10.0.0.2]"));
  assertEquals(uni.inst.vmacXmitBase, true);
  assertMatch(uni.warnings.join("\n"), /unicast with use_vmac needs vmac_xmit_base: set/);
  const strict = load(base("    use_vmac: true\n    vmac_xmit_base: true\n    strict_mode: true"));
  assertEquals(strict.inst.vmacXmitBase, false);
});

Deno.test("unicast: peers with TTL limits, check_unicast_src, unicast_ttl", () => {
  const r = load(base("    unicast_peers: [10.0.0.2, { address: 10.0.0.3, min_ttl: 250 }]"));
  assert(r.ok, r.errors.join("\n"));
  assertEquals(r.inst.unicastPeers, [
    { address: "10.0.0.2", minTtl: 0, maxTtl: 255 },
    { address: "10.0.0.3", minTtl: 250, maxTtl: 255 },
  ]);
  assertEquals(r.inst.checkUnicastSrc, true);
  assertEquals(r.inst.unicastTtl, 255);
  const off = load(base("    unicast_peers: [10.0.0.2]", "  check_unicast_src: false"));
  assertEquals(off.inst.checkUnicastSrc, false);
  // A TTL limit turns the check on, as in keepalived.
  const on = load(
    base("    unicast_peers: [{ address: 10.0.0.2, max_ttl: 254 }]", "  check_unicast_src: false"),
  );
  assertEquals(on.inst.checkUnicastSrc, true);
  const bad = load(base("    unicast_peers: [{ address: 10.0.0.2, min_ttl: 9, max_ttl: 3 }]"));
  assertMatch(
    bad.warnings.join("\n"),
    /min_ttl 9 > max_ttl 3: every advert from 10\.0\.0\.2 will be dropped/,
  );
  const idle = load(base("    unicast_ttl: 10\n    check_unicast_src: true"));
  assertMatch(idle.warnings.join("\n"), /unicast_ttl: has no effect without unicast_peers/);
  assertMatch(idle.warnings.join("\n"), /check_unicast_src: has no effect without unicast_peers/);
  const noop = load(
    base("    check_unicast_src: false\n    unicast_peers: [{ address: 10.0.0.2, min_ttl: 3 }]"),
  );
  assertMatch(
    noop.warnings.join("\n"),
    /min_ttl \/ max_ttl have no effect with check_unicast_src: false/,
  );
});

Deno.test("mcast_dst_ip: family and scope checked, ignored with unicast", () => {
  const ok = load(base("    mcast_dst_ip: 224.0.0.19"));
  assertEquals(ok.inst.mcastDstIp, "224.0.0.19");
  const fam = load(base("    mcast_dst_ip: ff02::13"));
  assertMatch(fam.errors.join("\n"), /mcast_dst_ip: ff02::13 is not of the instance's family/);
  const scope = load(
    base("    family: ipv6\n    mcast_dst_ip: ff05::12").replace("10.0.0.50/24", "fe80::50/64"),
  );
  assertMatch(scope.errors.join("\n"), /ff05::12 is not a link-local multicast group/);
  const uni = load(base("    mcast_dst_ip: 224.0.0.19\n    unicast_peers: [10.0.0.2]"));
  assertMatch(uni.warnings.join("\n"), /mcast_dst_ip: ignored with unicast_peers/);
});
