import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { Slicer } from "./slicer.ts";

Deno.test("slicer: yields to a timer once the budget is spent, not before", async () => {
  let t = 0;
  const s = new Slicer(5, () => t);
  assertEquals(s.due(), null);
  t = 4.9;
  assertEquals(s.due(), null);
  t = 5;
  let timerRan = false;
  setTimeout(() => (timerRan = true), 0);
  const p = s.due();
  assert(p !== null);
  await p;
  assert(timerRan, "a timer due meanwhile ran before the job went on");
  assertEquals(s.due(), null, "a new slice starts after the yield");
});
