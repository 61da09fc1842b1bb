/**
 * The importer is as tolerant as keepalived 2.2.7 (issue 10 section 2): where keepalived logs a
 * bad value and goes on, the import writes what keepalived runs, warns at the line and has no
 * error; the YAML passes `check`. Each case names the keepalived source that decides it.
 */
import { formatKaIssue, importKeepalivedText, type ReadFs } from "../import_keepalived.ts";
import { loadConfigText } from "../load.ts";
import { formatIssue } from "../errors.ts";
import { assert, assertEquals, assertMatch } from "../../../tests/helpers/assert.ts";

const noFs: ReadFs = { readText: () => null, glob: () => [] };

/** Imports, asserts no error and a YAML that loads, returns the YAML and the warnings. */
function tolerated(text: string): { yaml: string; warnings: string[] } {
  const r = importKeepalivedText(text, "/k.conf", noFs);
  assertEquals(r.errors.map(formatKaIssue), [], "no errors");
  const loaded = loadConfigText(r.yaml, "k.yaml");
  assert(
    loaded.ok,
    `check refuses the YAML:\n${
      loaded.ok ? "" : loaded.errors.map(formatIssue).join("\n")
    }\n${r.yaml}`,
  );
  return { yaml: r.yaml, warnings: r.warnings.map(formatKaIssue) };
}

const instance = (body: string) =>
  `vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  10.0.0.1/24\n }\n}\n`;

const service = (head: string, body: string, rs: string) =>
  `virtual_server ${head} {\n protocol TCP\n${body}\n real_server ${rs} {\n  TCP_CHECK {\n   connect_port 80\n  }\n }\n}\n`;

Deno.test("tolerance: state SLAVE is BACKUP (vrrp_state_handler)", () => {
  const r = tolerated(instance(" state SLAVE"));
  assertMatch(r.yaml, /state: BACKUP/);
  assertEquals(r.warnings, [
    '/k.conf:4:2: warning: state: "SLAVE" is not MASTER or BACKUP; keepalived uses BACKUP, written as BACKUP',
  ]);
});

Deno.test("tolerance: state MASTER with nopreempt clears nopreempt (vrrp_complete_instance)", () => {
  const r = tolerated(instance(" state MASTER\n priority 150\n nopreempt\n preempt_delay 10"));
  assertMatch(r.yaml, /state: MASTER/);
  assert(!/preempt/.test(r.yaml), r.yaml);
  assertEquals(r.warnings, [
    "/k.conf:6:2: warning: nopreempt: does not work with state MASTER; keepalived clears it, and so does the import",
    "/k.conf:7:2: warning: preempt_delay: does not work with state MASTER; keepalived clears it, and so does the import",
  ]);
});

Deno.test("tolerance: priority out of range is 100 (vrrp_prio_handler)", () => {
  const r = tolerated(instance(" priority 0"));
  assertMatch(r.yaml, /priority: 100/);
  assertEquals(r.warnings.length, 1);
});

Deno.test("tolerance: advert_int outside 0.01-255 s keeps 1 s (vrrp_adv_handler)", () => {
  for (const v of ["0", "300"]) {
    const r = tolerated(instance(` advert_int ${v}`));
    assertMatch(r.yaml, /advert_interval: 1s\n/);
    assertEquals(r.warnings, [
      `/k.conf:4:2: warning: advert_int: "${v}" is not 0.01-255 seconds; keepalived logs this and ignores the line, and so does the import`,
    ]);
  }
});

Deno.test("tolerance: vrrp_garp_interval 0 is ignored (vrrp_garp_interval_handler)", () => {
  const r = tolerated(
    `global_defs {\n vrrp_garp_interval 0\n vrrp_gna_interval 2.5\n}\n${instance("")}`,
  );
  assert(!/garp_interval/.test(r.yaml), r.yaml);
  assertMatch(r.yaml, /gna_interval: 2.5s/);
  assertEquals(r.warnings, [
    '/k.conf:2:2: warning: vrrp_garp_interval: "0" is not 0.000001-4294.967295 seconds; keepalived logs this and ignores the line, and so does the import',
  ]);
});

