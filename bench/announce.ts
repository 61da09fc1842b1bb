/**
 * Announcing to BGP: from an event on a node to the change in the upstream's RIB, with BIRD 2
 * as the nodes' speaker and as the upstream (tests/helpers/bgp_lab.ts: the example network of
 * docs/bgp.md). The upstream logs every RIB change with microseconds (`debug { routes }`), so
 * the RIB change is read from BIRD itself; event times are this process's wall clock, or
 * tcpdump's stamp of the master's last advert. Each event is repeated `--runs` times (median of
 * 10 by default) and printed beside its floor, with the machine's load and steal time:
 *
 *   - SIGTERM on node 1 (master, announcing the VIP): node 1's VIP route leaves the upstream's
 *     RIB (floor: 0, nothing to wait for); node 2's arrives after the priority-0 handover.
 *   - real server down (an nftables rule on node 1 resets connections to the TCP server its
 *     anycast service checks, as a dead server's kernel would): the anycast route leaves the RIB
 *     (floor: the check interval x fall, the worst case of noticing); and the rule removed
 *     (floor: interval x rise). The event time is when `nft` returned (a few ms late at most).
 *   - VRRP takeover (SIGKILL of node 1's haagent): from node 1's last advert (tcpdump on node 2)
 *     to node 2's VIP route in the RIB (floor: node 2's master-down interval).
 *   - a dead node (link down, SIGKILL of haagent and BIRD): from the link going down to the
 *     node's routes leaving the RIB, with BFD (100 ms x 3) and with the hold timer alone (9 s).
 *
 *   deno task bench announce [--runs=10] [--node-death-runs=N] [--verbose]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { netnsUnavailable, waitFor } from "../tests/helpers/netns.ts";
import {
  BgpLab,
  NET,
  type NodeAgent,
  type NodeName,
  speakerMissing,
} from "../tests/helpers/bgp_lab.ts";
import type { LabProcess } from "../tests/helpers/netns.ts";
import {
  fmtMs,
  machine,
  machineJiffies,
  machineLoad,
  nowMs,
  parseFrames,
  sleep,
  summarize,
  tcpdump,
} from "./lib.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "10" },
    "node-death-runs": { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs);
const DEATH_RUNS = Number(values["node-death-runs"] ?? values.runs);

const VIP = "192.0.2.10";
const ANYCAST = "198.51.100.53";
const INTERVAL_MS = 100;
const DELAY_LOOP_MS = 200;
const FALL = 1;
const RISE = 1;
const HOLD_S = 9;
const BFD_MS = 3 * 100;
const N2_PRIORITY = 100;
/** Node 2's master-down interval (RFC 5798): 3 x interval + skew. */
const MASTER_DOWN_MS = 3 * INTERVAL_MS + ((256 - N2_PRIORITY) * INTERVAL_MS) / 256;
const CHECK_PORT = 18053;
const SERVER = new URL("../tests/integration/fixtures/check_server.ts", import.meta.url).pathname;

function yaml(node: NodeName, priority: number): string {
  const vs = node === "n1"
    ? `virtual_servers:
  - address: ${ANYCAST}:53
    announce: true
    alpha: true
    delay_loop: ${DELAY_LOOP_MS}ms
    real_servers:
      - address: 127.0.0.1:${CHECK_PORT}
        checks:
          - { type: TCP_CHECK, connect_timeout: 500ms, retry: 0, rise: ${RISE}, fall: ${FALL} }
`
    : "";
  return `global:
  router_id: ${node}
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: ${priority}
    advert_interval: ${INTERVAL_MS}ms
    announce: true
    virtual_ipaddresses: [${VIP}/24]
${vs}`;
}

/** One RIB change the upstream's BIRD logged: time, neighbour, added or removed, prefix. */
interface RibChange {
  tMs: number;
  peer: string;
  change: "added" | "removed";
  prefix: string;
}

const RIB_LINE =
  /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) <TRACE> (n[12])\.ipv4 [<>] (added|removed)\S* .*?(\d+\.\d+\.\d+\.\d+\/\d+)/;

function ribChanges(lines: readonly string[]): RibChange[] {
  const out: RibChange[] = [];
  for (const l of lines) {
    const m = RIB_LINE.exec(l);
    if (m === null) continue;
    // No zone in the stamp: local time, which is how Date reads a zone-less date-time.
    const s = new Date(`${m[1]}T${m[2]}`).getTime();
    out.push({
      tMs: s + Number(m[3]) / 1000,
      peer: m[4]!,
      change: m[5] as "added" | "removed",
      prefix: m[6]!,
    });
  }
  return out;
}

