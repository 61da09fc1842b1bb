import { assertEquals } from "../../tests/helpers/assert.ts";
import { readHead } from "./read_head.ts";

Deno.test("readHead: 127 bytes of any file, without blocking on a FIFO", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = `${dir}/big`;
    await Deno.writeTextFile(big, "42\n");
    await Deno.truncate(big, 1 << 30); // 1 GiB, sparse
    assertEquals(new TextDecoder().decode((await readHead(big)).subarray(0, 3)), "42\n");
    assertEquals((await readHead(big)).length, 127);
    assertEquals(await readHead("/dev/zero", 8), new Uint8Array(8));
    const fifo = `${dir}/fifo`;
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    assertEquals((await readHead(fifo)).length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
