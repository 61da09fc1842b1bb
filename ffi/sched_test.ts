import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import {
  clearRealtimePriority,
  isHelperThread,
  processThreads,
  setHelperNice,
  setRealtimePriority,
  threadName,
  threadNice,
  threadPolicy,
} from "./sched.ts";

const root = (() => {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "sched: every thread but the helpers goes to SCHED_RR, and back",
  ignore: !root,
  fn() {
    const n = setRealtimePriority(10);
    assert(n >= 1);
    for (const tid of processThreads()) {
      const want = isHelperThread(threadName(tid)) ? 0 : 2;
      assertEquals(threadPolicy(tid), want, `thread ${tid}`);
    }
    clearRealtimePriority();
    for (const tid of processThreads()) assertEquals(threadPolicy(tid), 0, `thread ${tid}`);
  },
});

Deno.test("sched: priorities outside 1-99 are refused", () => {
  assertThrows(() => setRealtimePriority(0), RangeError);
  assertThrows(() => setRealtimePriority(100), RangeError);
});

Deno.test({
  name: "sched: Web Worker and V8 threads stay in SCHED_OTHER, the others go to SCHED_RR",
  ignore: !root,
  async fn() {
    const src = "self.onmessage = () => self.postMessage('up');";
    const url = `data:application/javascript,${encodeURIComponent(src)}`;
    const w = new Worker(url, { type: "module" });
    try {
      const up = new Promise((r) => (w.onmessage = r));
      w.postMessage("ping");
      await up;
      const workers = processThreads().filter((t) => isHelperThread(threadName(t)));
      assert(workers.some((t) => threadName(t).startsWith("worker-")));
      assert(workers.length >= 1, `no worker-N thread among ${processThreads().map(threadName)}`);
      const n = setRealtimePriority(10);
      assertEquals(n, processThreads().length - workers.length);
      for (const tid of processThreads()) {
        const want = workers.includes(tid) ? 0 : 2;
        assertEquals(threadPolicy(tid), want, `thread ${tid} (${threadName(tid)})`);
      }
    } finally {
      clearRealtimePriority();
      w.terminate();
    }
  },
});

Deno.test("sched: helper threads are told apart by name", () => {
  assert(isHelperThread("worker-1"));
  assert(isHelperThread("worker-12"));
  assert(!isHelperThread("deno"));
  assert(!isHelperThread("tokio-runtime-w"));
  assert(isHelperThread("V8 DefaultWorke"));
});

/** A thread's nice, or undefined once it has ended (a terminated Worker's thread goes away). */
function niceOf(tid: number): number | undefined {
  try {
    return threadNice(tid);
  } catch {
    return undefined;
  }
}

Deno.test("sched: helper threads get a nice value, the others keep theirs", () => {
  const before = new Map(processThreads().map((t) => [t, niceOf(t)]));
  const n = setHelperNice(7);
  try {
    assert(n >= 1, "no helper thread (V8 platform threads are always there)");
    for (const tid of processThreads()) {
      const want = isHelperThread(threadName(tid)) ? 7 : before.get(tid);
      const now = niceOf(tid);
      if (want !== undefined && now !== undefined) {
        assertEquals(now, want, `thread ${tid} ${threadName(tid)}`);
      }
    }
  } finally {
    if (Deno.uid() === 0) setHelperNice(0);
  }
  assertThrows(() => setHelperNice(20), RangeError);
});
