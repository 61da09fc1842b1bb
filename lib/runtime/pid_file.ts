/**
 * The pid file, written as keepalived writes its own and safer: never through a symbolic link
 * (keepalived opens it O_NOFOLLOW and refuses to start otherwise), and atomically, to a new file
 * beside it that is renamed over it, so that a full disk or a crash leaves the old file or the
 * new one, never a 0-byte or half-written pid file. One naming another live process is left
 * alone and refuses the start.
 *
 * @module
 */

/** The pid file names a process that is running. */
export class PidFileInUse extends Error {
  /** The pid file. */
  readonly path: string;
  /** The pid it names. */
  readonly pid: number;
  constructor(path: string, pid: number) {
    super(`pid file ${path} names a running process (${pid}): is another agent running?`);
    this.name = "PidFileInUse";
    this.path = path;
    this.pid = pid;
  }
}

/** Whether `pid` is a running process (a zombie or kernel thread has an empty cmdline). */
export function isAlive(pid: number): boolean {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).length > 0;
  } catch {
    return false;
  }
}

/**
 * Writes `pid` (default: ours) to `path`. Throws PidFileInUse when the file names another live
 * process, and an Error naming the path when it is a symbolic link or cannot be written (the
 * old file, if any, is then untouched). Synchronous system calls (a few on /run, at start):
 * the asynchronous file API costs ~10 ms more before the first advert (thread-pool hops, and
 * its first write loads the runtime's streams module).
 */
export function writePidFile(
  path: string,
  pid: number = Deno.pid,
  alive: (pid: number) => boolean = isAlive,
): Promise<void> {
  try {
    writePidFileSync(path, pid, alive);
    return Promise.resolve();
  } catch (e) {
    return Promise.reject(e);
  }
}

function writePidFileSync(path: string, pid: number, alive: (pid: number) => boolean): void {
  let st: Deno.FileInfo | null = null;
  try {
    st = Deno.lstatSync(path);
  } catch { /* absent */ }
  if (st?.isSymlink) {
    throw new Error(
      `pid file ${path} is a symbolic link: refusing to write through it (keepalived opens its ` +
        `pid file O_NOFOLLOW); remove it`,
    );
  }
  if (st !== null) {
    try {
      const old = Number(Deno.readTextFileSync(path).trim());
      if (Number.isInteger(old) && old > 0 && old !== pid && alive(old)) {
        throw new PidFileInUse(path, old);
      }
    } catch (e) {
      // A stale or unreadable pid file is replaced; one naming a live process is not.
      if (e instanceof PidFileInUse) throw e;
    }
  }
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch { /* the write below says why */ }
  const tmp = `${path}.${pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    // createNew (O_EXCL): nothing planted at the temporary name is followed either.
    Deno.writeTextFileSync(tmp, `${pid}\n`, { createNew: true, mode: 0o644 });
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch { /* not created */ }
    throw new Error(`Cannot write pid file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Removes `path` if it is a regular file naming `pid` (default: ours); never throws. */
export async function removePidFile(path: string, pid: number = Deno.pid): Promise<void> {
  try {
    const st = await Deno.lstat(path);
    if (!st.isFile) return;
    if ((await Deno.readTextFile(path)).trim() === String(pid)) await Deno.remove(path);
  } catch { /* already gone */ }
}
