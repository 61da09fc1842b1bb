import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { formatIssue } from "./errors.ts";
import { loadConfigFile, loadConfigText, type LoadResult } from "./load.ts";
import type { Config } from "./types.ts";

const root = new URL("../../", import.meta.url);

function mustLoad(r: LoadResult): Config {
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
  return r.config;
}

Deno.test("defaults are filled the keepalived way", async () => {
  const c = mustLoad(
    await loadConfigFile(new URL("tests/config/good/defaults.yaml", root).pathname),
  );
  assertEquals(c.global.vrrpVersion, 2);
  assertEquals(c.global.garpMasterDelayMs, 5000);
  assertEquals(c.global.garpMasterRepeat, 5);
  assertEquals(c.global.vrrpMcastGroup4, "224.0.0.18");
  assertEquals(c.global.routerId, undefined);
  assertEquals(c.vrrpInstances, [{
    name: "VI_1",
    interface: "eth0",
    vrid: 51,
    priority: 100,
    advertIntervalMs: 1000,
    state: "BACKUP",
    preempt: true,
    preemptDelayMs: 0,
    unicastPeers: [],
    unicastTtl: 255,
    checkUnicastSrc: true,
    useVmac: false,
    vmacName: "vrrp.51",
    vmacXmitBase: false,
    strictMode: false,
    dontTrackPrimary: false,
    skipCheckAdvAddr: false,
    vips: [{ address: "10.0.0.50", prefix: 32, family: "ipv4", scope: "global", device: "eth0" }],
    excludedVips: [],
    routes: [],
    rules: [],
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    accept: true,
    family: "ipv4",
    version: 2,
    advertIntervalCs: 100,
    garpMasterDelayMs: 5000,
    garpMasterRepeat: 5,
    garpMasterRefreshMs: 0,
    announce: false,
    garpMasterRefreshRepeat: 1,
    garpLowerPrioRepeat: 5,
    garpLowerPrioDelayMs: 5000,
    lowerPrioNoAdvert: false,
    higherPrioSendAdvert: false,
  }]);
  assertEquals(c.global.announce, { table: 198, protocol: 248 });
  const vs = c.virtualServers[0]!;
  assertEquals(
    [vs.address, vs.port, vs.family, vs.protocol, vs.scheduler, vs.forwarding, vs.delayLoopMs],
    ["10.0.0.50", 80, "ipv4", "TCP", "wlc", "NAT", 60_000],
  );
  assertEquals([vs.quorum, vs.hysteresis, vs.persistenceTimeoutMs, vs.tunnelType], [
    1,
    0,
    0,
    undefined,
  ]);
  const rs = vs.realServers[0]!;
  assertEquals([rs.address, rs.port, rs.weight, rs.forwarding, rs.inhibitOnFailure], [
    "10.0.0.11",
    80,
    1,
    "NAT",
    false,
  ]);
  const [tcp, dns, misc] = rs.checks;
  assertEquals(tcp, {
    type: "TCP_CHECK",
    connectTimeoutMs: 5000,
    retry: 1,
    delayBeforeRetryMs: 1000,
    rise: 1,
    fall: 1,
    logAllFailures: false,
    delayLoopMs: 60_000,
    warmupMs: 60_000,
    alpha: false,
    connectIp: "10.0.0.11",
    connectPort: 80,
  });
  assert(dns?.type === "DNS_CHECK");
  assertEquals([dns.retry, dns.delayBeforeRetryMs, dns.dnsType, dns.dnsName], [
    3,
    60_000,
    "SOA",
    ".",
  ]);
  assert(misc?.type === "MISC_CHECK");
  assertEquals([misc.retry, misc.miscTimeoutMs, misc.user], [0, 60_000, undefined]);
});

Deno.test("IPv6 instance: version 3, canonical addresses, inherited and numeric durations", async () => {
  const c = mustLoad(
    await loadConfigFile(new URL("tests/config/good/ipv6_v3.yaml", root).pathname),
  );
  const i = c.vrrpInstances[0]!;
  assertEquals([i.family, i.version, i.advertIntervalMs, i.advertIntervalCs], ["ipv6", 3, 250, 25]);
  assertEquals(i.vips.map((v) => `${v.address}/${v.prefix}`), ["2001:db8::10/64", "fe80::1/128"]);
  assertEquals(i.garpMasterDelayMs, 2000);
  assertEquals(i.trackScripts, [{ name: "chk", weight: -10, reverse: false }, {
    name: "chk",
    weight: 5,
    reverse: false,
  }]);
  assertEquals(c.scripts.chk?.intervalMs, 500);
  assertEquals(c.scripts.chk?.timeoutMs, 500);
  assertEquals(c.virtualServerGroups.g, [
    { kind: "address", address: "2001:db8::10", port: 443, family: "ipv6" },
    { kind: "range", from: "2001:db8::20", to: "2001:db8::2f", port: 443, family: "ipv6" },
    { kind: "fwmark", fwmark: 9, family: "ipv6" },
  ]);
  assertEquals([c.virtualServers[0]!.family, c.virtualServers[0]!.port], ["ipv6", 0]);
});

