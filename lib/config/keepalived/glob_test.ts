import { assert, assertEquals } from "../../../tests/helpers/assert.ts";
import { realFs } from "./glob.ts";

Deno.test("realFs.readText: regular files only, as keepalived; a FIFO never blocks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/k.conf`, "global_defs {\n}\n");
    assertEquals(realFs.readText(`${dir}/k.conf`), "global_defs {\n}\n");
    assertEquals(realFs.readText("/dev/zero"), null);
    assertEquals(realFs.readText(dir), null);
    assert((await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output()).success);
    const t0 = performance.now();
    assertEquals(realFs.readText(`${dir}/fifo`), null);
    assert(performance.now() - t0 < 5000);
    await Deno.truncate(`${dir}/k.conf`, 17 * 1024 * 1024);
    assertEquals(realFs.readText(`${dir}/k.conf`), null, "over MAX_FILE_BYTES");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
