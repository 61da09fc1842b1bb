import { assert, assertEquals } from "../tests/helpers/assert.ts";
import { noFileLimit, openFdCount, setNoFileLimit } from "./rlimit.ts";

Deno.test("rlimit: the open files limit reads, lowers and comes back", () => {
  const before = noFileLimit();
  assert(before.soft > 0 && before.soft <= before.hard, JSON.stringify(before));
  const n = openFdCount();
  assert(n > 2, `${n} fds`);
  try {
    setNoFileLimit({ soft: Math.min(before.soft, 512), hard: before.hard });
    assertEquals(noFileLimit().soft, Math.min(before.soft, 512));
  } finally {
    setNoFileLimit(before);
  }
  assertEquals(noFileLimit(), before);
});
