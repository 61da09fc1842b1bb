import { assertEquals } from "../../tests/helpers/assert.ts";
import { advertCapacity } from "./advert_capacity.ts";

Deno.test("advertCapacity: keepalived's count of the addresses that fit in an advert", () => {
  assertEquals(advertCapacity("ipv4", 2, 1500), 255);
  assertEquals(advertCapacity("ipv4", 3, 1500), 255);
  assertEquals(advertCapacity("ipv6", 3, 1500), 89);
  // (1000 - 50) / 4 and (1000 - 42) / 4: the MTU limits before the one-byte count does.
  assertEquals(advertCapacity("ipv4", 2, 1000), 237);
  assertEquals(advertCapacity("ipv4", 3, 1000), 239);
  assertEquals(advertCapacity("ipv6", 3, 1280), 76);
  assertEquals(advertCapacity("ipv4", 3, 40), 0);
});
