/**
 * IpvsManager against the real IPVS of the guest kernel, checked with ipvsadm both ways:
 * what we program, ipvsadm lists; what ipvsadm restores, we dump.
 */

import { assert, assertEquals } from "../../helpers/assert.ts";
import { diff } from "../../../lib/ipvs/diff.ts";
import type { DesiredService, Destination, ServiceKey } from "../../../lib/ipvs/types.ts";
import { ipvsadmBlocks, ipvsUnavailable, loadedSchedulers, openManager, sh } from "./helpers.ts";

const ignore = ipvsUnavailable() !== null;

function d(
  address: string,
  port: number,
  forwarding: Destination["forwarding"],
  weight: number,
  extra: Partial<Destination> = {},
): Destination {
  return { address, port, forwarding, weight, upperThreshold: 0, lowerThreshold: 0, ...extra };
}

function s(
  key: ServiceKey,
  scheduler: string,
  destinations: Destination[],
  extra: Partial<DesiredService> = {},
): DesiredService {
  return {
    key,
    scheduler,
    flags: {},
    timeoutS: 0,
    netmask: key.family === "ipv4" ? "255.255.255.255" : "128",
    destinations,
    ...extra,
  };
}

const tcp = (address: string, port: number): ServiceKey => ({
  family: address.includes(":") ? "ipv6" : "ipv4",
  protocol: "tcp",
  address,
  port,
});

/** Every kind of service and destination, with what `ipvsadm -Ln` must show for each. */
function everyKind(): { desired: DesiredService[]; blocks: string[] } {
  const desired: DesiredService[] = [
    s(tcp("10.0.0.50", 80), "mh", [
      d("10.0.0.11", 80, "nat", 3, { upperThreshold: 100, lowerThreshold: 10 }),
      d("10.0.0.12", 80, "tun", 2, { tunnelType: "gue", tunnelPort: 6080 }),
      d("10.0.0.13", 80, "dr", 0),
    ], { flags: { mhFallback: true, mhPort: true } }),
    s({ family: "ipv4", protocol: "udp", address: "10.0.0.51", port: 53 }, "sh", [
      d("10.0.0.21", 53, "nat", 1),
    ], {
      flags: { shFallback: true, persistent: true, onePacket: true },
      timeoutS: 60,
      netmask: "255.255.255.0",
    }),
    s({ family: "ipv6", protocol: "sctp", address: "2001:db8::1", port: 3868 }, "wlc", [
      d("2001:db8::21", 3868, "dr", 5),
    ]),
    s(
      { family: "ipv6", fwmark: 9 },
      "rr",
      [d("2001:db8::11", 0, "tun", 1, { tunnelType: "gre" })],
      {
        flags: { persistent: true },
        timeoutS: 100,
        netmask: "64",
      },
    ),
    s({ family: "ipv4", fwmark: 10 }, "wrr", [d("10.0.0.31", 0, "dr", 1)]),
  ];
  const blocks = [
    "TCP 10.0.0.50:80 mh (mh-fallback,mh-port)\n-> 10.0.0.11:80 Masq 3 0 0\n" +
    "-> 10.0.0.12:80 Tunnel 2 0 0\n-> 10.0.0.13:80 Route 0 0 0",
    "UDP 10.0.0.51:53 sh (sh-fallback) persistent 60 mask 255.255.255.0 ops\n" +
    "-> 10.0.0.21:53 Masq 1 0 0",
    "SCTP [2001:db8::1]:3868 wlc\n-> [2001:db8::21]:3868 Route 5 0 0",
    "FWM 9 IPv6 rr persistent 100 mask 64\n-> [2001:db8::11]:0 Tunnel 1 0 0",
    "FWM 10 wrr\n-> 10.0.0.31:0 Route 1 0 0",
  ];
  loadedSchedulers().forEach((sched, i) => {
    desired.push(s(tcp(`10.0.1.${i + 1}`, 80), sched, [d(`10.0.2.${i + 1}`, 80, "dr", i + 1)]));
    blocks.push(`TCP 10.0.1.${i + 1}:80 ${sched}\n-> 10.0.2.${i + 1}:80 Route ${i + 1} 0 0`);
  });
  return { desired, blocks: blocks.sort() };
}