Deno.test("examples/ha.yaml and examples/minimal.yaml load without errors or warnings", async () => {
  for (const f of ["examples/ha.yaml", "examples/minimal.yaml"]) {
    const r = await loadConfigFile(new URL(f, root).pathname);
    if (!r.ok) throw new Error(r.errors.map(formatIssue).join("\n"));
    assertEquals(r.warnings.map(formatIssue), [], f);
  }
});

Deno.test("interfaceExists turns missing interfaces into warnings, not errors", () => {
  const text = "vrrp_instances:\n  VI_1:\n    interface: eth9\n    vrid: 1\n" +
    "    virtual_ipaddresses: [10.0.0.1/24]\n";
  const r = loadConfigText(text, "x.yaml", { interfaceExists: (n) => n === "eth0" });
  assert(r.ok);
  assertEquals(r.warnings.map(formatIssue), [
    'x.yaml:3:16: warning: vrrp_instances.VI_1.interface: interface "eth9" does not exist on this host',
  ]);
  const alone = loadConfigText(text, "x.yaml");
  assert(alone.ok);
  assertEquals(alone.warnings, []);
});

Deno.test("YAML anchors and merge keys are followed", () => {
  const text = [
    "vrrp_instances:",
    "  VI_1: &base",
    "    interface: eth0",
    "    vrid: 1",
    "    priority: 150",
    "    virtual_ipaddresses: [10.0.0.1/24]",
    "  VI_2:",
    "    <<: *base",
    "    vrid: 2",
  ].join("\n");
  const c = mustLoad(loadConfigText(text, "m.yaml"));
  assertEquals(c.vrrpInstances.map((i) => [i.name, i.vrid, i.priority]), [["VI_1", 1, 150], [
    "VI_2",
    2,
    150,
  ]]);
});

Deno.test("positions map every field to its place in the file", () => {
  const r = loadConfigText(
    "vrrp_instances:\n  VI_1:\n    interface: eth0\n    vrid: 1\n    priority: 20\n",
    "p.yaml",
  );
  assert(r.ok);
  assertEquals(r.positions.get("vrrp_instances.VI_1.priority"), { line: 5, col: 15 });
  assertEquals(r.positions.get("vrrp_instances.VI_1"), { line: 3, col: 5 });
});

Deno.test("loadConfigText never throws on mutated input", () => {
  const base = new TextEncoder().encode(Deno.readTextFileSync(new URL("examples/ha.yaml", root)));
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = ":-[]{}&*!|>'\"#%@ \n\t0123456789abcxyz.";
  for (let n = 0; n < 200; n++) {
    const b = base.slice();
    for (let k = 0; k < 1 + Math.floor(rnd() * 5); k++) {
      b[Math.floor(rnd() * b.length)] = alphabet.charCodeAt(Math.floor(rnd() * alphabet.length));
    }
    const r = loadConfigText(new TextDecoder().decode(b), "fuzz.yaml");
    assert(r.ok || r.errors.length > 0);
  }
});

const MAIL_BASE = `global:
  router_id: lb1
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 100
    virtual_ipaddresses: [10.0.0.50/24]
`;

Deno.test("smtp_alert: the keys load; alerts without a relay are a warning at the switch", () => {
  const r = loadConfigText(
    MAIL_BASE.replace("  router_id: lb1\n", "  router_id: lb1\n  smtp_alert_vrrp: true\n"),
    "/ha.yaml",
  );
  assert(r.ok);
  assertEquals(r.config.global.smtpAlertVrrp, true);
  assertEquals(r.config.global.noEmailFaults, false);
  assertEquals(r.warnings.map(formatIssue), [
    "/ha.yaml:3:20: warning: global.smtp_alert_vrrp: e-mail alerts are on but global.smtp_server is not set: no mail will be sent",
  ]);
  const own = loadConfigText(
    MAIL_BASE.replace("  router_id: lb1\n", "  router_id: lb1\n  smtp_server: 127.0.0.1\n") +
      "    smtp_alert: true\n",
    "/ha.yaml",
  );
  assert(own.ok);
  assertEquals(own.config.vrrpInstances[0]!.smtpAlert, true);
  assertEquals(own.warnings.map(formatIssue), [
    "/ha.yaml:10:17: warning: vrrp_instances.VI_1.smtp_alert: e-mail alerts are on but global.notification_email is not set: no mail will be sent",
  ]);
  const fine = loadConfigText(
    MAIL_BASE.replace(
      "  router_id: lb1\n",
      "  router_id: lb1\n  smtp_server: 127.0.0.1\n  notification_email: [ops@example.net]\n  smtp_alert: true\n",
    ),
    "/ha.yaml",
  );
  assert(fine.ok);
  assertEquals(fine.warnings, []);
  const off = loadConfigText(MAIL_BASE, "/ha.yaml");
  assert(off.ok);
  assertEquals(off.warnings, []);
});

