import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { SyscallError } from "./errno.ts";
import { NonBlockingFile } from "./file.ts";

Deno.test("NonBlockingFile: reads a file, a FIFO with nothing written reads null, errors name the path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = `${dir}/a`;
    await Deno.writeTextFile(f, "hello");
    {
      using fh = NonBlockingFile.open(f);
      // What was opened, also once the path names something else.
      await Deno.rename(f, `${dir}/b`);
      await Deno.mkdir(f);
      assert(fh.stat().isFile);
      assertEquals(fh.stat().size, 5);
      const buf = new Uint8Array(16);
      assertEquals(fh.read(buf.subarray(2, 5)), 3);
      assertEquals(new TextDecoder().decode(buf.subarray(2, 5)), "hel");
      assertEquals(fh.read(buf), 2);
      assertEquals(fh.read(buf), 0);
    }
    const fifo = `${dir}/fifo`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    {
      using fh = NonBlockingFile.open(fifo);
      assert(fh.stat().isFifo);
      // No writer has ever opened it: end of file at once; with a writer, nothing yet to read.
      const w = await Deno.open(fifo, { write: true });
      try {
        assertEquals(fh.read(new Uint8Array(8)), null);
      } finally {
        w.close();
      }
    }
    try {
      NonBlockingFile.open(`${dir}/missing`);
      assert(false, "opened a missing file");
    } catch (e) {
      assert(e instanceof SyscallError);
      assertEquals(e.code, "ENOENT");
      assertEquals(e.message, `Cannot open ${dir}/missing: ENOENT (No such file or directory)`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
