import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { FakeClock } from "../runtime/clock.ts";
import { Logger } from "../runtime/log.ts";
import type { AnnounceEntry } from "./desired.ts";
import { AnnounceTable, RETRY_MS } from "./table.ts";
import { FakeKernel } from "../../tests/helpers/fake_routes.ts";

const LINKS: Record<string, number> = { lo: 1, eth0: 2, eth1: 3 };

function setup(kernel = new FakeKernel()) {
  const lines: string[] = [];
  const clock = new FakeClock();
  const log = new Logger("t", { level: "debug", sink: (l) => lines.push(l), json: false });
  const links = { ...LINKS };
  const table = new AnnounceTable(kernel, { table: 198, protocol: 248 }, {
    log,
    clock,
    linkIndex: (n) => links[n] ?? null,
  });
  return { kernel, table, clock, lines, links };
}

function entry(address: string, device: string, announce: boolean): AnnounceEntry {
  return {
    family: address.includes(":") ? "ipv6" : "ipv4",
    address,
    prefix: address.includes(":") ? 128 : 32,
    device,
    announce,
    reasons: [announce ? "VI_1 MASTER" : "VI_1 BACKUP"],
    sources: [{ name: "VI_1", holds: announce }],
  };
}

Deno.test("announce table: adds and withdraws only what changed", async () => {
  const { kernel, table } = setup();
  await table.start();
  table.apply([entry("192.0.2.10", "eth0", true), entry("2001:db8::10", "eth1", true)], {
    purge: true,
  });
  await table.settled();
  assertEquals(kernel.table(198), ["192.0.2.10/32 #2 p248", "2001:db8::10/128 #3 p248"]);
  kernel.ops.length = 0;
  // The same entries again (a reload that changed nothing else): no write at all.
  table.apply([entry("192.0.2.10", "eth0", true), entry("2001:db8::10", "eth1", true)]);
  await table.settled();
  assertEquals(kernel.ops, []);
  // One withdrawn, one moved to another interface: one delete, one replace.
  table.apply([entry("192.0.2.10", "eth0", false), entry("2001:db8::10", "eth0", true)]);
  await table.settled();
  assertEquals(kernel.ops, [
    "delete 192.0.2.10/32 t198 p248",
    "replace 2001:db8::10/128 #2 t198 p248",
  ]);
  assertEquals(kernel.table(198), ["2001:db8::10/128 #2 p248"]);
  assertEquals(table.counts, { adds: 3, deletes: 1 });
});

Deno.test("announce table: leftovers of our protocol are purged, kept when claimed, others untouched", async () => {
  const kernel = new FakeKernel();
  kernel.put({ to: "192.0.2.10", table: 198, protocol: 248, ifindex: 2 }); // claimed, same device
  kernel.put({ to: "192.0.2.11", table: 198, protocol: 248, ifindex: 2 }); // claimed, other device
  kernel.put({ to: "192.0.2.99", table: 198, protocol: 248, ifindex: 1 }); // stale
  kernel.put({ to: "192.0.2.50", table: 198, protocol: 186, ifindex: 2 }); // another daemon's
  kernel.put({ to: "192.0.2.99", table: 254, protocol: 248, ifindex: 2 }); // another table
  const { table, lines } = setup(kernel);
  await table.start();
  assert(lines.some((l) => l.includes("3 route(s) of protocol 248 from an earlier run")));
  // Before the first complete set (the load balancer has not reported): nothing is purged.
  table.apply([entry("192.0.2.10", "eth0", true)]);
  await table.settled();
  assertEquals(kernel.ops, [], "a leftover exactly as wanted is kept, not re-added");
  table.apply([entry("192.0.2.10", "eth0", true), entry("192.0.2.11", "lo", true)], {
    purge: true,
  });
  await table.settled();
  assertEquals(kernel.ops, [
    "replace 192.0.2.11/32 #1 t198 p248",
    "delete 192.0.2.99/32 t198 p248",
  ]);
  assertEquals(kernel.table(198), [
    "192.0.2.10/32 #2 p248",
    "192.0.2.11/32 #1 p248",
    "192.0.2.50/32 #2 p186",
  ]);
  assertEquals(kernel.table(254), ["192.0.2.99/32 #2 p248"]);
});