Deno.test("processes: references, unused definitions and quorum_max are checked", () => {
  const r = loadConfigText(
    `processes:
  haproxy: { process: haproxy, quorum: 2, quorum_max: 1 }
  unused: { process: nginx }
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [10.0.0.50/24]
    track_processes: [haproxy, haprox]
`,
    "/ha.yaml",
  );
  assert(!r.ok);
  assertEquals(r.errors.map(formatIssue), [
    "/ha.yaml:2:55: processes.haproxy.quorum_max: 1 is below quorum 2 (expected quorum_max >= quorum)",
    '/ha.yaml:9:32: vrrp_instances.VI_1.track_processes[1]: process "haprox" is not defined in processes (did you mean "haproxy"?)',
  ]);
  assertEquals(r.warnings.map(formatIssue), [
    "/ha.yaml:3:11: warning: processes.unused: no instance tracks this process, so it is never looked for",
  ]);
});

Deno.test("lvs_sync_daemon: its instance must exist; without virtual servers it is a warning", () => {
  const r = loadConfigText(
    `global:
  lvs_sync_daemon: { interface: eth1, instance: VI_2, group: 224.0.0.81 }
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    virtual_ipaddresses: [10.0.0.50/24]
`,
    "/ha.yaml",
  );
  assert(!r.ok);
  assertEquals(r.errors.map(formatIssue), [
    '/ha.yaml:2:49: global.lvs_sync_daemon.instance: instance "VI_2" is not defined in vrrp_instances (did you mean "VI_1"?)',
  ]);
  assertEquals(r.warnings.map(formatIssue), [
    "/ha.yaml:2:20: warning: global.lvs_sync_daemon: no virtual_servers: the sync daemon runs with the load balancer only",
  ]);
  const bad = loadConfigText(
    "global:\n  lvs_sync_daemon: { interface: eth1, instance: VI_1, group: 10.0.0.1 }\n",
    "/ha.yaml",
  );
  assert(!bad.ok);
  assert(bad.errors.map(formatIssue).join("\n").includes("global.lvs_sync_daemon.group"));
});

Deno.test("limits: at most 100 errors are listed, then how many more there were", () => {
  const vips = Array.from({ length: 250 }, (_, i) => `      - 10.0.${i}.300/24`).join("\n");
  const r = loadConfigText(
    `vrrp_instances:\n  VI_1:\n    interface: eth0\n    vrid: 51\n    virtual_ipaddresses:\n${vips}\n`,
    "/ha.yaml",
  );
  assert(!r.ok);
  assertEquals(r.errors.length, 101);
  assertEquals(
    formatIssue(r.errors[100]!),
    "/ha.yaml:105:9: 150 more errors not shown (at most 100 are reported)",
  );
});

Deno.test("limits: a list of more than 100,000 entries is one error at the list", () => {
  const text = "vrrp_instances:\n  VI_1:\n    interface: eth0\n    vrid: 51\n" +
    "    unicast_peers: [" + Array(100_001).fill("1").join(",") + "]\n";
  const r = loadConfigText(text, "/ha.yaml");
  assert(!r.ok);
  assertEquals(r.errors.map(formatIssue), [
    "/ha.yaml:5:20: a list of 100,001 entries (at most 100,000)",
  ]);
});

Deno.test("limits: duplicate keys are found without the parser's quadratic check", () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `  VI_${i}: 1`).join("\n");
  const r = loadConfigText(`vrrp_instances:\n${keys}\n  VI_7: 2\n`, "/ha.yaml");
  assert(!r.ok);
  assertEquals(r.errors.map(formatIssue), [
    '/ha.yaml:20002:3: Map keys must be unique: "VI_7" is already at line 9, column 3',
  ]);
});

