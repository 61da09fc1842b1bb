import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { PidFileInUse, removePidFile, writePidFile } from "./pid_file.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pid file: written whole, nothing else left in the directory", () =>
  withDir(async (dir) => {
    await writePidFile(`${dir}/a.pid`, 4242, () => false);
    assertEquals(await Deno.readTextFile(`${dir}/a.pid`), "4242\n");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["a.pid"]);
    // A stale one is replaced; one naming a live process is not.
    await writePidFile(`${dir}/a.pid`, 4343, () => false);
    assertEquals(await Deno.readTextFile(`${dir}/a.pid`), "4343\n");
    let refused: unknown = null;
    await writePidFile(`${dir}/a.pid`, 4444, (p) => p === 4343).catch((e) => (refused = e));
    assert(refused instanceof PidFileInUse, String(refused));
    assertEquals(await Deno.readTextFile(`${dir}/a.pid`), "4343\n");
  }));

Deno.test("pid file: a symbolic link is refused, its target untouched", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/target`, "precious\n");
    await Deno.symlink(`${dir}/target`, `${dir}/a.pid`);
    let message = "";
    await writePidFile(`${dir}/a.pid`, 4242, () => false).catch((e) => (message = e.message));
    assert(message.startsWith(`pid file ${dir}/a.pid is a symbolic link`), message);
    assertEquals(await Deno.readTextFile(`${dir}/target`), "precious\n");
    // Removal does not follow it either.
    await removePidFile(`${dir}/a.pid`, 4242);
    assert((await Deno.lstat(`${dir}/a.pid`)).isSymlink);
  }));

Deno.test("pid file: a failed write leaves the old file and no temporary", () =>
  withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/notadir`, "");
    let message = "";
    await writePidFile(`${dir}/notadir/a.pid`, 4242, () => false).catch((
      e,
    ) => (message = e.message));
    assert(message.startsWith(`Cannot write pid file ${dir}/notadir/a.pid: `), message);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["notadir"]);
  }));

Deno.test("pid file: removed only when it names us", () =>
  withDir(async (dir) => {
    await writePidFile(`${dir}/a.pid`, 4242, () => false);
    await removePidFile(`${dir}/a.pid`, 1);
    assertEquals(await Deno.readTextFile(`${dir}/a.pid`), "4242\n");
    await removePidFile(`${dir}/a.pid`, 4242);
    assertEquals([...Deno.readDirSync(dir)], []);
  }));
