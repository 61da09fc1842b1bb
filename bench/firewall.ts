/**
 * What Accept_Mode off and use_vmac cost the VRRP thread, in a throw-away namespace: the time the
 * firewall writer takes to add and to remove the drop rules of N VIPs (one nf_tables batch over
 * netlink, as on every transition to and from MASTER; the first batch also creates the table),
 * beside the same change made by running `nft` once (what a shell per change would cost), and
 * the time to bring a VMAC up (create the macvlan, devconf, addrgenmode, up, the IGMP redirect)
 * and down. Median, p99 and max of `--runs` repetitions, with the machine's load and steal time.
 *
 *   deno task bench firewall [--runs=50]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Lab, netnsUnavailable } from "../tests/helpers/netns.ts";
import { fmtMs, machine, machineJiffies, machineLoad, nowMs, summarize } from "./lib.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "50" }, inner: { type: "boolean", default: false } },
});
const RUNS = Number(values.runs);

function row(what: string, xs: number[]): string {
  const s = summarize([...xs].sort((a, b) => a - b));
  return `  ${what.padEnd(60)} median ${fmtMs(s.p50, 2)}, p99 ${fmtMs(s.p99, 2)}, max ${
    fmtMs(s.max, 2)
  }`;
}

async function inner(): Promise<void> {
  const { NftConn } = await import("../lib/netlink/nft_conn.ts");
  const { Rtnl } = await import("../lib/netlink/rtnl.ts");
  const { Reactor } = await import("../ffi/reactor.ts");
  const { Logger } = await import("../lib/runtime/log.ts");
  const { ProcSysctl } = await import("../lib/runtime/sysctl.ts");
  const { Firewall } = await import("../lib/vrrp/firewall.ts");
  const { Vmacs } = await import("../lib/vrrp/vmac.ts");
  const log = new Logger("bench", { level: "error", sink: () => {}, json: false });
  const lines: string[] = [];
  for (const n of [1, 10, 100, 255]) {
    const addrs = Array.from({ length: n }, (_, i) => ({
      family: "ipv4" as const,
      address: Uint8Array.of(10, 99, i >> 8, i & 0xff),
      ifindex: 2,
    }));
    const first: number[] = [];
    const add: number[] = [];
    const del: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const fw = new Firewall(() => NftConn.open(), log);
      let t = nowMs();
      fw.guard(addrs, "bench");
      first.push(nowMs() - t);
      fw.unguard(addrs, "bench");
      t = nowMs();
      fw.guard(addrs, "bench");
      add.push(nowMs() - t);
      t = nowMs();
      fw.unguard(addrs, "bench");
      del.push(nowMs() - t);
      fw.close();
    }
    lines.push(row(`${n} VIP(s): first add (table, chains, set, rules, elements)`, first));
    lines.push(row(`${n} VIP(s): add (becoming MASTER)`, add));
    lines.push(row(`${n} VIP(s): remove (leaving MASTER)`, del));
    // The same element change by running nft once.
    const elems = addrs.map((a) => a.address.join(".")).join(", ");
    await new Deno.Command("nft", {
      args: ["add table ip sh; add set ip sh vips { type ipv4_addr; }"],
    }).output();
    const shell: number[] = [];
    for (let r = 0; r < Math.min(RUNS, 20); r++) {
      const t = nowMs();
      await new Deno.Command("nft", { args: [`add element ip sh vips { ${elems} }`] }).output();
      shell.push(nowMs() - t);
      await new Deno.Command("nft", { args: [`delete element ip sh vips { ${elems} }`] }).output();
    }
    await new Deno.Command("nft", { args: ["delete table ip sh"] }).output();
    lines.push(row(`${n} VIP(s): add by running nft once (reference)`, shell));
  }
  const reactor = new Reactor();
  const loop = reactor.run();
  const rtnl = Rtnl.open(reactor);
  const fw = new Firewall(() => NftConn.open(), log);
  const vmacs = new Vmacs({ rtnl, sysctl: new ProcSysctl(), firewall: fw, log });
  const up: number[] = [];
  const down: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let t = nowMs();
    await vmacs.up({ owner: "bench", name: "vrrp.51", base: "b0", family: "ipv4", vrid: 51 });
    up.push(nowMs() - t);
    t = nowMs();
    await vmacs.down("vrrp.51");
    down.push(nowMs() - t);
  }
  await vmacs.close();
  fw.close();
  lines.push(row("VMAC up (macvlan, devconf, addrgenmode, up, IGMP map)", up));
  lines.push(row("VMAC down (unmap, delete, base settings back)", down));
  rtnl[Symbol.dispose]();
  reactor.close();
  await loop;
  console.log(lines.join("\n"));
}

if (values.inner) {
  await inner();
} else {
  const why = netnsUnavailable();
  if (why !== null) {
    console.log(`firewall: skipped (${why})`);
  } else {
    await using lab = await Lab.create("bfw");
    await lab.addNs("r");
    await lab.exec("r", ["ip", "link", "add", "b0", "type", "veth", "peer", "name", "b1"]);
    await lab.exec("r", ["ip", "addr", "add", "10.99.255.1/16", "dev", "b0"]);
    await lab.exec("r", ["ip", "link", "set", "b0", "up"]);
    await lab.exec("r", ["ip", "link", "set", "b1", "up"]);
    console.log(`firewall: ${machine()}, ${RUNS} runs`);
    const m0 = machineJiffies();
    const p = lab.spawn("r", [
      "deno",
      "run",
      "-A",
      new URL(import.meta.url).pathname,
      "--inner",
      `--runs=${RUNS}`,
    ], { stdout: "piped", stderr: "piped" });
    const out = await p.output();
    console.log(out.stdout.trimEnd());
    if (out.code !== 0) console.log(out.stderr);
    console.log(`  ${machineLoad(m0, machineJiffies())}`);
  }
}
