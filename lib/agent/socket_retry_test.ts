import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { FakeClock } from "../runtime/clock.ts";
import { isProcessFailure, SocketRetry } from "./socket_retry.ts";

const emfile = () => new SyscallError("socket", 24, "Cannot open ipv4 raw socket 112");

function setup(opts: { okAfter?: number } = {}) {
  const clock = new FakeClock();
  const tries: number[] = [];
  const gaveUp: { name: string; why: string; attempts: number; at: number }[] = [];
  // The retry fails the way the runner does: it reports the failure, then returns false.
  const retry = (name: string) => {
    tries.push(clock.now());
    if (opts.okAfter !== undefined && tries.length >= opts.okAfter) return true;
    r.failed(name, emfile());
    return false;
  };
  const r: SocketRetry = new SocketRetry(clock, {
    retry,
    giveUp: (name, why, attempts) => gaveUp.push({ name, why, attempts, at: clock.now() }),
  });
  return { clock, tries, gaveUp, r };
}

Deno.test("socket_retry: process failures are retried; interface failures are not", () => {
  assert(isProcessFailure(emfile()));
  assert(isProcessFailure(new SyscallError("socket", 1, "x")), "EPERM: CAP_NET_RAW missing");
  assert(!isProcessFailure(new SyscallError("setsockopt", 19, "Cannot bind to eth9")), "ENODEV");
  assert(!isProcessFailure(new Error("VRID 51 is already in use")));
  const t = setup();
  assertEquals(t.r.failed("VI_1", new SyscallError("setsockopt", 19, "x")), false);
  assertEquals(t.r.pending, []);
});

Deno.test("socket_retry: back-off 1, 2, 4, 8 s, one give-up, then every 30 s", () => {
  const t = setup();
  assert(t.r.failed("VI_1", emfile()));
  t.clock.advance(15_000);
  assertEquals(t.tries, [1000, 3000, 7000, 15_000]);
  assertEquals(t.gaveUp.length, 1);
  assertEquals(t.gaveUp[0]!.at, 15_000);
  assertEquals(t.gaveUp[0]!.attempts, 5, "the first open and four retries");
  assert(t.gaveUp[0]!.why.includes("EMFILE"));
  t.clock.advance(60_000);
  assertEquals(t.tries.slice(4), [45_000, 75_000]);
  assertEquals(t.gaveUp.length, 1, "reported once per streak");
});

Deno.test("socket_retry: a success ends the streak; forget() cancels", () => {
  const t = setup({ okAfter: 2 });
  t.r.failed("VI_1", emfile());
  t.clock.advance(100_000);
  assertEquals(t.tries, [1000, 3000]);
  assertEquals(t.gaveUp, []);
  assertEquals(t.r.pending, []);
  const u = setup();
  u.r.failed("VI_1", emfile());
  u.r.failed("VI_2", emfile());
  u.r.forget("VI_1");
  u.clock.advance(1000);
  assertEquals(u.tries.length, 1);
  u.r[Symbol.dispose]();
  u.clock.advance(100_000);
  assertEquals(u.tries.length, 1);
  assertEquals(u.clock.pending, 0);
});
