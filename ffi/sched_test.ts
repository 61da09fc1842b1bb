import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import {
  clearRealtimePriority,
  processThreads,
  setRealtimePriority,
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
  name: "sched: every thread goes to SCHED_RR and back",
  ignore: !root,
  fn() {
    const n = setRealtimePriority(10);
    assert(n >= 1);
    for (const tid of processThreads()) assertEquals(threadPolicy(tid), 2, `thread ${tid}`);
    clearRealtimePriority();
    for (const tid of processThreads()) assertEquals(threadPolicy(tid), 0, `thread ${tid}`);
  },
});

Deno.test("sched: priorities outside 1-99 are refused", () => {
  assertThrows(() => setRealtimePriority(0), RangeError);
  assertThrows(() => setRealtimePriority(100), RangeError);
});
