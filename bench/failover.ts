/**
 * Failover time, keepalived against haagent, in one run. For each mode (VRRPv2 at 1 s, VRRPv3
 * at 100 ms and at 10 ms) and each kind, a pair of the same kind runs in namespaces (r1 priority
 * 150 as master, r2 priority 100 as backup, a client c). Each cycle kills the master without a
 * goodbye (SIGSTOP, link down, SIGKILL; keepalived's parent and VRRP child) at a random phase of
 * the advert interval, then measures from that moment to:
 *   - the VIP on the backup (`ip -ts monitor address` in r2),
 *   - the first gratuitous ARP from the backup seen by the client (`tcpdump -e -tt` in c),
 *   - the client's neighbour entry moving to the backup's MAC (`ip -ts monitor neigh` in c),
 * and, from the capture, the last master advert to the first backup advert (against the
 * protocol floor 3 * interval + skew). Then r1 is restarted and preempts back. Prints figures;
 * asserts nothing.
 *
 *   deno run -A bench/failover.ts [--cycles=10] [--modes=v2-1s,v3-100ms,v3-10ms]
 *     [--kinds=keepalived,haagent] [--seed=N] [--verbose]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Agent, ROUTERS, VrrpLab } from "../tests/helpers/vrrp_lab.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../tests/helpers/netns.ts";
import {
  agentPids,
  firstEventMs,
  fmtMs,
  haagentYaml,
  keepalivedConf,
  machine,
  machineJiffies,
  masterDownMs,
  nowMs,
  type PairSpec,
  parseFrames,
  rng,
  sleep,
  summarize,
  tap,
  tcpdump,
} from "./lib.ts";

type Kind = "keepalived" | "haagent";

const MODES: Record<string, PairSpec> = {
  "v2-1s": { version: 2, intervalMs: 1000, vip: "10.77.0.50/24", vrid: 51 },
  "v3-100ms": { version: 3, intervalMs: 100, vip: "10.77.0.50/24", vrid: 51 },
  "v3-10ms": { version: 3, intervalMs: 10, vip: "10.77.0.50/24", vrid: 51 },
};
const VIP = "10.77.0.50";
const MASTER_PRIO = 150;
const BACKUP_PRIO = 100;

/** What one failover cycle measured (ms; NaN when the event was not seen). */
interface Cycle {
  /** Failure moment minus the master's last advert before it. */
  phaseMs: number;
  vipMs: number;
  garpMs: number;
  neighMs: number;
  /** Master's last advert to the backup's first advert as master. */
  advertGapMs: number;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    cycles: { type: "string", default: "10" },
    modes: { type: "string", default: Object.keys(MODES).join(",") },
    kinds: { type: "string", default: "keepalived,haagent" },
    seed: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});
const cycles = Number(values.cycles);
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000;
const rand = rng(seed);

function start(vl: VrrpLab, kind: Kind, router: "r1" | "r2", spec: PairSpec): Agent {
  const prio = router === "r1" ? MASTER_PRIO : BACKUP_PRIO;
  return kind === "haagent"
    ? vl.startHaagent(router, haagentYaml(router, prio, spec))
    : vl.startKeepalived(router, keepalivedConf(router, prio, spec));
}

async function settle(vl: VrrpLab, kind: Kind, backup: Agent, spec: PairSpec): Promise<void> {
  const downMs = masterDownMs(spec, BACKUP_PRIO);
  await vl.waitVip("r1", VIP, downMs + 15_000);
  await vl.waitVip("r2", VIP, 5000, false);
  if (kind === "haagent") await vl.waitState(backup, "BACKUP", 5000);
  await sleep(Math.max(300, 3 * spec.intervalMs));
  // The client learns the VIP's MAC from r1.
  await vl.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", VIP]);
  // Past the neighbour locktime (1 s): a GARP within it would not override the entry.
  await sleep(1100);
}

