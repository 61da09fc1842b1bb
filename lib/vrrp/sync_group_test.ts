import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { VrrpNet } from "../../tests/helpers/vrrp_net.ts";
import { SyncGroup, type SyncGroupChange } from "./sync_group.ts";

/** Two nodes, each with VI_1 (vrid 1) and VI_2 (vrid 2) in one sync group. */
function twoNodes(prio: { r1: [number, number]; r2: [number, number] }) {
  const net = new VrrpNet({ delayMs: 1 });
  const changes: (SyncGroupChange & { atMs: number })[] = [];
  const groups = new Map<string, SyncGroup>();
  for (const node of ["r1", "r2"] as const) {
    const [p1, p2] = prio[node];
    const a = net.add(`${node}/VI_1`, { node, vrid: 1, priority: p1 });
    const b = net.add(`${node}/VI_2`, { node, vrid: 2, priority: p2 });
    const g = new SyncGroup(
      `G_${node}`,
      [a.inst, b.inst],
      (c) => changes.push({ ...c, atMs: net.clock.now() }),
    );
    groups.set(node, g);
  }
  const states = (node: string) => [
    net.router(`${node}/VI_1`).state,
    net.router(`${node}/VI_2`).state,
  ];
  return { net, changes, groups, states };
}

Deno.test("sync group: members become MASTER together after the last down timer", () => {
  const { net, changes, states } = twoNodes({ r1: [200, 150], r2: [100, 100] });
  net.start();
  // VI_1 (200) fires at 3218.75 ms but waits for VI_2 (150), whose timer fires at 3414.0625.
  net.run(3414);
  assertEquals(states("r1"), ["BACKUP", "BACKUP"]);
  assert(net.router("r1/VI_1").inst.wantsMaster);
  net.run(1);
  assertEquals(states("r1"), ["MASTER", "MASTER"]);
  assertEquals(states("r2"), ["BACKUP", "BACKUP"]);
  net.run(60_000);
  assertEquals(states("r1"), ["MASTER", "MASTER"]);
  assertEquals(states("r2"), ["BACKUP", "BACKUP"]);
  assertEquals(changes.map((c) => `${c.group}:${c.to}`), [
    "G_r1:BACKUP",
    "G_r2:BACKUP",
    "G_r1:MASTER",
  ]);
  assertEquals(net.errors, []);
});

Deno.test("sync group: one member FAULT takes the group to FAULT; peers take over in Skew_Time", () => {
  const { net, changes, states } = twoNodes({ r1: [200, 200], r2: [100, 100] });
  net.start();
  net.run(10_000);
  assertEquals(states("r1"), ["MASTER", "MASTER"]);
  net.router("r1/VI_1").inst.setFault("link", true, "eth0 down");
  assertEquals(states("r1"), ["FAULT", "FAULT"]);
  assertEquals(net.actionTypes("r1/VI_2", 10_000, 10_000), [
    "send-advert:0",
    "remove-vips",
    "state",
  ]);
  // Both r2 members got priority 0 at 10.001 s: Skew_Time 609.375 ms later they are MASTER.
  net.run(610.375);
  assertEquals(states("r2"), ["MASTER", "MASTER"]);
  assertEquals(net.transitionsTo("r2/VI_2", "MASTER"), [10_610.375]);
  net.run(30_000);
  assertEquals(states("r1"), ["FAULT", "FAULT"]);
  net.router("r1/VI_1").inst.setFault("link", false, "eth0 up");
  assertEquals(states("r1"), ["BACKUP", "BACKUP"]);
  net.run(3218.75);
  assertEquals(states("r1"), ["MASTER", "MASTER"]);
  net.run(10);
  assertEquals(states("r2"), ["BACKUP", "BACKUP"]);
  assertEquals(
    changes.filter((c) => c.group === "G_r1").map((c) => c.to),
    ["BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"],
  );
  assertEquals(net.errors, []);
});

Deno.test("sync group: the group leaves FAULT only when no member is faulty", () => {
  const { net, states } = twoNodes({ r1: [200, 200], r2: [100, 100] });
  net.start();
  const [a, b] = [net.router("r1/VI_1").inst, net.router("r1/VI_2").inst];
  a.setFault("link", true, "eth0 down");
  b.setFault("link", true, "eth1 down");
  a.setFault("link", false, "eth0 up");
  assertEquals(states("r1"), ["FAULT", "FAULT"]);
  b.setFault("link", false, "eth1 up");
  assertEquals(states("r1"), ["BACKUP", "BACKUP"]);
});

Deno.test("sync group: a member forced to BACKUP brings the others; no flapping afterwards", () => {
  const { net, states } = twoNodes({ r1: [200, 200], r2: [255, 100] });
  net.start("r1/VI_1", "r1/VI_2");
  net.run(10_000);
  assertEquals(states("r1"), ["MASTER", "MASTER"]);
  net.start("r2/VI_1", "r2/VI_2");
  // The owner goes MASTER at once and drags r2/VI_2 along; r1 hears the owner 1 ms later.
  assertEquals(states("r2"), ["MASTER", "MASTER"]);
  net.run(1);
  assertEquals(states("r1"), ["BACKUP", "BACKUP"]);
  const before = net.actions.filter((a) => a.action.type === "state").length;
  net.run(120_000);
  assertEquals(states("r1"), ["BACKUP", "BACKUP"]);
  assertEquals(states("r2"), ["MASTER", "MASTER"]);
  assertEquals(net.actions.filter((a) => a.action.type === "state").length, before);
  assert(net.router("r1/VI_2").inst.wantsMaster, "VI_2 alone would preempt; the group holds it");
  assert(net.maxDualMasterMs(2) <= 1);
});

Deno.test("sync group: prefers BACKUP when members disagree (keepalived anti-thrash)", () => {
  const { net, states } = twoNodes({ r1: [200, 200], r2: [100, 250] });
  net.start();
  net.run(60_000);
  // r2/VI_2 (250) would preempt alone, but r2/VI_1 hears a better master: r2 stays BACKUP.
  assertEquals(states("r1"), ["MASTER", "MASTER"]);
  assertEquals(states("r2"), ["BACKUP", "BACKUP"]);
  assertEquals(net.transitionsTo("r1/VI_1", "MASTER").length, 1);
});

Deno.test("sync group: dispose releases gates and group faults", () => {
  const { net, groups, states } = twoNodes({ r1: [200, 150], r2: [100, 100] });
  net.router("r1/VI_1").inst.setFault("link", true, "x");
  net.start();
  assertEquals(states("r1"), ["FAULT", "FAULT"]);
  groups.get("r1")![Symbol.dispose]();
  assertEquals(states("r1"), ["FAULT", "BACKUP"]);
  groups.get("r2")![Symbol.dispose]();
  net.run(3609.375 + 2);
  // Without groups r1/VI_2 (150) takes VRID 2 on its own; r2/VI_1 takes VRID 1.
  assertEquals(states("r1"), ["FAULT", "MASTER"]);
  assertEquals(states("r2"), ["MASTER", "BACKUP"]);
});
