import { CHECK_TYPES } from "./checks.ts";
import { importKeepalivedText, type ReadFs } from "../import_keepalived.ts";
import { checkFields, keyOrder, keywordsOf, keywordTable, SECTIONS } from "./mapping.ts";
import { assert, assertEquals } from "../../../tests/helpers/assert.ts";

Deno.test("keywordsOf: keywords, aliases and notes of a keepalived annotation", () => {
  assertEquals(keywordsOf("lb_algo / lvs_sched"), ["lb_algo", "lvs_sched"]);
  assertEquals(keywordsOf("nopreempt (false) / preempt (flag)"), ["nopreempt", "preempt"]);
  assertEquals(keywordsOf("virtual_server IP PORT"), []);
  assertEquals(keywordsOf("TCP_CHECK, HTTP_GET, ... blocks"), []);
  assertEquals(keywordsOf("-p"), []);
  assertEquals(keywordsOf("sh-port"), ["sh-port"]);
  assertEquals(keywordsOf(undefined), []);
});

Deno.test("keywordTable: what a keyword becomes, from the schema", () => {
  const t = keywordTable(SECTIONS.instance);
  assertEquals(t.get("virtual_router_id")?.key, "vrid");
  assertEquals(t.get("mcast_src_ip")?.key, "unicast_src_ip");
  assertEquals(t.get("nopreempt")?.flag, false);
  assertEquals(keywordTable(SECTIONS.global).get("checker_priority")?.key, "checker_nice");
  assertEquals(
    keywordTable(checkFields("UDP_CHECK")).get("min_reply_length")?.key,
    "min_reply_length",
  );
  assertEquals(keyOrder(SECTIONS.syncGroup)[0], "members");
});

const noFs: ReadFs = { readText: () => null, glob: () => [] };

/** A file where `line` stands in the block of `section` (what each section needs around it). */
const CONTEXT: Record<string, (line: string) => string> = {
  global: (l) => `global_defs {\n${l}\n}\n`,
  script: (l) => `vrrp_script s {\nscript /bin/true\n${l}\n}\n`,
  process: (l) => `vrrp_track_process p {\nprocess x\n${l}\n}\n`,
  instance: (l) => `vrrp_instance I {\ninterface e0\nvirtual_router_id 1\n${l}\n}\n`,
  authentication: (l) =>
    `vrrp_instance I {\ninterface e0\nvirtual_router_id 1\nauthentication {\n${l}\n}\n}\n`,
  syncGroup: (l) =>
    `vrrp_instance I {\ninterface e0\nvirtual_router_id 1\n}\nvrrp_sync_group G {\ngroup {\nI\n}\n${l}\n}\n`,
  virtualServer: (l) => `virtual_server 10.0.0.1 80 {\n${l}\n}\n`,
  realServer: (l) => `virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\n${l}\n}\n}\n`,
  url: (l) =>
    `virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\nHTTP_GET {\nurl {\n${l}\n}\n}\n}\n}\n`,
};

Deno.test("every keyword the schema maps is converted (none falls through to 'unsupported')", () => {
  const cases: [string, (l: string) => string, string][] = [];
  for (const [section, wrap] of Object.entries(CONTEXT)) {
    const fields = SECTIONS[section as keyof typeof SECTIONS];
    for (const kw of keywordTable(fields).keys()) cases.push([section, wrap, kw]);
  }
  for (const type of CHECK_TYPES) {
    const wrap = (l: string) =>
      `virtual_server 10.0.0.1 80 {\nreal_server 10.0.0.2 80 {\n${type} {\n${l}\n}\n}\n}\n`;
    for (const kw of keywordTable(checkFields(type)).keys()) cases.push([type, wrap, kw]);
  }
  assert(cases.length > 150, `only ${cases.length} keywords`);
  const dropped: string[] = [];
  for (const [section, wrap, kw] of cases) {
    const r = importKeepalivedText(wrap(`${kw} 1`), "/k.conf", noFs);
    for (const i of [...r.warnings, ...r.errors]) {
      if (i.message.startsWith(`keyword "${kw}" is not supported`)) {
        dropped.push(`${section}: ${i.message}`);
      }
    }
  }
  assertEquals(dropped, []);
});