async function failOnce(vl: VrrpLab, master: Agent, spec: PairSpec): Promise<Cycle> {
  const lab = vl.lab;
  const cap = await tcpdump(lab, "arp or ip proto 112");
  const addrMon = await tap(lab, "r2", ["ip", "-ts", "monitor", "address"]);
  const neighMon = await tap(lab, "c", ["ip", "-ts", "monitor", "neigh"]);
  try {
    const pids = await agentPids(master);
    // Random phase: a random fraction of an interval after an advert from r1 was seen.
    const seenFrom = cap.lines.length;
    await waitFor(
      () =>
        parseFrames(cap.lines.slice(seenFrom)).some((f) =>
          f.kind === "vrrp" && f.src === ROUTERS.r1.addr4
        ),
      3 * spec.intervalMs + 2000,
      2,
    );
    await sleep(rand() * spec.intervalMs);
    const t0 = nowMs();
    for (const pid of pids) Deno.kill(pid, "SIGSTOP");
    await lab.exec("r1", ["ip", "link", "set", "eth0", "down"]);
    for (const pid of pids) Deno.kill(pid, "SIGKILL");
    await master.proc.child.status;
    const downMs = masterDownMs(spec, BACKUP_PRIO);
    const garpFrom = (f: ReturnType<typeof parseFrames>[number]) =>
      f.kind === "arp" && f.srcMac === ROUTERS.r2.mac && f.target === VIP && f.tMs >= t0;
    await waitFor(() => parseFrames(cap.lines).some(garpFrom), downMs + 10_000, 2);
    await sleep(Math.max(200, 3 * spec.intervalMs));
    await Promise.all([cap.stop(), addrMon.stop(), neighMon.stop()]);

    const frames = parseFrames(cap.lines);
    const lastMaster = frames.filter((f) =>
      f.kind === "vrrp" && f.src === ROUTERS.r1.addr4 && f.priority > 0 && f.tMs <= t0 + 1
    ).at(-1);
    const firstBackup = frames.find((f) =>
      f.kind === "vrrp" && f.src === ROUTERS.r2.addr4 && f.priority > 0 && f.tMs >= t0
    );
    const garp = frames.find(garpFrom);
    const vipRe = new RegExp(`^\\[[^\\]]+\\] \\d+: \\S+\\s+inet ${VIP.replaceAll(".", "\\.")}/`);
    const vipAt = firstEventMs(addrMon.lines, t0, vipRe);
    const neighRe = new RegExp(
      `^\\[[^\\]]+\\] ${VIP.replaceAll(".", "\\.")} .*lladdr ` +
        ROUTERS.r2.mac,
    );
    const neighAt = firstEventMs(neighMon.lines, t0, neighRe);
    return {
      phaseMs: lastMaster ? t0 - lastMaster.tMs : NaN,
      vipMs: vipAt !== null ? vipAt - t0 : NaN,
      garpMs: garp ? garp.tMs - t0 : NaN,
      neighMs: neighAt !== null ? neighAt - t0 : NaN,
      advertGapMs: lastMaster && firstBackup ? firstBackup.tMs - lastMaster.tMs : NaN,
    };
  } finally {
    await Promise.all([cap.stop(), addrMon.stop(), neighMon.stop()]).catch(() => {});
  }
}

async function runKind(kind: Kind, spec: PairSpec): Promise<Cycle[]> {
  await using vl = await VrrpLab.create("bf");
  let master = start(vl, kind, "r1", spec);
  const backup = start(vl, kind, "r2", spec);
  await settle(vl, kind, backup, spec);
  const out: Cycle[] = [];
  for (let i = 0; i < cycles; i++) {
    const c = await failOnce(vl, master, spec);
    out.push(c);
    if (values.verbose) {
      console.log(
        `    ${kind} #${i + 1}: phase ${fmtMs(c.phaseMs)}, VIP ${fmtMs(c.vipMs)}, ` +
          `GARP ${fmtMs(c.garpMs)}, neigh ${fmtMs(c.neighMs)}, adverts ${fmtMs(c.advertGapMs)}`,
      );
    }
    // r1 comes back as a rebooted router would: no VIP, link up, agent restarted; it preempts.
    await vl.lab.tryExec("r1", ["ip", "addr", "del", spec.vip, "dev", "eth0"]);
    await vl.lab.exec("r1", ["ip", "link", "set", "eth0", "up"]);
    if (i < cycles - 1) {
      master = start(vl, kind, "r1", spec);
      await settle(vl, kind, backup, spec);
    }
  }
  return out;
}

