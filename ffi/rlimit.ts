/**
 * The open-files limit (RLIMIT_NOFILE): read it, and raise the soft limit towards the hard one,
 * as keepalived does for the descriptors it needs (set_max_file_limit).
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";

/** RLIMIT_NOFILE from <sys/resource.h>. */
const RLIMIT_NOFILE = 7;
/** RLIM_INFINITY: no limit. */
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/** A soft and a hard limit; Infinity when unlimited. */
export interface Limit {
  soft: number;
  hard: number;
}

const toNumber = (v: bigint) => (v === RLIM_INFINITY ? Infinity : Number(v));
const toBig = (v: number) => (v === Infinity ? RLIM_INFINITY : BigInt(v));

/** The process's open-files limit. */
export function noFileLimit(): Limit {
  const r = new BigUint64Array(2);
  if (libc().getrlimit(RLIMIT_NOFILE, new Uint8Array(r.buffer)) !== 0) {
    throw new SyscallError("getrlimit", errno(), "Cannot read the open files limit");
  }
  return { soft: toNumber(r[0]!), hard: toNumber(r[1]!) };
}

/** Sets the process's open-files limit. */
export function setNoFileLimit(l: Limit): void {
  const r = new BigUint64Array([toBig(l.soft), toBig(l.hard)]);
  if (libc().setrlimit(RLIMIT_NOFILE, new Uint8Array(r.buffer)) !== 0) {
    throw new SyscallError(
      "setrlimit",
      errno(),
      `Cannot set the open files limit to ${l.soft}:${l.hard}`,
    );
  }
}

/** How many descriptors the process has open (/proc/self/fd). */
export function openFdCount(): number {
  let n = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
  return n;
}
