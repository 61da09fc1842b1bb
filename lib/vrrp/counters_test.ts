import { assertEquals } from "../../tests/helpers/assert.ts";
import { DropCounters } from "./counters.ts";
import { DROP_REASONS } from "./packet.ts";

Deno.test("DropCounters: counts per reason, snapshot has every reason, total and reset", () => {
  const c = new DropCounters();
  assertEquals(c.total(), 0);
  assertEquals(Object.keys(c.snapshot()).sort(), [...DROP_REASONS].sort());
  c.count("ttl");
  c.count("ttl");
  c.count("auth");
  assertEquals(c.get("ttl"), 2);
  assertEquals(c.get("auth"), 1);
  assertEquals(c.get("checksum"), 0);
  assertEquals(c.total(), 3);
  const snap = c.snapshot();
  assertEquals(snap.ttl, 2);
  assertEquals(snap["address-count"], 0);
  c.count("ttl");
  assertEquals(snap.ttl, 2, "a snapshot is a copy");
  c.reset();
  assertEquals(c.total(), 0);
  assertEquals(c.get("ttl"), 0);
});
