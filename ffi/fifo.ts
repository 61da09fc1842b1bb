/**
 * mkfifo(3): creating a named pipe (the notify FIFO, as keepalived's fifo_open creates it).
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";

const EEXIST = 17;

/**
 * Creates a FIFO at `path` with `mode` (before the umask): true when created, false when
 * something already exists there; throws a SyscallError naming the path otherwise.
 */
export function makeFifo(path: string, mode: number): boolean {
  const c = new TextEncoder().encode(`${path}\0`);
  if (libc().mkfifo(c, mode) === 0) return true;
  const e = errno();
  if (e === EEXIST) return false;
  throw new SyscallError("mkfifo", e, `Cannot create FIFO ${path}`);
}