Deno.test({
  name: "vm: every kind of service programmed over netlink is what ipvsadm -Ln lists",
  ignore,
  fn: async () => {
    await sh(["ipvsadm", "-C"]);
    await using session = await openManager();
    const { desired, blocks } = everyKind();
    const r = await session.m.reconcile(desired);
    assertEquals(r.errors.map((e) => e.error.message), []);
    assertEquals(await ipvsadmBlocks(), blocks);
    const thresholds = (await ipvsadmBlocks(["--thresholds"])).find((b) =>
      b.startsWith("TCP 10.0.0.50")
    );
    assert(thresholds?.includes("-> 10.0.0.11:80 100 10 0 0"), `thresholds: ${thresholds}`);
    const tun = (await ipvsadmBlocks(["--tun-info"])).join("\n");
    assert(/-> 10\.0\.0\.12:80 Tunnel gue:6080/.test(tun), `tun-info: ${tun}`);
    assert(/-> \[2001:db8::11\]:0 Tunnel gre/.test(tun), `tun-info: ${tun}`);
    console.log(`programmed ${desired.length} services; ipvsadm -Ln agrees`);

    const info = await session.m.info();
    assertEquals(info, { version: "1.2.1", connTableSize: 4096 });
  },
});

Deno.test({
  name: "vm: what ipvsadm -R restores, dump decodes to the same state",
  ignore,
  fn: async () => {
    await sh(["ipvsadm", "-C"]);
    await using session = await openManager();
    const { desired } = everyKind();
    await session.m.reconcile(desired);
    const saved = await sh(["ipvsadm", "-Sn"]);
    await sh(["ipvsadm", "-C"]);
    assertEquals((await session.m.dump()).length, 0);
    await sh(["ipvsadm", "-R"], saved);
    const dumped = await session.m.dump();
    assertEquals(dumped.length, desired.length);
    // ipvsadm -S does not save thresholds: the restored destinations have none.
    const restorable = desired.map((x) => ({
      ...x,
      destinations: x.destinations.map((y) => ({ ...y, upperThreshold: 0, lowerThreshold: 0 })),
    }));
    assertEquals(diff(restorable, dumped, () => true), []);
    const web = dumped.find((x) => "address" in x.key && x.key.address === "10.0.0.50")!;
    const sorted = web.destinations.toSorted((a, b) => a.address.localeCompare(b.address));
    assertEquals(sorted.map((x) => [x.address, x.forwarding, x.weight]), [
      ["10.0.0.11", "nat", 3],
      ["10.0.0.12", "tun", 2],
      ["10.0.0.13", "dr", 0],
    ]);
    assertEquals(sorted[1]!.tunnelType, "gue");
    assertEquals(sorted[1]!.tunnelPort, 6080);
  },
});

Deno.test({
  name: "vm: edits and deletes reach the kernel",
  ignore,
  fn: async () => {
    await sh(["ipvsadm", "-C"]);
    await using session = await openManager();
    const { desired } = everyKind();
    await session.m.reconcile(desired);
    const first = desired[0]!;
    const changed = [
      {
        ...first,
        scheduler: "wlc",
        flags: { persistent: true },
        timeoutS: 30,
        destinations: [{
          ...first.destinations[0]!,
          weight: 7,
          upperThreshold: 0,
          lowerThreshold: 0,
        }],
      },
      ...desired.slice(1, 4),
    ];
    const r = await session.m.reconcile(changed);
    assertEquals(r.errors.map((e) => e.error.message), []);
    assertEquals(
      r.ops.map((o) => o.op).sort(),
      [
        "delete-dest",
        "delete-dest",
        ...Array(desired.length - 4).fill("delete-service"),
        "edit-dest",
        "edit-service",
      ].sort(),
    );
    const blocks = await ipvsadmBlocks();
    assertEquals(blocks.length, 4);
    assertEquals(
      blocks.find((b) => b.startsWith("TCP 10.0.0.50")),
      "TCP 10.0.0.50:80 wlc persistent 30\n-> 10.0.0.11:80 Masq 7 0 0",
    );
  },
});

