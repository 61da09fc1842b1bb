import { assertEquals } from "../../tests/helpers/assert.ts";
import { editDistance, suggest } from "./suggest.ts";

Deno.test("editDistance", () => {
  assertEquals(editDistance("", ""), 0);
  assertEquals(editDistance("abc", ""), 3);
  assertEquals(editDistance("kitten", "sitting"), 3);
  assertEquals(editDistance("priority", "priorty"), 1);
});

Deno.test("suggest finds near keys and declines far ones", () => {
  const keys = ["priority", "preempt", "preempt_delay", "interface", "vrid", "advert_interval"];
  assertEquals(suggest("priorty", keys), "priority");
  assertEquals(suggest("PRIORITY", keys), "priority");
  assertEquals(suggest("preempt-delay", keys), "preempt_delay");
  assertEquals(suggest("advert_int", keys), "advert_interval");
  assertEquals(suggest("interfce", keys), "interface");
  assertEquals(suggest("zzzzzz", keys), null);
  assertEquals(suggest("x", keys), null);
});