Deno.test("tolerance: track_interface without braces takes the lines up to the next }", () => {
  // The last keyword of the instance: keepalived takes the instance's "}" as the end of the
  // track_interface block, tracks nothing, and reads on to the end of the file.
  const r = tolerated(
    "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.1/24\n }\n track_interface eth1\n}\n",
  );
  assert(!/eth1/.test(r.yaml), r.yaml);
  assertMatch(r.warnings[0]!, /^\/k.conf:1:1: warning: "vrrp_instance" block is not closed/);
  assertMatch(r.warnings[1]!, /^\/k.conf:7:2: warning: track_interface "eth1" without "\{"/);
});

Deno.test("tolerance: lb_algo loadbalance keeps the default scheduler (lbalgo_handler)", () => {
  const r = tolerated(service("10.0.0.10 80", " lb_algo loadbalance\n lb_kind DR", "10.0.0.11 80"));
  assertMatch(r.yaml, /scheduler: wlc/);
  assertMatch(r.warnings[0]!, /lb_algo: "loadbalance" is not an IPVS scheduler/);
});

Deno.test("tolerance: persistence_timeout 0 is no persistence (pto_handler)", () => {
  const r = tolerated(service("10.0.0.10 80", " persistence_timeout 0", "10.0.0.11 80"));
  assert(!/persistence_timeout/.test(r.yaml), r.yaml);
  assertMatch(r.warnings[0]!, /persistence_timeout: "0" is not 1-2678400 seconds/);
});

Deno.test("tolerance: a service by address with port 0 becomes persistent (check_data.c)", () => {
  const r = tolerated(service("10.0.0.10 0", " lb_kind DR", "10.0.0.11 0"));
  assertMatch(r.yaml, /address: 10\.0\.0\.10\n/);
  assertMatch(r.yaml, /persistence_timeout: 360s/);
});

Deno.test("tolerance: fwmark services with real servers on port 0", () => {
  const r = tolerated(
    "virtual_server fwmark 7 {\n lb_algo rr\n lb_kind DR\n real_server 10.0.0.11 0 {\n  weight 2\n  TCP_CHECK {\n   connect_port 443\n  }\n }\n}\n",
  );
  assertMatch(r.yaml, /fwmark: 7/);
  assertMatch(r.yaml, /- address: 10\.0\.0\.11\n/);
  assertEquals(r.warnings, []);
});

Deno.test("tolerance: virtual_routes default / any / all via X is a default route", () => {
  const r = tolerated(instance(
    " virtual_routes {\n  default via 10.0.0.254\n  any via 10.0.0.253 table 100\n" +
      "  all via 10.0.0.252 table 101\n  default via 2001:db8::1 table 102\n }",
  ));
  assertMatch(r.yaml, /to: 0\.0\.0\.0\/0, via: 10\.0\.0\.254/);
  assertMatch(r.yaml, /to: 0\.0\.0\.0\/0, via: 10\.0\.0\.253/);
  assertMatch(r.yaml, /to: 0\.0\.0\.0\/0, via: 10\.0\.0\.252/);
  assertMatch(r.yaml, /to: ::\/0, via: 2001:db8::1, table: 102/);
});

Deno.test("tolerance: checker_priority is the checkers' nice value (checker_prio_handler)", () => {
  const r = tolerated(`global_defs {\n checker_priority -5\n}\n${instance("")}`);
  assertMatch(r.yaml, /checker_nice: -5/);
});

Deno.test("tolerance: per-instance lvs_sync_daemon_interface is the global sync daemon", () => {
  const r = tolerated(
    instance(" lvs_sync_daemon_interface eth1") +
      service("10.0.0.10 80", "", "10.0.0.11 80"),
  );
  assertMatch(r.yaml, /lvs_sync_daemon: \{interface: eth1, instance: VI_1\}/);
  assertMatch(r.warnings[0]!, /deprecated form of global lvs_sync_daemon eth1 VI_1/);
});

