import { assertEquals } from "../../tests/helpers/assert.ts";
import { LAZY_LOADER_MIN_ADVERT_MS, loaderAtStart } from "./run.ts";

/** A plan's instances with these advert intervals (ms). */
function plan(...ms: number[]) {
  return {
    instances: ms.map((m) => ({ spec: { advertIntervalCs: m / 10 } })),
  } as unknown as Parameters<typeof loaderAtStart>[0];
}

Deno.test("loader thread: started with the agent only when an instance advertises under 1 s", () => {
  assertEquals(LAZY_LOADER_MIN_ADVERT_MS, 1000);
  assertEquals(loaderAtStart(plan()), false, "no instance (IPVS only): at the first reload");
  assertEquals(loaderAtStart(plan(1000)), false, "1 s: at the first reload");
  assertEquals(loaderAtStart(plan(1000, 3000)), false);
  assertEquals(loaderAtStart(plan(1000, 990)), true, "one instance at 990 ms: at start");
  assertEquals(loaderAtStart(plan(10)), true, "10 ms: at start");
});
