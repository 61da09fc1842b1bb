/**
 * The runner's keepalived options on in-memory hosts (tests/helpers/vrrp_net.ts): guard writers
 * (no_accept firewall rules) around the VIPs, check_unicast_src, a VMAC's interfaces, and the
 * "lower-priority" action reaching the announcer. No root, deterministic.
 */
import { type InstanceSpec, VrrpRunner } from "../lib/vrrp/runner.ts";
import type { Writer, WriterAction } from "../lib/vrrp/writer.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { MemNet, type MemNode, stateLog } from "./helpers/vrrp_net.ts";
import { instanceSpec, vip } from "./helpers/vrrp_specs.ts";

function spec(over: Partial<InstanceSpec> = {}): InstanceSpec {
  return instanceSpec({
    vips: [vip("10.0.0.100")],
    announce: { repeat: 1, delayMs: 0, refreshMs: 0, intervalMs: 0 },
    ...over,
  });
}

function node(net: MemNet, name: string, addr: string): MemNode {
  const n = net.node(name);
  n.addLink("eth0", { addresses: [`${addr}/24`] });
  return n;
}

/** A writer that notes its actions in the node's kernel log, to see the order. */
class Noting implements Writer {
  readonly #ops: string[];
  constructor(ops: string[]) {
    this.#ops = ops;
  }
  act(a: WriterAction): void {
    if (a.type === "add-vips" || a.type === "remove-vips") this.#ops.push(`guard ${a.type}`);
  }
  settled(): Promise<void> {
    return Promise.resolve();
  }
  [Symbol.dispose](): void {}
}

Deno.test("runner: guard writers act before the VIPs are added and after they are removed", () => {
  const net = new MemNet();
  const r1 = node(net, "r1", "10.0.0.1");
  const host = { ...r1.host(), guards: () => [new Noting(r1.ops)] };
  const r = new VrrpRunner(spec({ priority: 255 }), host);
  r.start();
  r.stop();
  assertEquals(r1.ops, [
    "guard add-vips",
    "add 10.0.0.100/24 eth0",
    "del 10.0.0.100/24 eth0",
    "guard remove-vips",
  ]);
});

Deno.test("runner: check_unicast_src false takes adverts from a source that is not a peer", () => {
  for (const check of [true, false]) {
    const net = new MemNet();
    const r1 = node(net, "r1", "10.0.0.1");
    const r2 = node(net, "r2", "10.0.0.2");
    const log = stateLog();
    const a = new VrrpRunner(
      spec({ priority: 200, unicastPeers: ["10.0.0.2"] }),
      r1.host({ onState: log.onState }),
    );
    // r2 lists a peer that does not exist: only check_unicast_src decides.
    const b = new VrrpRunner(
      spec({ priority: 100, unicastPeers: ["10.0.0.9"], checkUnicastSrc: check }),
      r2.host({ onState: log.onState }),
    );
    a.start();
    b.start();
    net.run(10_000);
    assertEquals(a.state, "MASTER");
    assertEquals(b.state, check ? "MASTER" : "BACKUP", `check_unicast_src ${check}`);
    assertEquals(b.peerDrops > 0, check);
  }
});

Deno.test("runner: a VMAC holds the VIPs and sends the adverts from the base's IPv4 address", () => {
  for (const xmitBase of [false, true]) {
    const net = new MemNet();
    const r1 = node(net, "r1", "10.0.0.1");
    // The macvlan: on the same wire as eth0, no address of its own.
    r1.addLink("vrrp.51", { wire: "eth0" });
    const r = new VrrpRunner(
      spec({ priority: 255, vmac: { name: "vrrp.51", xmitBase } }),
      r1.host(),
    );
    r.start();
    net.run(1000);
    assertEquals(r.state, "MASTER");
    assertEquals(r1.ops, ["add 10.0.0.100/24 vrrp.51"]);
    const sent = net.packets.filter((p) => p.node === "r1");
    assert(sent.length >= 2);
    assert(sent.every((p) => p.src === "10.0.0.1"), "from the base's address");
    assert(
      sent.every((p) => p.ifname === (xmitBase ? "eth0" : "vrrp.51")),
      `adverts on ${sent.map((p) => p.ifname)}`,
    );
    assert(r1.frames.every((f) => f.ifname === "vrrp.51"), "GARPs from the VMAC");
    r.stop();
  }
});

Deno.test("runner: a lower-priority advert sends garp_lower_prio_repeat GARPs", () => {
  const net = new MemNet();
  const r1 = node(net, "r1", "10.0.0.1");
  const r2 = node(net, "r2", "10.0.0.2");
  const a = new VrrpRunner(
    spec({
      priority: 200,
      announce: { repeat: 1, delayMs: 0, refreshMs: 0, intervalMs: 0, lowerPrioRepeat: 3 },
    }),
    r1.host(),
  );
  a.start();
  net.run(4000);
  assertEquals(a.state, "MASTER");
  const before = r1.frames.length;
  // A lower-priority router that also thinks it is master (it cannot hear r1).
  net.loss = (p) => p.node === "r1";
  const b = new VrrpRunner(spec({ priority: 100 }), r2.host());
  b.start();
  net.run(3700);
  assertEquals(b.state, "MASTER");
  const after = r1.frames.length - before;
  // Every advert from r2 (about one a second) draws 3 GARPs from r1.
  assert(after >= 3 && after % 3 === 0, `${after} GARPs`);
  b.stop();
  a.stop();
});