Deno.test("tolerance: @ID lines follow the config-id", () => {
  const text = `global_defs {\n @lb1 router_id one\n @^lb1 router_id other\n}\n${instance("")}`;
  const one = importKeepalivedText(text, "/k.conf", noFs, { configId: "lb1" });
  assertMatch(one.yaml, /router_id: one/);
  const two = importKeepalivedText(text, "/k.conf", noFs, { configId: "lb2" });
  assertMatch(two.yaml, /router_id: other/);
});

Deno.test("AH authentication is refused with its line (keepalived 2.2.7 runs IPsec AH)", () => {
  const r = importKeepalivedText(
    instance(" authentication {\n  auth_type AH\n  auth_pass secret\n }"),
    "/k.conf",
    noFs,
  );
  assertEquals(r.errors.map(formatKaIssue), [
    "/k.conf:5:3: auth_type AH: keepalived authenticates this instance's adverts with IPsec AH, " +
    "which haagent does not implement; use auth_type PASS (or no authentication) on every " +
    "router of this VRID",
  ]);
  assert(!/authentication/.test(r.yaml), "no authentication written");
});

Deno.test("AH in VRRPv3 is ignored as keepalived ignores v3 authentication", () => {
  const r = tolerated(
    `global_defs {\n vrrp_version 3\n}\n` +
      instance(" authentication {\n  auth_type AH\n  auth_pass secret\n }"),
  );
  assertMatch(r.warnings[0]!, /authentication: dropped \(VRRP version 3 has no authentication\)/);
});

Deno.test("one-line blocks: the words after the first value are dropped, as keepalived does", () => {
  // lib/parser.c read_line splits the line at "{" and "}": keepalived then reads the line
  // "connect_timeout 1 retry 2 delay_before_retry 1" as connect_timeout with value 1.
  const r = tolerated(
    "virtual_server 10.0.0.10 80 {\n protocol TCP\n real_server 10.0.0.11 80 {\n" +
      "  TCP_CHECK { connect_timeout 1 retry 2 delay_before_retry 1 }\n }\n}\n",
  );
  assertMatch(r.yaml, /\{type: TCP_CHECK, connect_timeout: 1s\}/);
  assertEquals(r.warnings, [
    '/k.conf:4:15: warning: connect_timeout: "retry 2 delay_before_retry 1" after its value was ' +
    "ignored, as keepalived ignores it (keepalived reads one keyword per line: retry, " +
    "delay_before_retry were not set; put each on a line of its own)",
  ]);
});

Deno.test("one-line blocks: a value block on one line keeps every line of it", () => {
  const r = tolerated(
    "vrrp_instance VI_1 { interface eth0\n virtual_router_id 51\n" +
      " virtual_ipaddress { 10.0.0.1/24 }\n track_interface { eth1 weight -20 }\n}\n",
  );
  assertMatch(r.yaml, /virtual_ipaddresses: \[10\.0\.0\.1\/24\]/);
  assertMatch(r.yaml, /track_interfaces:\n {6}- \{name: eth1, weight: -20\}/);
  assertEquals(r.warnings, []);
});

Deno.test("scripts: keepalived runs the first word; after it: ignored (script) or the user (notify)", () => {
  const r = tolerated(
    "vrrp_script chk {\n script /bin/check -x 1\n}\n" +
      instance(
        ' track_script {\n  chk\n }\n notify_master /bin/up.sh master\n notify "/bin/any.sh a b"',
      ),
  );
  assertMatch(r.yaml, /\{command: \/bin\/check\}/);
  assertMatch(r.yaml, /notify_master: \/bin\/up\.sh\n/);
  assertMatch(r.yaml, /notify: \/bin\/any\.sh a b\n/);
  assertMatch(
    r.warnings[0]!,
    /script: keepalived 2.2.7 runs "\/bin\/check" without the words after it \("-x 1"\)/,
  );
  assertMatch(r.warnings[1]!, /notify_master: runs as "master" in keepalived/);
});
