import { assertEquals } from "../../tests/helpers/assert.ts";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration: units, fractions, compounds and bare seconds", () => {
  assertEquals(parseDuration("100ms"), 100);
  assertEquals(parseDuration("1s"), 1000);
  assertEquals(parseDuration("1.5s"), 1500);
  assertEquals(parseDuration("2m"), 120_000);
  assertEquals(parseDuration("1h"), 3_600_000);
  assertEquals(parseDuration("1m30s"), 90_000);
  assertEquals(parseDuration("250us"), 0.25);
  assertEquals(parseDuration("0.01s"), 10);
  assertEquals(parseDuration(" 3s "), 3000);
  assertEquals(parseDuration(2), 2000);
  assertEquals(parseDuration(0.92), 920);
  assertEquals(parseDuration("3"), 3000);
  assertEquals(parseDuration("0"), 0);
});

Deno.test("parseDuration: rejects what is not a duration", () => {
  for (const bad of ["", "s", "1x", "-1s", "1 s", "1.s", ".5s", "1s2", "abc", "1e3s"]) {
    assertEquals(parseDuration(bad), null, bad);
  }
  assertEquals(parseDuration(-1), null);
  assertEquals(parseDuration(Number.NaN), null);
  assertEquals(parseDuration(Number.POSITIVE_INFINITY), null);
});

Deno.test("formatDuration round-trips through parseDuration", () => {
  for (const ms of [0, 10, 100, 950, 1000, 1500, 5000, 60_000, 90_000, 3_600_000]) {
    assertEquals(parseDuration(formatDuration(ms)), ms, String(ms));
  }
  assertEquals(formatDuration(5000), "5s");
  assertEquals(formatDuration(60_000), "1m");
  assertEquals(formatDuration(100), "100ms");
  assertEquals(formatDuration(1500), "1.5s");
});
