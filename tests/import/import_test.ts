/**
 * Golden tests of `haagent import-keepalived`: each fixture `NAME.conf` (read as
 * `/etc/keepalived/NAME.conf`) must convert to `NAME.golden.txt` (not .yaml: `deno fmt` would reformat it) with the issues in `NAME.issues`,
 * and the YAML must pass the configuration loader. `UPDATE_GOLDEN=1` rewrites the goldens.
 *
 * @module
 */
import {
  formatKaIssue,
  importKeepalived,
  type ReadFs,
  realFs,
} from "../../lib/config/import_keepalived.ts";
import { loadConfigText } from "../../lib/config/load.ts";
import { formatIssue } from "../../lib/config/errors.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const HERE = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
const VIRTUAL = "/etc/keepalived";

/** The real file system seen through /etc/keepalived -> this folder, so outputs are stable. */
const fixtureFs: ReadFs = {
  readText: (p) =>
    p.startsWith(VIRTUAL + "/") ? realFs.readText(HERE + p.slice(VIRTUAL.length)) : null,
  glob: (pattern, relativeTo) => {
    const rel = relativeTo.startsWith(VIRTUAL)
      ? HERE + relativeTo.slice(VIRTUAL.length)
      : relativeTo;
    return realFs.glob(pattern, rel).map((p) =>
      p.startsWith(HERE) ? VIRTUAL + p.slice(HERE.length) : p
    );
  },
};

const FIXTURES = [
  "vrrp_pair",
  "v3_ipv6",
  "unicast",
  "lvs",
  "include/keepalived",
  "unsupported",
  "invalid",
];

for (const name of FIXTURES) {
  Deno.test(`import-keepalived golden: ${name}.conf`, () => {
    const r = importKeepalived(`${VIRTUAL}/${name}.conf`, fixtureFs, { configId: "test" });
    const issues = [...r.warnings, ...r.errors].map(formatKaIssue).join("\n") + "\n";
    const base = `${HERE}/${name}`;
    if (Deno.env.get("UPDATE_GOLDEN") === "1") {
      Deno.writeTextFileSync(`${base}.golden.txt`, r.yaml);
      Deno.writeTextFileSync(`${base}.issues`, issues);
    }
    assertEquals(r.yaml, Deno.readTextFileSync(`${base}.golden.txt`));
    assertEquals(issues, Deno.readTextFileSync(`${base}.issues`));
    const loaded = loadConfigText(r.yaml, `${name}.yaml`);
    assert(
      loaded.ok,
      `loader errors:\n${loaded.ok ? "" : loaded.errors.map(formatIssue).join("\n")}`,
    );
  });
}

Deno.test("import-keepalived: only invalid.conf and the include loop have errors", () => {
  for (const name of FIXTURES) {
    const r = importKeepalived(`${VIRTUAL}/${name}.conf`, fixtureFs, { configId: "test" });
    const expectErrors = name === "invalid" || name === "include/keepalived";
    assertEquals(r.errors.length > 0, expectErrors, name);
  }
});

Deno.test("import-keepalived: an unreadable file is one error at 1:1", () => {
  const r = importKeepalived(`${VIRTUAL}/no-such.conf`, fixtureFs);
  assertEquals(r.errors.map(formatKaIssue), [`${VIRTUAL}/no-such.conf:1:1: cannot read file`]);
  assertEquals(r.yaml, "");
});
