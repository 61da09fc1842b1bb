/**
 * Reading a file by path without ever blocking on what the path turns out to be: open(2) with
 * O_NONBLOCK (a FIFO without a writer or a device cannot hang the open or the read, as in
 * keepalived's track_file reads), then plain read(2)s. Deno's own files cannot be opened with
 * O_NONBLOCK, and node:fs's can only at the price of loading its Node compatibility layer.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";

// The generic Linux values, shared by x86-64 and aarch64.
const O_RDONLY = 0;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;

/** A file descriptor opened read-only and non-blocking; close it with `close()`. */
export class NonBlockingFile implements Disposable {
  #fd: number;
  readonly path: string;

  private constructor(fd: number, path: string) {
    this.#fd = fd;
    this.path = path;
  }

  /** Opens `path` (O_RDONLY | O_NONBLOCK | O_CLOEXEC); throws a SyscallError naming it. */
  static open(path: string): NonBlockingFile {
    const c = new TextEncoder().encode(`${path}\0`);
    for (;;) {
      const fd = libc().open(c, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd >= 0) return new NonBlockingFile(fd, path);
      const e = errno();
      if (e !== Errno.EINTR) throw new SyscallError("open", e, `Cannot open ${path}`);
    }
  }

  /** What was opened (`/proc/self/fd/N` followed): a file replaced after a stat shows here. */
  stat(): Deno.FileInfo {
    return Deno.statSync(`/proc/self/fd/${this.#fd}`);
  }

  /**
   * Reads into `buf` (at most its length): the byte count, 0 at the end of the file, or null
   * when nothing can be read without waiting (EAGAIN).
   */
  read(buf: Uint8Array): number | null {
    for (;;) {
      const n = Number(libc().read(this.#fd, buf, BigInt(buf.length)));
      if (n >= 0) return n;
      const e = errno();
      if (e === Errno.EAGAIN) return null;
      if (e !== Errno.EINTR) throw new SyscallError("read", e, `Cannot read ${this.path}`);
    }
  }

  /** Closes the descriptor (once). */
  close(): void {
    if (this.#fd < 0) return;
    libc().close(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
