/**
 * The VRRP runner on in-memory hosts (tests/helpers/vrrp_net.ts): real adverts (encoded,
 * checksummed, validated) between nodes, a kernel table that answers as rtnetlink does, a
 * fake clock. No root, no sockets, deterministic.
 */
import { Errno } from "../ffi/errno.ts";
import { decodeAdvert } from "../lib/vrrp/packet.ts";
import { type InstanceSpec, VrrpRunner } from "../lib/vrrp/runner.ts";
import { SyncGroup } from "../lib/vrrp/sync_group.ts";
import type { Writer, WriterAction } from "../lib/vrrp/writer.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { MemNet, type MemNode, stateLog } from "./helpers/vrrp_net.ts";
import { instanceSpec, vip } from "./helpers/vrrp_specs.ts";

const spec = instanceSpec;

/** Two nodes on one wire, r1 at .1 and r2 at .2 (eth0). */
function pair() {
  const net = new MemNet();
  const r1 = net.node("r1");
  r1.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  const r2 = net.node("r2");
  r2.addLink("eth0", { addresses: ["10.0.0.2/24"] });
  return { net, r1, r2 };
}

/** Priorities of the adverts `node` sent, in order. */
function advertPriorities(net: MemNet, node: string): number[] {
  return net.packets.filter((p) => p.node === node).map((p) => {
    const d = decodeAdvert(p.payload, "ipv4");
    if (!d.ok) throw new Error(`bad advert: ${d.reason}`);
    return d.value.priority;
  });
}

function runner(node: MemNode, s: InstanceSpec, onState = stateLog()): VrrpRunner {
  return new VrrpRunner(s, node.host({ onState: onState.onState }));
}

Deno.test("runner: two nodes elect one master; real adverts pass the receive checks", async () => {
  const { net, r1, r2 } = pair();
  const log = stateLog();
  const a = runner(r1, spec({ priority: 200 }), log);
  const b = runner(r2, spec({ priority: 100 }), log);
  a.start();
  b.start();
  net.run(10_000);
  assertEquals([a.state, b.state], ["MASTER", "BACKUP"]);
  assertEquals(r1.vips(), ["10.0.0.100", "10.0.0.101"]);
  assertEquals(r2.vips(), []);
  assertEquals(b.masterAddress, "10.0.0.1");
  assertEquals(a.masterAddress, "10.0.0.1");
  assertEquals(Object.values(b.counters.snapshot()).reduce((x, y) => x + y, 0), 0);
  assert(b.instance.stats().advertsReceived >= 6, "the backup hears the master");
  assertEquals(log.lines, ["VI_1 INIT -> BACKUP", "VI_1 INIT -> BACKUP", "VI_1 BACKUP -> MASTER"]);
  a.stop();
  b.stop();
  await Promise.all([a.settled(), b.settled()]);
});

Deno.test("runner: VIPs, routes, rules on the way up, announcements after; reverse on the way down", async () => {
  const net = new MemNet();
  const r1 = net.node("r1");
  r1.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  r1.addLink("eth1", { addresses: ["10.1.0.1/24"] });
  const r = runner(
    r1,
    spec({
      priority: 255,
      vips: [vip("10.0.0.100"), vip("10.1.0.100", "eth1"), vip("10.0.0.101")],
      routes: [{
        family: "ipv4",
        to: "10.9.0.0",
        prefix: 16,
        via: "10.0.0.254",
        src: null,
        device: null,
        table: null,
        metric: null,
        type: "unicast",
        scope: "global",
        onlink: false,
      }],
      rules: [{
        family: "ipv4",
        action: "table",
        table: 100,
        from: { address: "10.0.0.100", prefix: 32 },
      }],
    }),
  );
  r.start();
  await r.settled();
  assertEquals(r1.ops, [
    "add 10.0.0.100/24 eth0",
    "add 10.1.0.100/24 eth1",
    "add 10.0.0.101/24 eth0",
    "add-route 10.9.0.0/16",
    "add-rule rule from 10.0.0.100/32 lookup 100",
  ]);
  // garp_master_repeat 2: each VIP twice, on its own interface, repeat outer.
  assertEquals(r1.frames.map((f) => `${f.ifname} ${f.address}`), [
    "eth0 10.0.0.100",
    "eth1 10.1.0.100",
    "eth0 10.0.0.101",
    "eth0 10.0.0.100",
    "eth1 10.1.0.100",
    "eth0 10.0.0.101",
  ]);
  assertEquals(advertPriorities(net, "r1"), [255]);
  r1.ops.length = 0;
  r.stop();
  await r.settled();
  assertEquals(r1.ops, [
    "del-rule rule from 10.0.0.100/32 lookup 100",
    "del-route 10.9.0.0/16",
    "del 10.0.0.100/24 eth0",
    "del 10.1.0.100/24 eth1",
    "del 10.0.0.101/24 eth0",
  ]);
  assertEquals(advertPriorities(net, "r1"), [255, 0], "priority 0 on stop");
  assertEquals(r.state, "INIT");
});

