/**
 * Realtime scheduling for the agent's threads (keepalived's vrrp_rt_priority): SCHED_RR at a
 * fixed priority, so adverts keep time when other processes load the machine.
 *
 * @module
 */
import { errno, libc } from "./libc.ts";
import { Errno, SyscallError } from "./errno.ts";
import { syscallNumber } from "./arch.ts";

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

/** The name of a thread (/proc/self/task/TID/comm), or "" if it is gone. */
export function threadName(tid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/self/task/${tid}/comm`).trim();
  } catch {
    return "";
  }
}

/**
 * The threads that do the bulk work and must not delay the VRRP thread: a Web Worker's JS
 * thread (Deno names it `worker-N`; the load-balancer side and its checks run there) and V8's
 * platform threads (`V8 DefaultWorke...`: garbage collection and compilation for every isolate,
 * so mostly for the busy worker). Under SCHED_RR at the VRRP thread's priority they would hold
 * a core for a whole round-robin slice; keepalived likewise leaves its checker process out of
 * vrrp_rt_priority.
 */
export function isHelperThread(name: string): boolean {
  return /^worker-\d+$/.test(name) || name.startsWith("V8 ");
}

/**
 * Puts every current thread of this process in SCHED_RR at `priority` (1-99), except the threads
 * `skip` picks by name (default: `isHelperThread`), which are put back in SCHED_OTHER (they
 * may have inherited SCHED_RR from their creator). Threads created later inherit the policy of
 * the thread that creates them, so callers apply it again once the runtime has started its
 * helpers. Returns how many threads were set to SCHED_RR. Throws SyscallError (EPERM without
 * CAP_SYS_NICE) naming the thread.
 */
export function setRealtimePriority(
  priority: number,
  skip: (threadName: string) => boolean = isHelperThread,
): number {
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) {
    throw new RangeError(`realtime priority must be 1-99, not ${priority}`);
  }
  let n = 0;
  for (const tid of threadIds()) {
    const rt = !skip(threadName(tid));
    try {
      if (rt) setScheduler(tid, SCHED_RR, priority);
      else setScheduler(tid, SCHED_OTHER, 0);
      if (rt) n++;
    } catch (e) {
      // A thread that ended between the listing and the call is not an error.
      if (e instanceof SyscallError && e.code === "ESRCH") continue;
      throw e;
    }
  }
  return n;
}

/** PRIO_PROCESS from <sys/resource.h>; with a thread id, setpriority sets that thread's nice. */
const PRIO_PROCESS = 0;

/**
 * Sets the nice value (-20..19) of the threads `pick` selects by name (default:
 * `isHelperThread`), so that under the normal scheduler the VRRP thread wins the CPU when it
 * wakes. Raising nice needs no privilege. Threads a niced thread creates inherit its nice.
 * Returns how many threads were set; throws SyscallError naming the thread.
 */
export function setHelperNice(
  nice: number,
  pick: (threadName: string) => boolean = isHelperThread,
): number {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
    throw new RangeError(`nice must be -20..19, not ${nice}`);
  }
  let n = 0;
  for (const tid of threadIds()) {
    if (!pick(threadName(tid))) continue;
    if (libc().setpriority(PRIO_PROCESS, tid, nice) !== 0) {
      const e = errno();
      if (e === Errno.ESRCH) continue; // ended meanwhile
      throw new SyscallError("setpriority", e, `Cannot set nice ${nice} on thread ${tid}`);
    }
    n++;
  }
  return n;
}

/**
 * Makes the calling thread a helper thread: SCHED_OTHER (it may have inherited SCHED_RR from the
 * thread that created it) at nice `nice` (pid 0 names the calling thread for both calls under
 * Linux threads). A Web Worker calls it before its bulk work, so that it never competes with the
 * VRRP thread as an equal. Throws SyscallError.
 */
export function demoteThisThread(nice: number): void {
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
    throw new RangeError(`nice must be -20..19, not ${nice}`);
  }
  setScheduler(0, SCHED_OTHER, 0);
  if (libc().setpriority(PRIO_PROCESS, 0, nice) !== 0) {
    throw new SyscallError("setpriority", errno(), `Cannot set nice ${nice} on this thread`);
  }
}

/** sizeof(struct sched_attr), version 1 (with util_min / util_max). */
const SCHED_ATTR_SIZE = 56;

/**
 * Asks the fair scheduler (EEVDF, Linux 6.12+) for a short time slice for the threads `skip`
 * does not pick (default: all but the helpers): sched_attr.sched_runtime of a SCHED_OTHER
 * thread is its requested slice, and a thread with a short slice gets an early virtual
 * deadline, so it preempts a running thread when it wakes instead of waiting for that thread's
 * slice to end. It needs no privilege and takes no CPU share from anyone. `sliceUs` is clamped
 * by the kernel to 100 us .. 100 ms; older kernels ignore the field. Leaves SCHED_RR threads
 * alone. Returns how many threads were set.
 */
export function setLatencySlice(
  sliceUs: number,
  skip: (threadName: string) => boolean = isHelperThread,
): number {
  const sysSchedSetattr = syscallNumber("sched_setattr");
  const attr = new Uint8Array(SCHED_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, SCHED_ATTR_SIZE, true);
  v.setUint32(4, SCHED_OTHER, true);
  v.setBigUint64(24, BigInt(Math.round(sliceUs * 1000)), true);
  let n = 0;
  for (const tid of threadIds()) {
    if (skip(threadName(tid))) continue;
    let st: { policy: number; nice: number };
    try {
      st = threadSched(tid);
    } catch {
      continue; // ended meanwhile
    }
    if (st.policy !== SCHED_OTHER) continue;
    v.setInt32(16, st.nice, true);
    if (libc().sched_setattr(sysSchedSetattr, tid, attr, 0) !== 0n) {
      const e = errno();
      if (e === Errno.ESRCH) continue; // ended meanwhile
      throw new SyscallError(
        "sched_setattr",
        e,
        `Cannot set a ${sliceUs} us slice on thread ${tid}`,
      );
    }
    n++;
  }
  return n;
}

/**
 * The runtime's pool threads (tokio's blocking pool: Deno names them `tokio-runtime-worker`, cut
 * to 15 characters). Every `nonblocking` FFI call runs on one of them, the Reactor's epoll_wait
 * included, whichever thread asked for it, and a pool thread is started by whichever thread
 * needed one: one a Web Worker started has the worker's nice.
 */
export function isRuntimeThread(name: string): boolean {
  return name.startsWith("tokio-runtime-w");
}

/**
 * Gives the runtime's pool threads (`isRuntimeThread`) that `seen` does not hold yet the VRRP
 * thread's scheduling: SCHED_RR at `realtimePriority`, or else the nice of the process's main
 * thread (the VRRP thread) with a `sliceUs` slice. A pool thread started by a Web Worker (nice
 * 10, see `demoteThisThread`) may later run the Reactor's wait, and then the VRRP thread's
 * timers wake through a thread that loses the CPU to everything at nice 0. Lowering a nice
 * needs CAP_SYS_NICE or RLIMIT_NICE. Adds the ids it looked at to `seen` (and forgets the ids
 * of threads gone); returns how many threads were changed and the first failure, if any.
 */
export function promoteRuntimeThreads(
  seen: Set<number>,
  realtimePriority: number | null,
  sliceUs: number,
): { changed: number; error: SyscallError | null } {
  const ids = threadIds();
  const live = new Set(ids);
  for (const tid of seen) if (!live.has(tid)) seen.delete(tid);
  let changed = 0;
  let error: SyscallError | null = null;
  let mainNice: number | null = null;
  for (const tid of ids) {
    if (seen.has(tid)) continue;
    seen.add(tid);
    if (!isRuntimeThread(threadName(tid))) continue;
    try {
      const st = threadSched(tid);
      if (realtimePriority !== null) {
        if (st.policy === SCHED_RR) continue;
        setScheduler(tid, SCHED_RR, realtimePriority);
      } else {
        mainNice ??= threadSched(Deno.pid).nice;
        if (st.policy !== SCHED_OTHER || st.nice <= mainNice) continue;
        setOtherAttr(tid, mainNice, sliceUs);
      }
      changed++;
    } catch (e) {
      if (e instanceof SyscallError && e.code === "ESRCH") continue; // ended meanwhile
      if (e instanceof SyscallError) error ??= e;
      else if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return { changed, error };
}

/** sched_setattr: SCHED_OTHER at `nice` with a `sliceUs` slice. Throws SyscallError. */
function setOtherAttr(tid: number, nice: number, sliceUs: number): void {
  const attr = new Uint8Array(SCHED_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, SCHED_ATTR_SIZE, true);
  v.setUint32(4, SCHED_OTHER, true);
  v.setInt32(16, nice, true);
  v.setBigUint64(24, BigInt(Math.round(sliceUs * 1000)), true);
  if (libc().sched_setattr(syscallNumber("sched_setattr"), tid, attr, 0) !== 0n) {
    throw new SyscallError(
      "sched_setattr",
      errno(),
      `Cannot give thread ${tid} nice ${nice} and a ${sliceUs} us slice`,
    );
  }
}

/** The policy (field 41) and nice value (field 19) of a thread, from one read of its stat. */
function threadSched(tid: number): { policy: number; nice: number } {
  const stat = Deno.readTextFileSync(`/proc/self/task/${tid}/stat`);
  // Fields after the command: state is field 3, so field F is at index F - 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { policy: Number(fields[41 - 3]), nice: Number(fields[19 - 3]) };
}

/** The nice value of a thread, from /proc. */
export function threadNice(tid: number): number {
  return threadSched(tid).nice;
}

/** Puts every thread back to SCHED_OTHER (tests). */
export function clearRealtimePriority(): void {
  for (const tid of threadIds()) {
    try {
      setScheduler(tid, SCHED_OTHER, 0);
    } catch { /* gone */ }
  }
}

/** The scheduling policy of a thread, from /proc. */
export function threadPolicy(tid: number): number {
  return threadSched(tid).policy;
}

/** Every thread id of this process (for tests and status). */
export function processThreads(): number[] {
  return threadIds();
}