/** Waits for the upstream's RIB to log `change` of `prefix` from `peer` after `afterMs`. */
async function ribEvent(
  lab: BgpLab,
  peer: NodeName,
  change: "added" | "removed",
  prefix: string,
  afterMs: number,
  timeoutMs: number,
): Promise<number> {
  let found: number | null = null;
  await waitFor(
    () => {
      const hit = ribChanges(lab.speakerLog("up")).find((c) =>
        c.tMs >= afterMs && c.peer === peer && c.change === change && c.prefix === prefix
      );
      found = hit?.tMs ?? null;
      return found !== null;
    },
    timeoutMs,
    10,
  );
  return found!;
}

/** One row of results. */
interface Row {
  what: string;
  floor: string;
  samples: number[];
}

function printRow(r: Row): void {
  const s = summarize(r.samples);
  console.log(
    `  ${r.what.padEnd(58)} median ${fmtMs(s.p50).padStart(10)}  min ${fmtMs(s.min).padStart(10)}` +
      `  max ${fmtMs(s.max).padStart(10)}  (n=${s.n})  floor ${r.floor}`,
  );
}

async function main(): Promise<number> {
  const why = netnsUnavailable() ?? speakerMissing("bird");
  if (why !== null) {
    console.log(`announce benchmark skipped: ${why}`);
    return 0;
  }
  console.log(`machine: ${machine()}`);
  await using lab = await BgpLab.create("bga", "bird");
  await lab.startUpstream({ bfd: ["n1"], holdS: HOLD_S, traceRoutes: true });
  await lab.startNodeSpeaker("n1");
  await lab.startNodeSpeaker("n2");
  let server: LabProcess = startServer(lab);
  let a1: NodeAgent = lab.startHaagent("n1", yaml("n1", 150));
  const a2 = lab.startHaagent("n2", yaml("n2", N2_PRIORITY));
  await lab.waitState(a1, "MASTER");
  await lab.waitEstablished(["n1"]);
  await lab.waitPaths(`${VIP}/32`, [NET.n1]);
  await lab.waitPaths(`${ANYCAST}/32`, [NET.n1]);

  const j0 = machineJiffies();
  const rows: Row[] = [];

  // SIGTERM on the master.
  const term: number[] = [];
  const handover: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = nowMs();
    a1.proc.kill("SIGTERM");
    const gone = await ribEvent(lab, "n1", "removed", `${VIP}/32`, t0, 5000);
    const taken = await ribEvent(lab, "n2", "added", `${VIP}/32`, t0, 5000);
    term.push(gone - t0);
    handover.push(taken - t0);
    await a1.proc.child.status;
    a1 = await restartMaster(lab, a2);
    verbose(`SIGTERM run ${i + 1}: withdrawn ${(gone - t0).toFixed(1)} ms`);
  }
  rows.push({
    what: "SIGTERM on the master -> its VIP route withdrawn",
    floor: "0 ms",
    samples: term,
  });
  rows.push({
    what: "SIGTERM on the master -> the backup's VIP route in",
    floor: "0 ms + the backup's skew after priority 0 " +
      fmtMs(((256 - N2_PRIORITY) * INTERVAL_MS) / 256),
    samples: handover,
  });

  // Real server down, and back.
  const down: number[] = [];
  const up: number[] = [];
  await lab.lab.exec("n1", ["nft", "add", "table", "inet", "bench"]);
  await lab.lab.exec("n1", [
    "nft",
    "add",
    "chain",
    "inet",
    "bench",
    "out",
    "{ type filter hook output priority 0 ; }",
  ]);
  for (let i = 0; i < RUNS; i++) {
    await sleep(Math.random() * DELAY_LOOP_MS);
    // The server refuses connections as a dead one's kernel would, from when nft returns.
    await lab.lab.exec("n1", [
      "nft",
      "add",
      "rule",
      "inet",
      "bench",
      "out",
      "tcp",
      "dport",
      String(CHECK_PORT),
      "reject",
      "with",
      "tcp",
      "reset",
    ]);
    const tDown = nowMs();
    const gone = await ribEvent(lab, "n1", "removed", `${ANYCAST}/32`, tDown - 20, 5000);
    down.push(gone - tDown);
    await sleep(Math.random() * DELAY_LOOP_MS);
    await lab.lab.exec("n1", ["nft", "flush", "chain", "inet", "bench", "out"]);
    const tUp = nowMs();
    const back = await ribEvent(lab, "n1", "added", `${ANYCAST}/32`, tUp - 20, 5000);
    up.push(back - tUp);
    verbose(
      `real server run ${i + 1}: down ${(gone - tDown).toFixed(1)} ms, up ${
        (back - tUp).toFixed(1)
      } ms`,
    );
  }
  rows.push({
    what: "real server refuses (nft reject) -> the service's route withdrawn",
    floor: `check interval x fall ${fmtMs(DELAY_LOOP_MS * FALL, 0)} (worst case)`,
    samples: down,
  });
  rows.push({
    what: "real server answers again -> the service's route in",
    floor: `check interval x rise ${fmtMs(DELAY_LOOP_MS * RISE, 0)} (worst case)`,
    samples: up,
  });

  // VRRP takeover after a crash of the master.
  const takeover: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const cap = await tcpdump(lab.lab, `ip proto 112 and src ${NET.n1}`, "n2");
    await sleep(200 + Math.random() * INTERVAL_MS);
    const tKill = nowMs();
    a1.proc.kill("SIGKILL");
    await a1.proc.child.status;
    const taken = await ribEvent(lab, "n2", "added", `${VIP}/32`, tKill - INTERVAL_MS, 5000);
    await cap.stop();
    const adverts = parseFrames(cap.lines).filter((f) => f.kind === "vrrp" && f.tMs <= tKill);
    const last = adverts[adverts.length - 1];
    if (last !== undefined) takeover.push(taken - last.tMs);
    a1 = await restartMaster(lab, a2);
    verbose(
      `takeover run ${i + 1}: ${
        last === undefined ? "no advert seen" : (taken - last.tMs).toFixed(1)
      } ms`,
    );
  }
  rows.push({
    what: "master's last advert (SIGKILL) -> the backup's VIP route in",
    floor: `master-down interval ${fmtMs(MASTER_DOWN_MS)}`,
    samples: takeover,
  });

  // Whole nodes dying: node 1 with BFD, node 2 with the hold timer only.
  const bfd: number[] = [];
  const hold: number[] = [];
  for (let i = 0; i < DEATH_RUNS; i++) {
    let t0 = nowMs();
    await lab.killNode("n1");
    const gone = await ribEvent(lab, "n1", "removed", `${ANYCAST}/32`, t0, 10_000);
    bfd.push(gone - t0);
    await reviveNode(lab, "n1");
    a1 = lab.startHaagent("n1", yaml("n1", 150));
    server = startServer(lab);
    await lab.waitState(a1, "MASTER");
    await lab.waitPaths(`${ANYCAST}/32`, [NET.n1], 30_000);
    // Node 2 (no BFD with the upstream) dies, watched by the hold timer. Its haagent does not
    // come back; a route written by hand into its table stands for what it announced.
    const probe = `203.0.113.${i + 1}/32`;
    await lab.lab.exec("n2", [
      "ip",
      "route",
      "add",
      probe,
      "dev",
      "lo",
      "table",
      "198",
      "proto",
      "248",
    ]);
    await lab.waitPaths(probe, [NET.n2]);
    t0 = nowMs();
    await lab.killNode("n2");
    const g2 = await ribEvent(lab, "n2", "removed", probe, t0, (HOLD_S + 5) * 1000);
    hold.push(g2 - t0);
    await reviveNode(lab, "n2");
    verbose(
      `node death run ${i + 1}: BFD ${bfd[bfd.length - 1]!.toFixed(1)} ms, hold ${
        hold[hold.length - 1]?.toFixed(0)
      } ms`,
    );
  }
  const j1 = machineJiffies();
  rows.push({
    what: "node dies (link down, SIGKILL) -> withdrawn, BFD 100 ms x 3",
    floor: `detection time ${fmtMs(BFD_MS, 0)}`,
    samples: bfd,
  });
  rows.push({
    what: `node dies -> withdrawn, hold timer ${HOLD_S} s (keepalive 3 s)`,
    floor: `${HOLD_S - 3}-${HOLD_S} s after the last keepalive`,
    samples: hold,
  });

  console.log(`\nevent -> upstream's RIB change (BIRD 2.0.12 on the nodes and the upstream)`);
  for (const r of rows) printRow(r);
  console.log(`\n${machineLoad(j0, j1)}`);
  server.kill("SIGKILL");
  return 0;
}

function startServer(lab: BgpLab): LabProcess {
  return lab.lab.spawn("n1", ["deno", "run", "-A", SERVER, "tcp", String(CHECK_PORT)], {
    stdout: "piped",
  });
}

/** Starts node 1's haagent again and waits until it is master and announced again. */
async function restartMaster(lab: BgpLab, backup: NodeAgent): Promise<NodeAgent> {
  const a = lab.startHaagent("n1", yaml("n1", 150));
  await lab.waitState(a, "MASTER");
  await lab.waitState(backup, "BACKUP");
  await lab.waitPaths(`${VIP}/32`, [NET.n1]);
  await lab.waitPaths(`${ANYCAST}/32`, [NET.n1]);
  return a;
}

/** Brings a dead node back: link up, its speaker restarted, its session up again. */
async function reviveNode(lab: BgpLab, node: NodeName): Promise<void> {
  await lab.lab.exec(node, ["ip", "link", "set", "eth0", "up"]);
  await lab.startNodeSpeaker(node);
  await waitFor(() => lab.established([node], node === "n1" ? ["n1"] : []), 60_000, 200);
}

function verbose(line: string): void {
  if (values.verbose) console.log(`  ${line}`);
}

if (import.meta.main) Deno.exit(await main());
