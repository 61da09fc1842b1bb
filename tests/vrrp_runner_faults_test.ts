/**
 * The runner never leaves an instance silent (issue 11 item 3), on in-memory hosts: more VIPs
 * than an advert holds are held but not listed (keepalived's eVIPs); an action or a timer that
 * throws puts the instance in FAULT with the reason, then it retries with a growing delay; a
 * stop goes through whatever throws.
 */
import { decodeAdvert } from "../lib/vrrp/packet.ts";
import { type InstanceSpec, INTERNAL_RETRY_MS, VrrpRunner } from "../lib/vrrp/runner.ts";
import type { Writer, WriterAction } from "../lib/vrrp/writer.ts";
import { assert, assertEquals } from "./helpers/assert.ts";
import { MemNet, stateLog } from "./helpers/vrrp_net.ts";
import { instanceSpec, vip } from "./helpers/vrrp_specs.ts";

function spec(vips: number, over: Partial<InstanceSpec> = {}): InstanceSpec {
  return instanceSpec({
    priority: 200,
    vips: Array.from({ length: vips }, (_, i) => ({
      ...vip(`10.${1 + Math.floor(i / 250)}.0.${1 + i % 250}`),
      prefix: 32,
    })),
    announce: { repeat: 1, delayMs: 0, refreshMs: 0, intervalMs: 0 },
    ...over,
  });
}

function node() {
  const net = new MemNet();
  const r1 = net.node("r1");
  r1.addLink("eth0", { addresses: ["10.0.0.1/24"] });
  return { net, r1 };
}

Deno.test("runner: 300 VIPs: MASTER with all 300, adverts list the first 255", async () => {
  const { net, r1 } = node();
  const r = new VrrpRunner(spec(300), r1.host());
  r.start();
  net.run(10_000);
  assertEquals(r.state, "MASTER");
  assertEquals(r.faults, []);
  assertEquals(r1.vips().length, 300);
  const adverts = net.packets.filter((p) => p.node === "r1");
  assert(adverts.length >= 3, `${adverts.length} adverts`);
  for (const p of adverts) {
    const d = decodeAdvert(p.payload, "ipv4");
    assert(d.ok);
    assertEquals(d.value.addresses.length, 255);
  }
  r.stop();
  await r.settled();
  assertEquals(r1.vips(), []);
});

Deno.test("runner: IPv6 holds 89 addresses per advert on a 1500-byte MTU, as keepalived", () => {
  const net = new MemNet();
  const r1 = net.node("r1");
  r1.addLink("eth0", { addresses: ["fe80::1/64"] });
  const v6 = spec(0, { family: "ipv6" });
  v6.vips = Array.from({ length: 100 }, (_, i) => ({
    ...spec(1).vips[0]!,
    family: "ipv6" as const,
    address: `fd00::${(i + 1).toString(16)}`,
    prefix: 128,
  }));
  const r = new VrrpRunner(v6, r1.host());
  r.start();
  net.run(5000);
  assertEquals(r.state, "MASTER");
  const p = net.packets.filter((x) => x.node === "r1").at(-1)!;
  const d = decodeAdvert(p.payload, "ipv6");
  assert(d.ok);
  assertEquals(d.value.addresses.length, 89);
  assert(
    r1.logLines.some((l) => l.includes("11 of 100 VIPs are not advertised")),
    r1.logLines.join("\n"),
  );
  r.stop();
});

/** A writer that throws on the actions named. */
function failing(on: WriterAction["type"][]): Writer {
  return {
    act: (a: WriterAction) => {
      if (on.includes(a.type)) throw new Error(`cannot ${a.type}`);
    },
    settled: () => Promise.resolve(),
    [Symbol.dispose]: () => {
      throw new Error("cannot dispose");
    },
  };
}

Deno.test("runner: an action that throws puts the instance in FAULT, visibly, then retries", () => {
  const { net, r1 } = node();
  const log = stateLog();
  const r = new VrrpRunner(spec(2), {
    ...r1.host({ onState: log.onState }),
    writers: () => [failing(["add-vips"])],
  });
  r.start();
  net.run(5000);
  assertEquals(r.state, "FAULT");
  assertEquals(r.faults, [
    'internal error: a writer on "add-vips" failed: cannot add-vips',
  ]);
  assert(
    r1.logLines.some((l) => l.includes(`instance in FAULT, retried in 10 s`)),
    r1.logLines.join("\n"),
  );
  // Retried after 10 s: BACKUP, MASTER, the same failure, FAULT again for 20 s.
  net.run(INTERNAL_RETRY_MS + 5000);
  assertEquals(r.state, "FAULT");
  assert(r1.logLines.some((l) => l.includes("retried in 20 s")), r1.logLines.join("\n"));
  assertEquals(log.lines.slice(0, 6), [
    "VI_1 INIT -> BACKUP",
    "VI_1 BACKUP -> MASTER",
    "VI_1 MASTER -> FAULT",
    "VI_1 FAULT -> BACKUP",
    "VI_1 BACKUP -> MASTER",
    "VI_1 MASTER -> FAULT",
  ]);
  // The master that faulted said goodbye (priority 0) each time.
  const prio = net.packets.filter((p) => p.node === "r1").map((p) => {
    const d = decodeAdvert(p.payload, "ipv4");
    return d.ok ? d.value.priority : -1;
  });
  assertEquals(prio.filter((x) => x === 0).length, 2);
  r.stop();
});

Deno.test("runner: a timer callback that throws faults the instance instead of silencing it", () => {
  const { net, r1 } = node();
  const host = r1.host();
  let polls = 0;
  // A BACKUP's timer reads its socket first: make that read throw, once.
  const transport = Object.create(host.transport) as typeof host.transport;
  transport.poll = (ifname, family) => {
    if (++polls === 1) throw new Error("timer bug");
    host.transport.poll(ifname, family);
  };
  const r = new VrrpRunner(spec(1), { ...host, transport });
  r.start();
  net.run(5000);
  assertEquals(r.state, "FAULT");
  assertEquals(r.faults, ["internal error: a timer failed: timer bug"]);
  net.run(INTERNAL_RETRY_MS + 5000);
  assertEquals(r.state, "MASTER");
  r.stop();
});

Deno.test("runner: stop goes through when the machine's actions and the writers throw", async () => {
  const { net, r1 } = node();
  const r = new VrrpRunner(spec(2), {
    ...r1.host(),
    writers: () => [failing(["remove-vips"])],
  });
  r.start();
  net.run(5000);
  assertEquals(r.state, "MASTER");
  r.stop();
  assertEquals(r.state, "INIT");
  await r.settled();
  assertEquals(r1.vips(), []);
  assert(r1.logLines.some((l) => l.includes("cannot dispose")), r1.logLines.join("\n"));
});
