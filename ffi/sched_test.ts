import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import {
  clearRealtimePriority,
  isHelperThread,
  isRuntimeThread,
  processThreads,
  promoteRuntimeThreads,
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

Deno.test({
  name: "sched: pool threads a nice-10 Worker started get the main thread's nice back",
  ignore: !root,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // The worker lowers its own priority (as the load-balancer and loader workers do), then
    // blocks six pool threads at once (nonblocking poll() calls): the pool must grow, and the
    // threads it starts from the worker's thread inherit nice 10.
    const src = `
      const c = Deno.dlopen("libc.so.6", {
        setpriority: { parameters: ["i32", "u32", "i32"], result: "i32" },
        poll: { parameters: ["pointer", "u64", "i32"], result: "i32", nonblocking: true },
      });
      self.onmessage = async () => {
        c.symbols.setpriority(0, 0, 10);
        await Promise.all(Array.from({ length: 6 }, () => c.symbols.poll(null, 0n, 300)));
        self.postMessage("done");
      };
      self.postMessage("up");`;
    const w = new Worker(`data:application/javascript,${encodeURIComponent(src)}`, {
      type: "module",
    });
    try {
      let next!: (v: unknown) => void;
      w.onmessage = (e) => next(e.data);
      await new Promise((r) => (next = r));
      const done = new Promise((r) => (next = r));
      w.postMessage("go");
      await done;
      const pool = () => processThreads().filter((t) => isRuntimeThread(threadName(t)));
      const niced = pool().filter((t) => niceOf(t) === 10);
      assert(niced.length > 0, `no pool thread at nice 10: ${pool().map(niceOf)}`);
      const seen = new Set<number>();
      const r = promoteRuntimeThreads(seen, null, 100);
      assertEquals(r.error, null);
      assert(r.changed >= niced.length, `${r.changed} changed, ${niced.length} at nice 10`);
      for (const t of pool()) assertEquals(niceOf(t) ?? 0, 0, `pool thread ${t}`);
      // Threads looked at once are not looked at again.
      assertEquals(promoteRuntimeThreads(seen, null, 100).changed, 0);
    } finally {
      w.terminate();
    }
  },
});

Deno.test("sched: pool threads are told apart by name", () => {
  assert(isRuntimeThread("tokio-runtime-w"));
  assert(!isRuntimeThread("worker-1"));
  assert(!isRuntimeThread("deno"));
  assert(!isRuntimeThread("V8 DefaultWorke"));
});
