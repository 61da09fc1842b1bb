import {
  expandBraces,
  formatKaIssue,
  formatMs,
  importKeepalivedText,
  type ReadFs,
  segmentRegExp,
} from "./import_keepalived.ts";
import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";

const noFs: ReadFs = { readText: () => null, glob: () => [] };
const run = (text: string) => importKeepalivedText(text, "/k.conf", noFs);

Deno.test("formatKaIssue: warnings are labelled, errors are not", () => {
  const at = { file: "/k.conf", line: 3, col: 5 };
  assertEquals(
    formatKaIssue({ ...at, message: 'keyword "x" is not supported', severity: "warning" }),
    '/k.conf:3:5: warning: keyword "x" is not supported',
  );
  assertEquals(
    formatKaIssue({
      ...at,
      message: 'virtual_router_id: "300" is not in 1-255',
      severity: "error",
    }),
    '/k.conf:3:5: virtual_router_id: "300" is not in 1-255',
  );
});

Deno.test("formatMs: durations with units", () => {
  assertEquals([formatMs(1000), formatMs(100), formatMs(1500), formatMs(300000)], [
    "1s",
    "100ms",
    "1.5s",
    "300s",
  ]);
});

Deno.test("import: keepalived's derived defaults are written out", () => {
  const r = run(
    "vrrp_instance A {\n interface e0\n virtual_router_id 1\n state MASTER\n" +
      " advert_int 1.4\n nopreempt\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
  );
  assertMatch(r.yaml, /vrrp_version: 2\n/);
  assertMatch(r.yaml, /priority: 255\n/); // state MASTER without priority
  assertMatch(r.yaml, /advert_interval: 1s\n/); // v2 rounds to whole seconds
  assertMatch(r.yaml, /virtual_ipaddresses: \[10\.0\.0\.1\/32\]/);
  assert(!r.yaml.includes("preempt"), "nopreempt is ignored at priority 255");
  assertEquals(r.errors, []);
  assertEquals(r.warnings.map((w) => w.line), [1, 6]);
});

Deno.test("import: auth_pass is truncated to 8 characters with a warning", () => {
  const r = run(
    "vrrp_instance A {\n interface e0\n virtual_router_id 1\n authentication {\n" +
      "  auth_type PASS\n  auth_pass 123456789\n }\n virtual_ipaddress {\n 10.0.0.1/24\n }\n}\n",
  );
  assertMatch(r.yaml, /authentication: \{type: PASS, password: "12345678"\}/);
  assertEquals(r.warnings.map(formatKaIssue), [
    '/k.conf:6:3: warning: auth_pass: longer than 8 characters; truncated to "12345678" as keepalived does',
  ]);
});

Deno.test("import: every unknown keyword is a warning with its position", () => {
  const r = run("frobnicate 1\nglobal_defs {\n  nonsense\n}\n");
  assertEquals(r.warnings.map(formatKaIssue), [
    '/k.conf:1:1: warning: keyword "frobnicate" is not supported and was dropped',
    '/k.conf:3:3: warning: keyword "nonsense" is not supported and was dropped',
  ]);
});

Deno.test("glob helpers: braces and segments", () => {
  assertEquals(expandBraces("/a/{b,c{d,e}}/f"), ["/a/b/f", "/a/cd/f", "/a/ce/f"]);
  assert(segmentRegExp("*.conf").test("x.conf"));
  assert(!segmentRegExp("*.conf").test("x.confx"));
  assert(segmentRegExp("[0-9]?.c").test("1a.c"));
});

Deno.test("realFs glob over a temporary folder", async () => {
  const { realFs } = await import("./import_keepalived.ts");
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/d`);
    for (const f of ["d/b.conf", "d/a.conf", "d/c.txt"]) Deno.writeTextFileSync(`${dir}/${f}`, "");
    assertEquals(realFs.glob("d/*.conf", dir), [`${dir}/d/a.conf`, `${dir}/d/b.conf`]);
    assertEquals(realFs.glob("d/{c.txt,a.conf}", dir), [`${dir}/d/a.conf`, `${dir}/d/c.txt`]);
    assertEquals(realFs.glob("nope/*", dir), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("import: vrrp_rt_priority and checker_priority map to the scheduling keys", () => {
  const r = run(
    "global_defs {\n vrrp_rt_priority 50\n checker_priority 5\n}\n" +
      "vrrp_instance A {\n interface e0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
  );
  assertMatch(r.yaml, /realtime_priority: 50\n/);
  assertMatch(r.yaml, /checker_nice: 5\n/);
  assertEquals(r.errors, []);
  assertEquals(r.warnings, []);
  const bad = run("global_defs {\n checker_priority 25\n checker_process_priority 5\n}\n");
  assertEquals(bad.errors.map(formatKaIssue), [
    '/k.conf:2:2: checker_priority: "25" is not in -20..19',
  ]);
  // keepalived 2.2.7 has no checker_process_priority (global_parser.c: checker_priority).
  assertEquals(bad.warnings.map(formatKaIssue), [
    '/k.conf:3:2: warning: keyword "checker_process_priority" is not supported and was dropped',
  ]);
});

Deno.test("import: vrrp_track_process and track_process", () => {
  const r = run(
    "vrrp_track_process chk_haproxy {\n process haproxy -f /etc/haproxy.cfg\n param_match initial\n" +
      " quorum 2\n weight 10\n delay 2\n}\n" +
      "vrrp_instance A {\n interface e0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n" +
      " track_process {\n  chk_haproxy\n  chk_nginx\n }\n}\n",
  );
  assertMatch(
    r.yaml,
    /processes:\n {2}chk_haproxy:\n {4}process: haproxy\n {4}parameters: -f \/etc\/haproxy\.cfg\n {4}param_match: initial\n {4}quorum: 2\n {4}weight: 10\n {4}fork_delay: 2s\n {4}terminate_delay: 2s\n/,
  );
  assertMatch(r.yaml, /track_processes: \[chk_haproxy\]/);
  assertEquals(r.errors, []);
  assertEquals(r.warnings.map(formatKaIssue), [
    '/k.conf:16:3: warning: track_process: no vrrp_track_process named "chk_nginx"; keepalived ignores it',
  ]);
});

Deno.test("import: lvs_sync_daemon with its options", () => {
  const r = run(
    "global_defs {\n lvs_sync_daemon eth1 VI_1 id 5 maxlen 1400 port 8849 ttl 2 group 224.0.0.82\n}\n" +
      "vrrp_instance VI_1 {\n interface e0\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n",
  );
  assertMatch(
    r.yaml,
    /lvs_sync_daemon:\n {4}interface: eth1\n {4}instance: VI_1\n {4}sync_id: 5\n {4}max_len: 1400\n {4}port: 8849\n {4}ttl: 2\n {4}group: 224\.0\.0\.82\n/,
  );
  assertEquals(r.errors, []);
});