Deno.test({
  name: "vm: the reconciler converges, repairs hand edits, and leaves foreign services alone",
  ignore,
  fn: async () => {
    await sh(["ipvsadm", "-C"]);
    await sh(["ipvsadm", "-A", "-t", "10.9.9.9:80", "-s", "rr"]);
    await using session = await openManager();
    const web = s(tcp("10.0.0.50", 80), "rr", [
      d("10.0.0.11", 80, "nat", 1),
      d("10.0.0.12", 80, "nat", 1),
      d("10.0.0.13", 80, "nat", 1),
    ]);
    const v6 = s(tcp("2001:db8::50", 443), "wlc", [d("2001:db8::11", 443, "dr", 2)]);
    const first = await session.m.reconcile([web, v6]);
    assertEquals(first.ops.length, 6);
    assertEquals(first.errors, []);
    const second = await session.m.reconcile([web, v6]);
    assertEquals(second.ops, [], "a second pass sends nothing");

    await sh(["ipvsadm", "-d", "-t", "10.0.0.50:80", "-r", "10.0.0.12:80"]);
    await sh(["ipvsadm", "-e", "-t", "10.0.0.50:80", "-r", "10.0.0.13:80", "-m", "-w", "9"]);
    const repair = await session.m.reconcile([web, v6]);
    assertEquals(repair.ops.map((o) => o.op), ["add-dest", "edit-dest"]);
    const repaired = (await ipvsadmBlocks()).find((b) => b.startsWith("TCP 10.0.0.50"));
    assertEquals(repaired?.split("\n").sort(), [
      "-> 10.0.0.11:80 Masq 1 0 0",
      "-> 10.0.0.12:80 Masq 1 0 0",
      "-> 10.0.0.13:80 Masq 1 0 0",
      "TCP 10.0.0.50:80 rr",
    ]);

    const drop = await session.m.reconcile([v6]);
    assertEquals(drop.ops, [{ op: "delete-service", key: web.key }]);
    assertEquals((await ipvsadmBlocks()).map((b) => b.split("\n")[0]), [
      "TCP 10.9.9.9:80 rr",
      "TCP [2001:db8::50]:443 wlc",
    ]);
    await session.m.reconcile([]);
    assertEquals(await ipvsadmBlocks(), ["TCP 10.9.9.9:80 rr"], "the foreign service stays");

    // Errors are reported, not thrown: a destination for a service that is gone.
    const errs = await session.m.apply([{
      op: "add-dest",
      key: web.key,
      dest: web.destinations[0]!,
    }]);
    assertEquals(errs.length, 1);
    assert(session.lines.some((l) => l.includes("TCP 10.0.0.50:80 -> 10.0.0.11:80")), "logged");
    await session.m.flush();
    assertEquals(await ipvsadmBlocks(), []);
  },
});

Deno.test({
  name: "vm: a batch with failures in the middle: each refusal names its op, the rest applies",
  ignore,
  fn: async () => {
    await sh(["ipvsadm", "-C"]);
    await using session = await openManager();
    const a = s(tcp("10.0.1.1", 80), "rr", []);
    const b = s(tcp("10.0.1.2", 80), "rr", []);
    const gone = tcp("10.0.1.3", 80);
    const ops = [
      { op: "add-service" as const, service: a },
      { op: "add-dest" as const, key: gone, dest: d("10.0.2.1", 80, "nat", 1) },
      { op: "add-dest" as const, key: a.key, dest: d("10.0.2.2", 80, "nat", 1) },
      { op: "add-service" as const, service: a },
      { op: "add-service" as const, service: b },
      { op: "add-dest" as const, key: b.key, dest: d("10.0.2.3", 80, "nat", 2) },
      { op: "add-dest" as const, key: b.key, dest: d("10.0.2.3", 80, "nat", 2) },
    ];
    // Hundreds of ops in one pass: several datagrams, failures spread through them.
    for (let i = 0; i < 600; i++) {
      ops.push({ op: "add-dest", key: a.key, dest: d(`10.0.3.${i % 250}`, 1000 + i, "nat", 1) });
      if (i % 150 === 0) ops.push({ op: "add-dest", key: gone, dest: d("10.0.2.9", i, "nat", 1) });
    }
    const errs = await session.m.apply(ops);
    assertEquals(errs.map((e) => [ops.indexOf(e.op as (typeof ops)[number]), e.op.op]), [
      [1, "add-dest"],
      [3, "add-service"],
      [6, "add-dest"],
      ...[0, 150, 300, 450].map((i) => [8 + i + i / 150, "add-dest"]),
    ]);
    assertEquals(errs.map((e) => (e.error as { code?: string }).code), [
      "ESRCH",
      "EEXIST",
      "EEXIST",
      "ESRCH",
      "ESRCH",
      "ESRCH",
      "ESRCH",
    ]);
    const dumped = await session.m.dump();
    const sizes = dumped.map((x) => [x.key, x.destinations.length] as const);
    assertEquals(sizes.toSorted((x, y) => y[1] - x[1]), [[a.key, 601], [b.key, 1]]);
  },
});
