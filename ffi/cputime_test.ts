import { assert, assertThrows } from "../tests/helpers/assert.ts";
import { processClockId, processCpuNs } from "./cputime.ts";
import { SyscallError } from "./errno.ts";

Deno.test("process CPU clock: counts this process's CPU to the nanosecond, and grows with work", () => {
  const before = processCpuNs(Deno.pid);
  let x = 0;
  const end = performance.now() + 30;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  const after = processCpuNs(Deno.pid);
  assert(x > 0);
  // 30 ms of busy loop: at least 10 ms of CPU even on a loaded machine.
  assert(after - before >= 10e6, `only ${(after - before) / 1e6} ms of CPU counted`);
});

Deno.test("process CPU clock: clock id as glibc makes it; a missing process is an error", () => {
  assert(processClockId(1) === -14, `clock id of pid 1 is ${processClockId(1)}`);
  // pid_max is at most 4194304 on Linux.
  assertThrows(() => processCpuNs(4_194_305), SyscallError);
});