/** Issues of a file with one announcing instance and `global` lines, as `LINE:COL PATH | MSG`. */
function announceIssues(global: string, opts = {}): { errors: string[]; warnings: string[] } {
  const text = `global:\n${global}\nvrrp_instances:\n  VI_1:\n    interface: eth0\n` +
    `    vrid: 51\n    announce: true\n    virtual_ipaddresses: [192.0.2.10]\n`;
  const r = loadConfigText(text, "a.yaml", opts);
  const fmt = (i: { line: number; col: number; path: string; message: string }) =>
    `${i.line}:${i.col} ${i.path} | ${i.message}`;
  return { errors: r.ok ? [] : r.errors.map(fmt), warnings: r.warnings.map(fmt) };
}

Deno.test("announce: the kernel's special tables are refused at the line", () => {
  const names: Record<number, string> = { 0: "unspec", 253: "default", 254: "main", 255: "local" };
  for (const [t, name] of Object.entries(names)) {
    const r = announceIssues(`  announce:\n    table: ${t}`);
    assertEquals(r.errors.length, 1, r.errors.join("\n"));
    assert(
      r.errors[0]!.startsWith(`3:12 global.announce.table | table ${t} is the kernel's ${name}`),
      r.errors[0],
    );
  }
  for (const t of [1, 198, 252, 256, 4294967295]) {
    assertEquals(announceIssues(`  announce:\n    table: ${t}`).errors, [], `table ${t}`);
  }
});

Deno.test("announce: reserved protocols are refused; the host's rt_protos is the list", () => {
  for (const p of [0, 1, 2, 3, 4, 11, 12, 18, 186]) {
    const r = announceIssues(`  announce: { protocol: ${p} }`);
    assertEquals(r.errors.length, 1, `protocol ${p}`);
    assert(r.errors[0]!.includes("global.announce.protocol | protocol"), r.errors[0]);
    assert(r.errors[0]!.includes("(the kernel's list)"), r.errors[0]);
  }
  const host = {
    reservedProtocols: { numbers: new Map([[248, "mydaemon"]]), source: "/etc/iproute2/rt_protos" },
  };
  const r = announceIssues("  announce: { protocol: 248 }", host);
  assertEquals(r.errors, [
    "2:25 global.announce.protocol | protocol 248 is reserved for mydaemon " +
    "(/etc/iproute2/rt_protos) (expected a number no routing daemon uses, like 248)",
  ]);
  assertEquals(
    announceIssues("  announce: { protocol: 186 }", host).errors,
    [],
    "not in that file",
  );
  assertEquals(announceIssues("  announce: { protocol: 249 }").errors, []);
});

Deno.test("announce: a global.announce that nothing uses is a warning at its line", () => {
  const text = "global:\n  announce: { table: 200 }\nvrrp_instances:\n  VI_1:\n" +
    "    interface: eth0\n    vrid: 51\n    virtual_ipaddresses: [192.0.2.10]\n";
  const r = loadConfigText(text, "a.yaml");
  assert(r.ok);
  const w = r.warnings.find((i) => i.path === "global.announce");
  assertEquals([w?.line, w?.col], [2, 13]);
  assert(w!.message.includes("nothing is announced"), w!.message);
  assertEquals(announceIssues("  announce: { table: 200 }").warnings, [], "used: no warning");
});

Deno.test("announce: a group service needs an address or range to announce", () => {
  const text = "virtual_server_groups:\n  marks: [{ fwmark: 7 }]\n  web: [10.0.0.50:80]\n" +
    "virtual_servers:\n  - group: marks\n    announce: true\n" +
    "  - group: web\n    announce: true\n";
  const r = loadConfigText(text, "a.yaml");
  assert(!r.ok);
  assertEquals(r.errors.map((e) => `${e.line}:${e.col} ${e.path} | ${e.message}`), [
    "6:15 virtual_servers[0].announce | group marks has no address or range to announce",
  ]);
});

Deno.test("announce: a service on an instance's VIP is a warning (the backups would announce it)", () => {
  const text = "vrrp_instances:\n  VI_1:\n    interface: eth0\n    vrid: 51\n" +
    "    virtual_ipaddresses: [192.0.2.10/24]\n" +
    "virtual_servers:\n  - address: 192.0.2.10:80\n    announce: true\n";
  const r = loadConfigText(text, "a.yaml");
  assert(r.ok);
  const w = r.warnings.find((i) => i.path === "virtual_servers[0].announce");
  assertEquals([w?.line, w?.col], [8, 15]);
  assert(w!.message.includes("is a virtual address of VI_1"), w!.message);
});
