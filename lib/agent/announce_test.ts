import { assertEquals } from "../../tests/helpers/assert.ts";
import { FakeKernel } from "../../tests/helpers/fake_routes.ts";
import type { AnnouncePlan } from "../announce/plan.ts";
import { FakeClock } from "../runtime/clock.ts";
import { Logger } from "../runtime/log.ts";
import { AnnounceRuntime } from "./announce.ts";

const PLAN: AnnouncePlan = {
  table: 198,
  protocol: 248,
  instances: [{
    name: "VI_1",
    addresses: [{ family: "ipv4", address: "192.0.2.10", device: "eth0" }],
  }],
  virtualServers: [{
    key: "TCP ipv4 198.51.100.60:53",
    name: "TCP 198.51.100.60:53",
    addresses: [{ family: "ipv4", address: "198.51.100.60" }],
  }],
};

function setup(kernel = new FakeKernel()) {
  const states: Record<string, string> = {};
  const rt = new AnnounceRuntime({
    writer: kernel,
    log: new Logger("t", { level: "error", sink: () => {}, json: false }),
    clock: new FakeClock(),
    linkIndex: (n) => ({ lo: 1, eth0: 2 } as Record<string, number>)[n] ?? null,
    instanceState: (n) => states[n] ?? null,
    holder: () => null,
  });
  return { kernel, rt, states };
}

const quorum = (up: boolean) => [{
  key: "TCP ipv4 198.51.100.60:53",
  up,
  upServers: up ? 1 : 0,
  servers: 1,
  aliveWeight: up ? 1 : 0,
  quorum: 1,
}];

Deno.test("announce runtime: the instance's writer and the quorum reports drive the table", async () => {
  const { kernel, rt, states } = setup();
  await rt.start(PLAN);
  const w = rt.writerFor("VI_1");
  rt.setQuorum(quorum(true));
  rt.complete();
  w.act({ type: "add-vips" });
  states["VI_1"] = "MASTER";
  await rt.settled();
  assertEquals(kernel.table(198), ["192.0.2.10/32 #2 p248", "198.51.100.60/32 #1 p248"]);
  assertEquals(rt.status()!.routes.map((r) => [r.prefix, r.announced, r.reasons[0]]), [
    ["192.0.2.10/32", true, "VI_1 MASTER"],
    [
      "198.51.100.60/32",
      true,
      "TCP 198.51.100.60:53 quorum up, 1/1 real servers up (weight 1, quorum 1)",
    ],
  ]);
  // Leaving MASTER: the writer hears remove-vips before the state changes.
  w.act({ type: "remove-vips" });
  rt.setQuorum(quorum(false));
  await rt.settled();
  assertEquals(kernel.table(198), []);
  // The load-balancer side died: no report, nothing vouches for the service.
  rt.setQuorum(quorum(true));
  await rt.settled();
  rt.setQuorum([]);
  await rt.settled();
  assertEquals(kernel.table(198), []);
  assertEquals(
    rt.status()!.routes[1]!.reasons[0],
    "TCP 198.51.100.60:53 quorum unknown (no report from the load-balancer side)",
  );
});

Deno.test("announce runtime: reload keeps what did not change, moves tables, stops with nothing left", async () => {
  const { kernel, rt } = setup();
  await rt.start(PLAN);
  rt.complete();
  rt.writerFor("VI_1").act({ type: "add-vips" });
  rt.setQuorum(quorum(true));
  await rt.settled();
  kernel.ops.length = 0;
  await rt.reload({ ...PLAN, virtualServers: [...PLAN.virtualServers] });
  await rt.settled();
  assertEquals(kernel.ops, [], "an equal plan writes nothing");
  await rt.reload({ ...PLAN, virtualServers: [] });
  await rt.settled();
  assertEquals(kernel.ops, ["delete 198.51.100.60/32 t198 p248"], "only the service leaves");
  kernel.ops.length = 0;
  await rt.reload({ ...PLAN, table: 200, virtualServers: [] });
  await rt.settled();
  assertEquals(kernel.table(198), []);
  assertEquals(kernel.table(200), ["192.0.2.10/32 #2 p248"]);
  await rt.reload({ ...PLAN, table: 200, instances: [], virtualServers: [] });
  assertEquals(kernel.table(200), [], "nothing announces: the table is emptied");
  assertEquals(rt.status(), null);
  await rt.reload({ ...PLAN, table: 200 });
  await rt.settled();
  assertEquals(kernel.table(200), ["192.0.2.10/32 #2 p248", "198.51.100.60/32 #1 p248"]);
  await rt.stop();
  assertEquals(kernel.table(200), []);
});
