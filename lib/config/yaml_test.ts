import * as Cjs from "yaml";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { loadYaml } from "./yaml.ts";

/** Everything a document says: its value, errors and warnings with their places. */
function describe(y: typeof Cjs, text: string): unknown {
  const lc = new y.LineCounter();
  const doc = y.parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const problems = (list: readonly Cjs.YAMLError[]) =>
    list.map((e) => [e.code, e.message, e.pos, lc.linePos(e.pos[0])]);
  let value: unknown;
  try {
    value = JSON.stringify(doc.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    value = `throws ${(e as Error).message}`;
  }
  return { value, errors: problems(doc.errors), warnings: problems(doc.warnings) };
}

Deno.test("yaml: the ES module build is loaded, and reads every test configuration as the package's entry does", async () => {
  const esm = await loadYaml();
  assert(esm.parseDocument !== Cjs.parseDocument, "the package's own entry was loaded");
  const dir = new URL("../../tests/config/", import.meta.url);
  let files = 0;
  for (const sub of ["good", "bad"]) {
    for (const e of Deno.readDirSync(new URL(`${sub}/`, dir))) {
      if (!e.name.endsWith(".yaml")) continue;
      const text = Deno.readTextFileSync(new URL(`${sub}/${e.name}`, dir));
      assertEquals(describe(esm, text), describe(Cjs, text), e.name);
      files++;
    }
  }
  assert(files > 50, `${files} files`);
  // Nodes of one build are recognised by the other's type guards (Symbol.for identities).
  const doc = esm.parseDocument("a: [1]");
  assert(Cjs.isMap(doc.contents) && esm.isMap(Cjs.parseDocument("b: 2").contents));
});