Deno.test("runner: priority 0 on stop lets the backup take over in Skew_Time", async () => {
  const { net, r1, r2 } = pair();
  const a = runner(r1, spec({ priority: 200 }));
  const b = runner(r2, spec({ priority: 100 }));
  a.start();
  b.start();
  net.run(5000);
  assertEquals(a.state, "MASTER");
  const stoppedAt = net.clock.now();
  a.stop();
  await a.settled();
  assertEquals(r1.vips(), []);
  assertEquals(advertPriorities(net, "r1").at(-1), 0);
  // Skew_Time for priority 100 at 1 s: (256 - 100) / 256 s = 609.375 ms (+1 ms wire delay).
  net.run(611);
  assertEquals(b.state, "MASTER");
  assert(net.clock.now() - stoppedAt < 1000, "not Master_Down_Interval (3.6 s)");
  assertEquals(r2.vips(), ["10.0.0.100", "10.0.0.101"]);
  b.stop();
});

Deno.test("runner: interface deleted while MASTER is FAULT; its return is BACKUP, then MASTER", async () => {
  const { net, r1, r2 } = pair();
  const log = stateLog();
  const a = runner(r1, spec({ priority: 200 }), log);
  const b = runner(r2, spec({ priority: 100 }));
  a.start();
  b.start();
  net.run(5000);
  assertEquals(a.state, "MASTER");
  r1.deleteLink("eth0");
  a.refresh();
  await a.settled();
  assertEquals(a.state, "FAULT");
  assertEquals(a.reason, 'interface "eth0" was deleted');
  assertEquals(a.faults, ['interface "eth0" was deleted']);
  assert(!a.vipsInstalled);
  // The interface is gone, so its priority 0 cannot reach r2: r2 waits out its
  // Master_Down_Interval (3609 ms) from a's last advert at 4219 ms, not Skew_Time.
  net.run(2500);
  assertEquals(b.state, "BACKUP");
  net.run(500);
  assertEquals(b.state, "MASTER");
  // Back, with a new index: r1 binds again and preempts.
  r1.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  a.refresh();
  assertEquals(a.state, "BACKUP");
  net.run(4000);
  assertEquals([a.state, b.state], ["MASTER", "BACKUP"]);
  assertEquals(r1.vips(), ["10.0.0.100", "10.0.0.101"]);
  assertEquals(log.lines, [
    "VI_1 INIT -> BACKUP",
    "VI_1 BACKUP -> MASTER",
    "VI_1 MASTER -> FAULT",
    "VI_1 FAULT -> BACKUP",
    "VI_1 BACKUP -> MASTER",
  ]);
  const waiting = r1.logLines.filter((l) =>
    /was deleted: instance in FAULT until it appears/.test(l)
  );
  assertEquals(waiting.length, 1, r1.logLines.join("\n"));
  a.stop();
  b.stop();
});

Deno.test("runner: interface down is FAULT with priority 0 intent; up again is BACKUP", () => {
  const { net, r1, r2 } = pair();
  const a = runner(r1, spec({ priority: 200 }));
  const b = runner(r2, spec({ priority: 100 }));
  a.start();
  b.start();
  net.run(5000);
  r1.setUp("eth0", false);
  a.refresh();
  assertEquals(a.state, "FAULT");
  assertEquals(a.faults, ["interface eth0 down"]);
  assertEquals(a.instance.stats().priorityZeroSent, 1, "the machine asked for priority 0");
  r1.setUp("eth0", true);
  a.refresh();
  assertEquals(a.state, "BACKUP");
  assertEquals(a.reason, "fault cleared: interface eth0 up");
  net.run(5000);
  assertEquals(a.state, "MASTER");
  a.stop();
  b.stop();
});

