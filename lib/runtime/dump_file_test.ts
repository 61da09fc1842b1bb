import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { writeDumpFile } from "./dump_file.ts";

Deno.test("dump_file: written whole, mode 0600, replacing the previous dump", async () => {
  const dir = await Deno.makeTempDir({ prefix: "haagent-dump-" });
  try {
    assertEquals(await writeDumpFile(dir, "haagent.data", "one\n"), `${dir}/haagent.data`);
    assertEquals(await writeDumpFile(`${dir}/`, "haagent.data", "two\n"), `${dir}/haagent.data`);
    assertEquals(await Deno.readTextFile(`${dir}/haagent.data`), "two\n");
    assertEquals((await Deno.stat(`${dir}/haagent.data`)).mode! & 0o777, 0o600);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["haagent.data"], "no temp left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dump_file: a symlink planted at the name is replaced, never written through", async () => {
  const dir = await Deno.makeTempDir({ prefix: "haagent-dump-" });
  try {
    await Deno.writeTextFile(`${dir}/victim`, "precious\n");
    await Deno.symlink(`${dir}/victim`, `${dir}/haagent.stats`);
    await writeDumpFile(dir, "haagent.stats", "stats\n");
    assertEquals(await Deno.readTextFile(`${dir}/victim`), "precious\n");
    assert((await Deno.lstat(`${dir}/haagent.stats`)).isFile);
    assertEquals(await Deno.readTextFile(`${dir}/haagent.stats`), "stats\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dump_file: a missing directory is an error naming the path", async () => {
  const e = await assertRejects(() => writeDumpFile("/nonexistent-haagent", "haagent.data", "x"));
  assert((e as Error).message.startsWith("Cannot write /nonexistent-haagent/haagent.data:"));
});
