/**
 * The bad-config suite: every file under bad/ must fail to load with exactly the errors its
 * `# expect: LINE:COL PATH | MESSAGE-PART` comments list (PATH `-` means the whole file).
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { loadConfigFile } from "../../lib/config/load.ts";
import { formatIssue } from "../../lib/config/errors.ts";
import { expectFor } from "./expectations.ts";

const dir = fileURLToPath(new URL("./bad/", import.meta.url));

const files = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".yaml")).map((e) => e.name)
  .sort();

Deno.test("bad-config suite has at least 45 cases, each with an expectation", () => {
  assert(files.length >= 45, `only ${files.length} fixtures`);
  for (const f of files) {
    const exp = expectFor(f, Deno.readTextFileSync(dir + f));
    assert(exp.length > 0, `${f} has no # expect: line`);
  }
});

for (const f of files) {
  Deno.test(`bad config: ${f}`, async () => {
    const path = dir + f;
    const exp = expectFor(f, await Deno.readTextFile(path));
    const r = await loadConfigFile(path);
    assert(!r.ok, `${f} loaded without errors`);
    const got = r.errors.map((e) => `${e.line}:${e.col} ${e.path} | ${e.message}`);
    assertEquals(r.errors.length, exp.length, `errors of ${f}:\n${got.join("\n")}`);
    exp.forEach((x, i) => {
      const e = r.errors[i]!;
      assertEquals(
        { file: e.file, line: e.line, col: e.col, path: e.path, severity: e.severity },
        { file: path, line: x.line, col: x.col, path: x.path, severity: "error" },
        `${f}: ${formatIssue(e)}`,
      );
      assert(e.message.includes(x.part), `${f}: "${e.message}" lacks "${x.part}"`);
    });
  });
}

Deno.test("bad config: a missing file is an error at 1:1 naming the OS error", async () => {
  const path = dir + "does-not-exist.yaml";
  const r = await loadConfigFile(path);
  assert(!r.ok);
  assertEquals(r.errors.length, 1);
  const e = r.errors[0]!;
  assertEquals([e.file, e.line, e.col, e.path], [path, 1, 1, ""]);
  assert(/cannot read the file: .*No such file or directory/.test(e.message), e.message);
});

Deno.test("bad config: a directory is an error at 1:1", async () => {
  const r = await loadConfigFile(dir);
  assert(!r.ok);
  assertEquals([r.errors[0]!.line, r.errors[0]!.col], [1, 1]);
  assert(r.errors[0]!.message.startsWith("cannot read the file: "), r.errors[0]!.message);
});
