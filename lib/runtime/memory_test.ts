import { assertEquals } from "../../tests/helpers/assert.ts";
import { compactMemory } from "./memory.ts";

/** Runs `fn` with `globalThis.gc` set to `gc` (or removed), then puts the old one back. */
function withGc<T>(gc: unknown, fn: () => T): T {
  const g = globalThis as { gc?: unknown };
  const had = Object.hasOwn(g, "gc");
  const old = g.gc;
  if (gc === undefined) delete g.gc;
  else g.gc = gc;
  try {
    return fn();
  } finally {
    if (had) g.gc = old;
    else delete g.gc;
  }
}

Deno.test("compactMemory: a deep compaction runs V8's last-resort collection once", () => {
  const calls: unknown[] = [];
  const r = withGc((o: unknown) => calls.push(o), () => compactMemory(true));
  assertEquals(calls, [{ type: "major", execution: "sync", flavor: "last-resort" }]);
  assertEquals(r.collected, true);
  assertEquals(typeof r.trimmed, "boolean");
});

Deno.test("compactMemory: not deep, or no gc exposed, or a gc that throws: no collection", () => {
  const calls: unknown[] = [];
  const shallow = withGc((o: unknown) => calls.push(o), () => compactMemory(false));
  assertEquals([calls.length, shallow.collected], [0, false]);
  assertEquals(withGc(undefined, () => compactMemory(true)).collected, false);
  const throwing = withGc(() => {
    throw new TypeError("no options");
  }, () => compactMemory(true));
  assertEquals(throwing.collected, false);
});

Deno.test("compactMemory: reports how long it held the thread", () => {
  let t = 100;
  const r = withGc(() => (t += 7), () => compactMemory(true, () => t));
  assertEquals(r.ms, 7);
});
