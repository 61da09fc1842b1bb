/**
 * Realtime scheduling for the agent's threads (keepalived's vrrp_rt_priority): SCHED_RR at a
 * fixed priority, so adverts keep time when other processes load the machine.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { SyscallError } from "./errno.ts";

/** SCHED_RR from <sched.h>. */
const SCHED_RR = 2;
/** SCHED_OTHER from <sched.h>. */
const SCHED_OTHER = 0;

/** The thread ids of this process (from /proc/self/task). */
function threadIds(): number[] {
  const ids: number[] = [];
  for (const e of Deno.readDirSync("/proc/self/task")) {
    const n = Number(e.name);
    if (Number.isInteger(n)) ids.push(n);
  }
  return ids;
}

function setScheduler(tid: number, policy: number, priority: number): void {
  const param = new Int32Array([priority]);
  if (libc().sched_setscheduler(tid, policy, new Uint8Array(param.buffer)) !== 0) {
    const e = errno();
    throw new SyscallError(
      "sched_setscheduler",
      e,
      policy === SCHED_RR
        ? `Cannot set realtime priority ${priority} (SCHED_RR) on thread ${tid}`
        : `Cannot reset the scheduling policy of thread ${tid}`,
    );
  }
}

/**
 * Puts every current thread of this process in SCHED_RR at `priority` (1-99); threads created
 * later inherit it from their creator only sometimes, so callers apply it again once the
 * runtime has started its workers. Returns how many threads were set. Throws SyscallError
 * (EPERM without CAP_SYS_NICE) naming the thread.
 */
export function setRealtimePriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) {
    throw new RangeError(`realtime priority must be 1-99, not ${priority}`);
  }
  const ids = threadIds();
  for (const tid of ids) {
    try {
      setScheduler(tid, SCHED_RR, priority);
    } catch (e) {
      // A thread that ended between the listing and the call is not an error.
      if (e instanceof SyscallError && e.code === "ESRCH") continue;
      throw e;
    }
  }
  return ids.length;
}

/** Puts every thread back to SCHED_OTHER (tests). */
export function clearRealtimePriority(): void {
  for (const tid of threadIds()) {
    try {
      setScheduler(tid, SCHED_OTHER, 0);
    } catch { /* gone */ }
  }
}

/** The scheduling policy of a thread, from /proc (field 41 of stat). */
export function threadPolicy(tid: number): number {
  const stat = Deno.readTextFileSync(`/proc/self/task/${tid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the command: state is field 3, so policy (41) is at index 41 - 3.
  return Number(fields[41 - 3]);
}

/** Every thread id of this process (for tests and status). */
export function processThreads(): number[] {
  return threadIds();
}
