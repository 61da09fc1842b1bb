/**
 * IPVS programming speed, in the qemu guest (`deno run -A tests/vm/run.ts --bench`):
 * 1,000 services x 10 destinations from empty with IpvsManager, then the same rules with
 * `ipvsadm -R`, each on freshly loaded ip_vs modules (deleted destinations linger on the
 * kernel's dest trash and slow later adds); a second reconcile pass and a dump. Prints figures,
 * asserts nothing.
 *
 * @module
 */

import { Reactor } from "../ffi/reactor.ts";
import { IpvsManager } from "../lib/ipvs/manager.ts";
import type { DesiredService } from "../lib/ipvs/types.ts";
import { Logger } from "../lib/runtime/log.ts";
import { sh } from "../tests/vm/guest/helpers.ts";

const SERVICES = Number(Deno.env.get("IPVS_BENCH_SERVICES") ?? 1000);
const DESTS = Number(Deno.env.get("IPVS_BENCH_DESTS") ?? 10);

function desired(): DesiredService[] {
  const out: DesiredService[] = [];
  for (let i = 0; i < SERVICES; i++) {
    out.push({
      key: {
        family: "ipv4",
        protocol: "tcp",
        address: `10.${100 + (i >> 8)}.${i & 255}.1`,
        port: 80,
      },
      scheduler: "wlc",
      flags: {},
      timeoutS: 0,
      netmask: "255.255.255.255",
      destinations: Array.from({ length: DESTS }, (_, j) => ({
        address: `10.${200 + (i >> 8)}.${i & 255}.${j + 10}`,
        port: 8080,
        forwarding: "nat" as const,
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
      })),
    });
  }
  return out;
}

function rules(ds: DesiredService[]): string {
  const lines: string[] = [];
  for (const s of ds) {
    if (!("address" in s.key)) continue;
    const svc = `${s.key.address}:${s.key.port}`;
    lines.push(`-A -t ${svc} -s ${s.scheduler}`);
    for (const d of s.destinations) lines.push(`-a -t ${svc} -r ${d.address}:${d.port} -m -w 1`);
  }
  return lines.join("\n") + "\n";
}

const BUSYBOX = new URL("../.cache/vm/busybox/bin/busybox", import.meta.url).pathname;

/** Unloads and reloads ip_vs and its schedulers from the guest kernel's module tree. */
async function reloadIpvs(): Promise<void> {
  const mods = (await Deno.readTextFile("/proc/modules")).split("\n").map((l) => l.split(" ")[0]!)
    .filter((m) => m.startsWith("ip_vs_"));
  for (const m of mods) await sh([BUSYBOX, "rmmod", m]);
  await sh([BUSYBOX, "rmmod", "ip_vs"]);
  const release = (await sh(["uname", "-r"])).trim();
  const base =
    new URL(`../.cache/vm/root/lib/modules/${release}/kernel/net/netfilter/ipvs/`, import.meta.url)
      .pathname;
  await sh([BUSYBOX, "insmod", `${base}ip_vs.ko`]);
  for (const m of mods) await sh([BUSYBOX, "insmod", `${base}${m}.ko`]);
}

async function withManager<T>(fn: (m: IpvsManager) => Promise<T>): Promise<T> {
  const reactor = new Reactor();
  const running = reactor.run();
  const log = new Logger("bench", { level: "warn", sink: (l) => console.error(l), json: false });
  const m = await IpvsManager.open(reactor, log);
  try {
    if (!(m instanceof IpvsManager)) throw new Error(m.unavailable);
    return await fn(m);
  } finally {
    if (m instanceof IpvsManager) m[Symbol.dispose]();
    reactor.close();
    await running;
  }
}

const want = desired();
const rulesCount = SERVICES * (DESTS + 1);
console.log(`IPVS bench: ${SERVICES} services x ${DESTS} destinations = ${rulesCount} rules`);

await reloadIpvs();
const managerMs = await withManager(async (m) => {
  let t = performance.now();
  const first = await m.reconcile(want);
  const managerMs = performance.now() - t;
  console.log(
    `IpvsManager from empty: ${managerMs.toFixed(0)} ms, ${first.ops.length} ops, ` +
      `${first.errors.length} errors, ${(rulesCount / managerMs * 1000).toFixed(0)} rules/s`,
  );
  t = performance.now();
  const second = await m.reconcile(want);
  const secondMs = performance.now() - t;
  console.log(`second reconcile pass: ${secondMs.toFixed(0)} ms, ${second.ops.length} ops`);
  t = performance.now();
  const dumped = await m.dump();
  console.log(
    `IpvsManager dump: ${(performance.now() - t).toFixed(0)} ms, ${dumped.length} services`,
  );
  t = performance.now();
  await sh(["ipvsadm", "-Ln"]);
  const listMs = performance.now() - t;
  console.log(`ipvsadm -Ln: ${listMs.toFixed(0)} ms`);
  console.log(`ratio no-change pass / ipvsadm -Ln: ${(secondMs / listMs).toFixed(2)}`);
  t = performance.now();
  const third = await m.reconcile(want);
  console.log(
    `third reconcile pass (warm): ${
      (performance.now() - t).toFixed(0)
    } ms, ${third.ops.length} ops`,
  );
  await m.flush();
  return managerMs;
});

await reloadIpvs();
const text = rules(want);
let t = performance.now();
await sh(["ipvsadm", "-R"], text);
const ipvsadmMs = performance.now() - t;
console.log(
  `ipvsadm -R from empty: ${ipvsadmMs.toFixed(0)} ms, ${
    (rulesCount / ipvsadmMs * 1000).toFixed(0)
  } rules/s`,
);
console.log(`ratio IpvsManager / ipvsadm -R: ${(managerMs / ipvsadmMs).toFixed(2)}`);
t = performance.now();
const count = await withManager(async (m) => (await m.reconcile(want)).ops.length);
console.log(
  `reconcile over ipvsadm's rules: ${(performance.now() - t).toFixed(0)} ms, ${count} ops`,
);
await sh(["ipvsadm", "-C"]);