function row(label: string, ka: number[], ha: number[]): string {
  const k = summarize(ka.filter(Number.isFinite));
  const h = summarize(ha.filter(Number.isFinite));
  // "(n=8)" when some cycles did not see the event (e.g. a GARP inside the neighbour locktime).
  const cell = (s: ReturnType<typeof summarize>, all: number) =>
    s.n === 0
      ? "-".padEnd(28)
      : `${s.min.toFixed(1)} / ${s.p50.toFixed(1)} / ${s.max.toFixed(1)}${
        s.n < all ? ` (n=${s.n})` : ""
      }`.padEnd(28);
  const ratio = k.n > 0 && h.n > 0 ? (h.p50 / k.p50).toFixed(3) : "-";
  const diff = k.n > 0 && h.n > 0
    ? `${(h.p50 - k.p50) >= 0 ? "+" : ""}${(h.p50 - k.p50).toFixed(1)}`
    : "-";
  return `  ${label.padEnd(36)}${cell(k, ka.length)}${cell(h, ha.length)}${ratio.padEnd(8)}${diff}`;
}

async function main(): Promise<void> {
  const why = netnsUnavailable() ??
    (haveCommand("tcpdump") ? null : "tcpdump is not installed");
  if (why !== null) {
    console.log(`failover bench skipped: ${why}`);
    return;
  }
  const kinds = values.kinds.split(",").filter((k): k is Kind =>
    k === "keepalived" || k === "haagent"
  ).filter((k) => k === "haagent" || haveCommand("keepalived"));
  console.log(`failover bench: ${cycles} cycles per kind, seed ${seed}`);
  console.log(`  ${new Date().toISOString()}, ${machine()}`);
  for (const mode of values.modes.split(",")) {
    const spec = MODES[mode];
    if (spec === undefined) {
      console.log(`unknown mode ${mode}; modes: ${Object.keys(MODES).join(", ")}`);
      continue;
    }
    const results: Record<Kind, Cycle[]> = { keepalived: [], haagent: [] };
    const busy: Record<Kind, string> = { keepalived: "-", haagent: "-" };
    for (const kind of kinds) {
      const t = performance.now();
      const m0 = machineJiffies();
      try {
        results[kind] = await runKind(kind, spec);
        const m1 = machineJiffies();
        busy[kind] = `${
          ((100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total)).toFixed(0)
        } %`;
      } catch (e) {
        console.log(`  ${mode} ${kind}: failed: ${(e as Error).message.split("\n")[0]}`);
      }
      if (values.verbose) {
        console.log(`    (${kind} ${mode}: ${((performance.now() - t) / 1000).toFixed(0)} s)`);
      }
    }
    const floor = masterDownMs(spec, BACKUP_PRIO);
    console.log(
      `\n${mode}: protocol floor 3 x ${spec.intervalMs} ms + skew ` +
        `${(floor - 3 * spec.intervalMs).toFixed(1)} ms = ${floor.toFixed(1)} ms after the last ` +
        `advert; cycles: keepalived ${results.keepalived.length}, haagent ${results.haagent.length}; ` +
        `machine busy (all processes) ${busy.keepalived} / ${busy.haagent}`,
    );
    console.log(
      `  ${"ms, min / median / max".padEnd(36)}${"keepalived".padEnd(28)}${"haagent".padEnd(28)}${
        "ratio".padEnd(8)
      }median diff`,
    );
    const col = (k: Kind, f: keyof Cycle) => results[k].map((c) => c[f]);
    const fromAdvert = (k: Kind, f: keyof Cycle) => results[k].map((c) => c[f] + c.phaseMs);
    const rows: [string, keyof Cycle][] = [
      ["failure -> VIP on backup", "vipMs"],
      ["failure -> first GARP at client", "garpMs"],
      ["failure -> client neigh updated", "neighMs"],
      ["last advert -> first backup advert", "advertGapMs"],
      ["phase (failure - last advert)", "phaseMs"],
    ];
    for (const [label, f] of rows) console.log(row(label, col("keepalived", f), col("haagent", f)));
    // The same, counted from the last advert: independent of the random phase.
    for (const [label, f] of rows.slice(0, 3)) {
      const l = label.replace("failure", "last advert");
      console.log(row(l, fromAdvert("keepalived", f), fromAdvert("haagent", f)));
    }
  }
}

await main();
