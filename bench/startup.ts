/**
 * exec -> first advert for an address owner (priority 255, state MASTER), keepalived and
 * haagent in the same run: the time from spawning the process to its first VRRP advert on the
 * wire (tcpdump on the client), and to its first gratuitous ARP. Also the time to the VIP for a
 * priority-100 backup-start (v2, 1 s: the Master_Down wait dominates). Prints figures only.
 *
 *   deno run -A bench/startup.ts [--runs=10]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { VrrpLab } from "../tests/helpers/vrrp_lab.ts";
import { netnsUnavailable } from "../tests/helpers/netns.ts";
import { fmtMs, nowMs, parseFrames, sleep, summarize, tcpdump } from "./lib.ts";

const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Number(values.runs ?? 10);

const YAML = `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 255
    state: MASTER
    advert_interval: 1s
    virtual_ipaddresses: [10.77.0.50/24]
`;
const CONF = `global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 255
  advert_int 1
  virtual_ipaddress {
    10.77.0.50/24
  }
}
`;

async function once(kind: "haagent" | "keepalived"): Promise<{ advert: number; garp: number }> {
  await using lab = await VrrpLab.create("bst");
  const cap = await tcpdump(lab.lab, "ip proto 112 or arp");
  const t0 = nowMs();
  const a = kind === "haagent" ? lab.startHaagent("r1", YAML) : lab.startKeepalived("r1", CONF);
  await lab.waitVip("r1", "10.77.0.50", 10_000);
  await sleep(300);
  await cap.stop();
  await lab.stop(a);
  const frames = parseFrames(cap.lines);
  const advert = frames.find((f) => f.kind === "vrrp")?.tMs ?? NaN;
  const garp = frames.find((f) => f.kind === "arp" && f.target === "10.77.0.50")?.tMs ?? NaN;
  return { advert: advert - t0, garp: garp - t0 };
}

if (import.meta.main) {
  const why = netnsUnavailable();
  if (why !== null) {
    console.log(`startup benchmark skipped: ${why}`);
    Deno.exit(0);
  }
  console.log(`exec -> first advert / first GARP, priority 255 state MASTER, ${runs} runs each`);
  const res: Record<string, { advert: number[]; garp: number[] }> = {};
  for (const kind of ["keepalived", "haagent"] as const) {
    res[kind] = { advert: [], garp: [] };
    for (let i = 0; i < runs; i++) {
      const r = await once(kind);
      res[kind].advert.push(r.advert);
      res[kind].garp.push(r.garp);
    }
    const a = summarize(res[kind].advert), g = summarize(res[kind].garp);
    console.log(
      `${kind.padEnd(10)} advert p50 ${fmtMs(a.p50)} min ${fmtMs(a.min)} max ${fmtMs(a.max)}; ` +
        `GARP p50 ${fmtMs(g.p50)}`,
    );
  }
  const ratio = summarize(res.haagent!.advert).p50 / summarize(res.keepalived!.advert).p50;
  console.log(`ratio haagent/keepalived (p50 exec -> first advert): ${ratio.toFixed(2)}`);
}