Deno.test("runner: FAULT from each source, and out of it", () => {
  const net = new MemNet();
  const n = net.node("r1");
  // 1. The interface does not exist at start.
  const missing = runner(n, spec({ name: "missing", interface: "eth9" }));
  missing.start();
  assertEquals(missing.state, "FAULT");
  assertEquals(missing.faults, ['interface "eth9" does not exist']);
  // 2. It appears down and without an address; then gets one; then comes up.
  n.addLink("eth9", { up: false });
  missing.refresh();
  assertEquals(missing.faults, ['interface "eth9" has no IPv4 address']);
  n.addAddress("eth9", "10.9.0.1/24");
  missing.refresh();
  assertEquals([missing.state, missing.faults], ["FAULT", ["interface eth9 down"]]);
  n.setUp("eth9", true);
  missing.refresh();
  assertEquals([missing.state, missing.faults], ["BACKUP", []]);
  const lines = n.logLines.filter((l) => /instance in FAULT/.test(l));
  assertEquals(lines.length, 2, lines.join("\n"));
  assertMatch(lines[0]!, /"eth9" does not exist: instance in FAULT until it appears/);
  assertMatch(lines[1]!, /"eth9" has no IPv4 address: instance in FAULT until it has one/);
  // 3. Its sockets cannot be opened (a VRID used twice on one interface).
  n.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  const first = runner(n, spec({ name: "first" }));
  first.start();
  const twice = runner(n, spec({ name: "twice" }));
  twice.start();
  assertEquals(twice.state, "FAULT");
  assertMatch(twice.faults[0]!, /VRID 51 is already in use on eth0/);
  first.stop();
  twice.refresh();
  assertEquals(twice.state, "BACKUP");
  // 4. Tracking with weight 0 failing, with a priority change.
  twice.setTracking(true, ["script chk failing"], 90);
  assertEquals([twice.state, twice.faults], ["FAULT", ["script chk failing"]]);
  assertEquals(twice.effectivePriority, 90);
  twice.setTracking(false, [], 90);
  assertEquals([twice.state, twice.reason], ["BACKUP", "fault cleared: tracking ok"]);
  // 5. A sync group member is faulty.
  const peer = runner(n, spec({ name: "peer", vrid: 52 }));
  peer.start();
  using _group = new SyncGroup("G", [twice.instance, peer.instance]);
  n.setUp("eth0", false);
  twice.refresh();
  assertEquals(twice.state, "FAULT");
  assertEquals(peer.state, "FAULT", "held by the group");
  assertEquals(peer.faults, [], "not its own fault");
  n.setUp("eth0", true);
  twice.refresh();
  assertEquals([twice.state, peer.state], ["BACKUP", "BACKUP"]);
  for (const r of [missing, twice, peer]) r.stop();
});

Deno.test("runner: a VIP removed by hand while MASTER is put back and announced", async () => {
  const net = new MemNet();
  const n = net.node("r1");
  const eth0 = n.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  const r = runner(n, spec({ priority: 255 }));
  r.start();
  await r.settled();
  const framesBefore = n.frames.length;
  assert(n.removeAddress("eth0", "10.0.0.101"));
  r.addressDeleted(eth0.index, new Uint8Array([10, 0, 0, 101]));
  await r.settled();
  assertEquals(n.vips(), ["10.0.0.100", "10.0.0.101"]);
  assertEquals(n.frames.slice(framesBefore).map((f) => f.address), ["10.0.0.101", "10.0.0.101"]);
  assert(n.logLines.some((l) => /10\.0\.0\.101\/24 was removed by hand/.test(l)));
  // Not ours (or not held): nothing happens.
  r.addressDeleted(eth0.index, new Uint8Array([10, 0, 0, 7]));
  r.stop();
  await r.settled();
  r.addressDeleted(eth0.index, new Uint8Array([10, 0, 0, 100]));
  await r.settled();
  assertEquals(n.vips(), []);
});

Deno.test("runner: kernel answers: EEXIST on add is quiet, another errno is logged by name", async () => {
  const net = new MemNet();
  const n = net.node("r1");
  n.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  n.failNext.push(Errno.EEXIST, Errno.EPERM);
  const r = runner(n, spec({ priority: 255 }));
  r.start();
  await r.settled();
  const errors = n.logLines.filter((l) => l.includes("ERROR"));
  assertEquals(errors.length, 1, errors.join("\n"));
  assertMatch(errors[0]!, /cannot add VIP: r1: netlink: EPERM \(Operation not permitted\)/);
  r.stop();
});

