/**
 * Writes a dump file (the state dump, the statistics) safely in a directory others may write
 * to, such as /tmp: the text goes to a new file created exclusively (O_CREAT|O_EXCL, mode 0600,
 * so a planted symlink is never followed), which is then renamed over the final name (rename
 * replaces a symlink rather than writing through it). Readers never see a half-written file.
 *
 * @module
 */

/** Writes `text` to `dir/name`; throws an Error naming the path when it cannot. */
export async function writeDumpFile(dir: string, name: string, text: string): Promise<string> {
  const path = `${dir.replace(/\/+$/, "") || "/"}/${name}`.replace(/^\/\//, "/");
  const tmp = `${path}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text, { createNew: true, mode: 0o600 });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`Cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
  return path;
}
