/**
 * No key without an effect (issue 10, section 1): every key of the schema is read by runtime
 * code (lib/, ffi/, main.ts outside lib/config; see tests/helpers/key_reads.ts for how the
 * compiler decides), or is marked `ignored` in the schema because keepalived ignores it too,
 * which makes `haagent check` warn at its line.
 *
 * @module
 */
import { keyReads, type SchemaKey } from "../helpers/key_reads.ts";
import { loadConfigText } from "../../lib/config/load.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

/**
 * Keys being implemented at the time of writing, with who implements them. Temporary: the
 * test fails as soon as one of them is read (remove it here then), and the list must be empty
 * when issue 10 closes. Paths name every check type with `*`.
 */
const PENDING: Record<string, string> = {};

/** A key's path with the check type replaced by `*`. */
function general(path: string): string {
  return path.replace(/\]\[[A-Z_]+\]/, "][*]");
}

const analysis = { value: null as ReturnType<typeof keyReads> | null };
function reads() {
  analysis.value ??= keyReads();
  return analysis.value;
}

function unread(): SchemaKey[] {
  const r = reads();
  return r.keys.filter((k) => !r.readers.has(k.decl));
}

Deno.test("schema walk: every key is read by runtime code or marked ignored", () => {
  const missing = unread().filter((k) =>
    k.spec.ignored === undefined && PENDING[general(k.path)] === undefined
  );
  assertEquals(
    missing.map((k) => `${k.path} (${k.decl})`),
    [],
    "keys that validate and are never read outside lib/config: implement them, or mark them " +
      '`ignored: "why"` where keepalived ignores them too',
  );
});

Deno.test("schema walk: every pending key is still unread (remove implemented ones)", () => {
  const still = new Set(unread().map((k) => general(k.path)));
  const done = Object.keys(PENDING).filter((p) => !still.has(p));
  assertEquals(done, [], "these keys are read now: remove them from PENDING");
});

Deno.test("schema walk: a key marked ignored is not read", () => {
  const r = reads();
  const read = r.keys.filter((k) => k.spec.ignored !== undefined && r.readers.has(k.decl));
  assertEquals(read.map((k) => `${k.path} read at ${r.readers.get(k.decl)}`), []);
});

Deno.test("schema walk: the analysis sees reads through plans and flattened addresses", () => {
  const r = reads();
  const readBy = (path: string) => {
    const k = r.keys.find((x) => x.path === path);
    assert(k !== undefined, path);
    return r.readers.get(k.decl);
  };
  // Read through from_config.ts's own parameter type, through `{ ...t }` into the plan, and as
  // a flattened part (VIP address).
  assert(readBy("vrrp_instances.*.notify_master") !== undefined, "notify_master");
  assert(readBy("vrrp_instances.*.track_interfaces[].reverse") !== undefined, "reverse");
  assert(readBy("vrrp_instances.*.virtual_ipaddresses[].address") !== undefined, "address");
  // Reads are counted where they are: from_config.ts alone reads the instance's GARP delay, not
  // the global one (defaults.ts, which turns one into the other, is not in this run).
  const small = keyReads([new URL("../../lib/agent/from_config.ts", import.meta.url).pathname]);
  const smallRead = (path: string) => {
    const k = small.keys.find((x) => x.path === path)!;
    return small.readers.has(k.decl);
  };
  assert(smallRead("vrrp_instances.*.garp_master_delay"));
  assert(!smallRead("global.garp_master_delay"));
});

Deno.test("check warns at the line of a key marked ignored", async () => {
  const { CONFIG } = await import("../../lib/config/schema.ts");
  const fields = CONFIG.fields.global.fields as Record<string, { ignored?: string }>;
  const saved = fields.log_format!.ignored;
  fields.log_format!.ignored = "keepalived has no such setting (test)";
  try {
    const r = loadConfigText(
      "global:\n  log_format: json\nvrrp_instances: {VI: {interface: eth0, vrid: 1}}\n",
      "t.yaml",
    );
    assert(r.ok);
    const w = r.warnings.find((x) => x.path === "global.log_format");
    assert(w !== undefined, JSON.stringify(r.warnings));
    assertEquals([w.line, w.col], [2, 3]);
    assertEquals(
      w.message,
      "accepted for compatibility and ignored: keepalived has no such setting (test)",
    );
  } finally {
    if (saved === undefined) delete fields.log_format!.ignored;
    else fields.log_format!.ignored = saved;
  }
});
