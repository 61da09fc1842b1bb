import { assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { syscallNumber } from "./arch.ts";

Deno.test("arch: sched_setattr is 314 on x86-64 and 274 on aarch64; others are refused", () => {
  assertEquals(syscallNumber("sched_setattr", "x86_64"), 314n);
  assertEquals(syscallNumber("sched_setattr", "aarch64"), 274n);
  assertThrows(
    () => syscallNumber("sched_setattr", "riscv64"),
    Error,
    "sched_setattr: no system call number for architecture riscv64 (haagent knows x86_64, aarch64)",
  );
  assertThrows(() => syscallNumber("sched_setattr", "toString"), Error, "toString");
  assertEquals(typeof syscallNumber("sched_setattr"), "bigint", "this machine is one of them");
});
