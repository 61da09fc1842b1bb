/**
 * CPU time of a whole process (every thread, those that have exited included) to the
 * nanosecond: `clock_gettime` on the process's CPU clock (the clock id glibc's
 * `clock_getcpuclockid` makes). /proc/PID/stat's utime + stime count in 10 ms ticks, too coarse
 * for an agent that uses 0.01 % of a core; /proc/PID/task/N/schedstat loses the time of threads
 * that have exited.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";

/** CPUCLOCK_SCHED: the scheduler's runtime (linux/posix-timers.h). */
const CPUCLOCK_SCHED = 2;

/** The clock id of process `pid`'s CPU clock: MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED). */
export function processClockId(pid: number): number {
  if (!Number.isInteger(pid) || pid <= 0) throw new RangeError(`bad pid ${pid}`);
  return (~pid << 3) | CPUCLOCK_SCHED;
}

/**
 * CPU time used so far by process `pid` (user + system, all its threads, in nanoseconds).
 * Throws a SyscallError (ESRCH / EINVAL) when the process does not exist.
 */
export function processCpuNs(pid: number): number {
  const ts = new BigInt64Array(2);
  if (libc().clock_gettime(processClockId(pid), new Uint8Array(ts.buffer)) !== 0) {
    throw new SyscallError("clock_gettime", errno(), `Cannot read the CPU clock of pid ${pid}`);
  }
  return Number(ts[0]!) * 1e9 + Number(ts[1]!);
}