Deno.test("announce table: withdrawAll removes ours and leftovers; dispose leaves them", async () => {
  const kernel = new FakeKernel();
  kernel.put({ to: "192.0.2.99", table: 198, protocol: 248 });
  const { table } = setup(kernel);
  await table.start();
  table.apply([entry("192.0.2.10", "eth0", true)]);
  await table.withdrawAll();
  assertEquals(kernel.table(198), []);
  table.apply([entry("192.0.2.10", "eth0", true)]);
  await table.settled();
  assertEquals(kernel.table(198), [], "a stopped table writes nothing");

  const k2 = new FakeKernel();
  const s2 = setup(k2);
  await s2.table.start();
  s2.table.apply([entry("192.0.2.10", "eth0", true)], { purge: true });
  await s2.table.settled();
  s2.table[Symbol.dispose]();
  assertEquals(k2.table(198), ["192.0.2.10/32 #2 p248"], "as after a crash: the route stays");
});

Deno.test("announce table: a failed add or a missing interface is reported and retried", async () => {
  const { kernel, table, clock, lines, links } = setup();
  await table.start();
  delete links["eth1"];
  kernel.failAdds = new SyscallError("sendto", 19, "Cannot add route 192.0.2.10/32");
  table.apply([entry("192.0.2.10", "eth0", true), entry("2001:db8::10", "eth1", true)], {
    purge: true,
  });
  await table.settled();
  assertEquals(table.error("2001:db8::10/128"), 'interface "eth1" does not exist');
  assert(table.error("192.0.2.10/32")!.includes("ENODEV"));
  assertEquals(table.holds("192.0.2.10/32"), false);
  assertEquals(lines.filter((l) => l.includes("cannot announce")).length, 2);
  kernel.failAdds = null;
  links["eth1"] = 3;
  clock.advance(RETRY_MS);
  await table.settled();
  assertEquals(kernel.table(198), ["192.0.2.10/32 #2 p248", "2001:db8::10/128 #3 p248"]);
  assertEquals([table.error("192.0.2.10/32"), table.error("2001:db8::10/128")], [null, null]);
});

Deno.test("announce table: a route deleted behind our back is not an error to withdraw", async () => {
  const { kernel, table, lines } = setup();
  await table.start();
  table.apply([entry("192.0.2.10", "eth0", true)], { purge: true });
  await table.settled();
  kernel.routes.clear();
  table.apply([entry("192.0.2.10", "eth0", false)]);
  await table.settled();
  assert(!lines.some((l) => l.includes("cannot withdraw")), lines.join("\n"));
});

Deno.test("announce table: routes through an interface that went down are written again", async () => {
  const { kernel, table, clock } = setup();
  await table.start();
  const entries = [entry("192.0.2.10", "eth0", true), entry("2001:db8::10", "eth1", true)];
  table.apply(entries, { purge: true });
  await table.settled();
  // eth0 goes down: the kernel flushes its routes and refuses new ones until it is up.
  kernel.routes.delete(FakeKernel.key(198, "192.0.2.10", 32));
  kernel.ops.length = 0;
  kernel.failAdds = new SyscallError("sendto", 100, "Cannot add route 192.0.2.10/32");
  table.relink("eth0");
  table.apply(entries);
  await table.settled();
  assertEquals(kernel.ops, ["replace 192.0.2.10/32 #2 t198 p248"], "only eth0's route");
  assert(table.error("192.0.2.10/32")!.includes("ENETDOWN"));
  kernel.failAdds = null;
  clock.advance(RETRY_MS);
  await table.settled();
  assertEquals(kernel.table(198), ["192.0.2.10/32 #2 p248", "2001:db8::10/128 #3 p248"]);
});