Deno.test("runner: adverts waiting in a stalled socket are read before the down timer acts", () => {
  const { net, r1, r2 } = pair();
  const a = runner(r1, spec({ priority: 200, version: 3, advertIntervalCs: 10 }));
  const b = runner(r2, spec({ priority: 100, version: 3, advertIntervalCs: 10 }));
  a.start();
  b.start();
  net.run(1000);
  assertEquals([a.state, b.state], ["MASTER", "BACKUP"]);
  // r2's loop stalls: adverts pile up unread for longer than Master_Down_Interval (361 ms).
  r2.stall(true);
  net.run(2000);
  assertEquals(b.state, "BACKUP", "the waiting adverts proved the master alive");
  // The master really goes away: with nothing waiting, the timer takes over.
  a.stop();
  r2.stall(false);
  net.run(1000);
  assertEquals(b.state, "MASTER");
  b.stop();
});

Deno.test("runner: unicast peers; adverts from others are dropped and counted", () => {
  const net = new MemNet();
  const [r1, r2, r3] = ["r1", "r2", "r3"].map((name, i) => {
    const n = net.node(name);
    n.addLink("eth0", { addresses: [`10.0.0.${i + 1}/24`] });
    return n;
  }) as [MemNode, MemNode, MemNode];
  const a = runner(r1, spec({ priority: 200, unicastPeers: ["10.0.0.2"] }));
  const b = runner(r2, spec({ priority: 100, unicastPeers: ["10.0.0.1"] }));
  // r3 multicasts to the group: r2 hears none of it (not a peer).
  const c = runner(r3, spec({ priority: 250, unicastPeers: ["10.0.0.2"] }));
  a.start();
  b.start();
  net.run(5000);
  assertEquals([a.state, b.state], ["MASTER", "BACKUP"]);
  assertEquals(b.peerDrops, 0);
  c.start();
  net.run(5000);
  assert(b.peerDrops > 0, "r3 is not r2's peer");
  assertEquals(b.masterAddress, "10.0.0.1");
  assert(net.packets.every((p) => p.dst !== "224.0.0.18"), "unicast only");
  for (const r of [a, b, c]) r.stop();
});

Deno.test("runner: a reload's new priority goes out in the next advert; owners refuse", () => {
  const net = new MemNet();
  const n = net.node("r1");
  n.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  const r = runner(n, spec({ priority: 100 }));
  r.start();
  net.run(4000);
  assertEquals(r.state, "MASTER");
  r.setBasePriority(150);
  net.run(1000);
  assertEquals(advertPriorities(net, "r1").at(-1), 150);
  assertEquals(r.spec.priority, 150);
  const owner = runner(n, spec({ name: "owner", vrid: 9, priority: 255 }));
  let refused = false;
  try {
    owner.setBasePriority(100);
  } catch (e) {
    refused = e instanceof RangeError;
  }
  assert(refused);
  r.stop();
});

Deno.test("runner: added writers run after the built-in ones and release first", async () => {
  const net = new MemNet();
  const n = net.node("r1");
  n.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  const seen: string[] = [];
  const recorder = (name: string): Writer => ({
    act: (a: WriterAction) => {
      seen.push(`${name} ${a.type === "state" ? `state ${a.to}` : a.type} (${n.vips().length})`);
    },
    settled: () => Promise.resolve(),
    [Symbol.dispose]: () => seen.push(`${name} dispose`),
  });
  const host = n.host();
  const r = new VrrpRunner(spec({ priority: 255 }), {
    ...host,
    writers: () => [recorder("fw"), recorder("bgp")],
  });
  r.start();
  await r.settled();
  r.stop();
  await r.settled();
  assertEquals(seen, [
    // Up: after the VIPs are in (2), in list order.
    "fw add-vips (2)",
    "bgp add-vips (2)",
    "fw announce (2)",
    "bgp announce (2)",
    "fw state MASTER (2)",
    "bgp state MASTER (2)",
    // Down: reverse order, before the VIPs go.
    "bgp remove-vips (2)",
    "fw remove-vips (2)",
    "fw state INIT (0)",
    "bgp state INIT (0)",
    "fw dispose",
    "bgp dispose",
  ]);
});
