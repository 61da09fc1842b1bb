import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { masterDownIntervalMs, skewTimeMs } from "./timers.ts";

Deno.test("skewTimeMs: v2 is (256 - priority) / 256 s, independent of the interval", () => {
  assertEquals(skewTimeMs(2, 100, 100), 609.375);
  assertEquals(skewTimeMs(2, 100, 500), 609.375);
  assertEquals(skewTimeMs(2, 255, 100), 1000 / 256);
  assertEquals(skewTimeMs(2, 1, 100), 255000 / 256);
});

Deno.test("skewTimeMs: v3 is ((256 - priority) * MAI) / 256 cs, not truncated", () => {
  assertEquals(skewTimeMs(3, 100, 100), 609.375);
  assertEquals(skewTimeMs(3, 100, 10), 60.9375);
  assertEquals(skewTimeMs(3, 200, 1), (56 * 10) / 256);
  assertEquals(skewTimeMs(3, 254, 4095), (2 * 40950) / 256);
});

Deno.test("masterDownIntervalMs: 3 * MAI + skew, with down_timer_adverts", () => {
  assertEquals(masterDownIntervalMs(2, 100, 100), 3609.375);
  assertEquals(masterDownIntervalMs(3, 100, 10), 360.9375);
  assertEquals(masterDownIntervalMs(3, 150, 100), 3000 + (106 * 1000) / 256);
  assertEquals(masterDownIntervalMs(2, 100, 100, 5), 5609.375);
  assertEquals(masterDownIntervalMs(3, 100, 10, 1), 160.9375);
});

Deno.test("timers reject priorities, intervals and counts no config could mean", () => {
  assertThrows(() => skewTimeMs(2, 256, 100), RangeError);
  assertThrows(() => skewTimeMs(3, -1, 100), RangeError);
  assertThrows(() => skewTimeMs(3, 100, 0), RangeError);
  assertThrows(() => skewTimeMs(3, 100.5, 100), RangeError);
  assertThrows(() => masterDownIntervalMs(3, 100, 10, 0), RangeError);
});
