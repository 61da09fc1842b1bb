/**
 * The state dump and the statistics as keepalived operators know them (SIGUSR1 writes
 * /tmp/keepalived.data, SIGUSR2 /tmp/keepalived.stats): the same sections and counter names
 * where haagent has the same thing, in haagent's own words otherwise. Pure: both render an
 * `AgentStatus`, so `haagent status --dump` / `--stats` print what the signals write.
 *
 * @module
 */
import type { AgentStatus, InstanceStatus } from "./status_types.ts";

/** File name of the state dump (SIGUSR1), in the dump directory. */
export const DUMP_FILE = "haagent.data";
/** File name of the statistics (SIGUSR2), in the dump directory. */
export const STATS_FILE = "haagent.stats";

const heading = (title: string) => `------< ${title} >------`;

/** The state dump: the agent, every instance, sync groups, tracked objects, IPVS. */
export function renderDump(st: AgentStatus, now: Date): string {
  const out: string[] = [];
  out.push(heading(`haagent state dump, ${now.toISOString()}`));
  out.push(` haagent ${st.version}, pid ${st.pid}, router_id ${st.routerId || "(none)"}`);
  out.push(` Configuration file = ${st.configFile}`);
  out.push(` Started = ${st.startedAt} (up ${st.uptimeS} s)`);
  out.push(` Reloads = ${st.reloads}`);
  const mb = (b: number) => (b / 1048576).toFixed(1);
  out.push(
    ` Memory = RSS ${mb(st.process.rssBytes)} MB, JavaScript heap ` +
      `${mb(st.process.heapUsedBytes)} MB, external ${mb(st.process.externalBytes)} MB`,
  );
  out.push(` Open file descriptors = ${st.process.openFds}`);
  if (st.lastReload !== null) {
    const r = st.lastReload;
    out.push(` Last reload = ${r.at}, ${r.ok ? "applied" : "REFUSED"}: ${r.message}`);
  }
  out.push("");
  out.push(heading("VRRP Topology"));
  if (st.instances.length === 0) out.push(" (no VRRP instances)");
  for (const i of st.instances) out.push(...instance(i, st));
  if (st.syncGroups.length > 0) {
    out.push("");
    out.push(heading("VRRP Sync groups"));
    for (const g of st.syncGroups) {
      out.push(` VRRP Sync Group = ${g.name}, ${g.state}`);
      out.push(`   monitor = ${g.members.join(", ")}`);
    }
  }
  if (st.tracked.length > 0) {
    out.push("");
    out.push(heading("Tracked objects"));
    for (const t of st.tracked) {
      out.push(` Tracked ${t.kind} = ${t.name}, ${t.up ? "up" : "DOWN"} (${t.detail})`);
    }
  }
  out.push("");
  out.push(heading("IPVS Topology"));
  const ipvs = st.ipvs;
  out.push(
    ipvs.available
      ? ` IPVS = available, ${ipvs.services} service(s), last pass ${ipvs.lastOps} op(s), ` +
        `${ipvs.errors} error(s)`
      : ` IPVS = unavailable (${ipvs.reason})`,
  );
  if (ipvs.syncDaemon !== null) out.push(` LVS syncd = ${ipvs.syncDaemon}`);
  for (const vs of st.virtualServers) {
    out.push(` Virtual Server = ${vs.name}`);
    out.push(`   Quorum = ${vs.quorumUp ? "up" : "DOWN"}`);
    for (const rs of vs.realServers) {
      out.push(
        `   Real Server = ${rs.address}, ${rs.up ? "UP" : "DOWN"}, weight ${rs.weight}` +
          (rs.reason !== "" ? ` (${rs.reason})` : ""),
      );
      for (const c of rs.checks) out.push(`     ${c.type} = ${c.up ? "up" : "DOWN"}: ${c.last}`);
    }
  }
  if (st.announce !== null) {
    const a = st.announce;
    out.push("");
    out.push(heading("Announced routes (BGP)"));
    out.push(` Table = ${a.table}, protocol = ${a.protocol}`);
    for (const r of a.routes) {
      const state = r.announced
        ? "announced"
        : r.error !== null
        ? `FAILED (${r.error})`
        : "withdrawn";
      out.push(` Route = ${r.prefix} dev ${r.device}, ${state}: ${r.reasons.join("; ")}`);
    }
  }
  if (st.mail !== null) {
    out.push("");
    out.push(heading("E-mail alerts"));
    out.push(` Sent = ${st.mail.sent}, failed = ${st.mail.failed}, dropped = ${st.mail.dropped}`);
  }
  return out.join("\n") + "\n";
}

function instance(i: InstanceStatus, st: AgentStatus): string[] {
  const group = st.syncGroups.find((g) => g.members.includes(i.name));
  const owner = i.priority === 255;
  return [
    ` VRRP Instance = ${i.name}`,
    `   VRRP Version = ${i.version}`,
    ...(group !== undefined ? [`   Sync group = ${group.name}`] : []),
    ...(i.family === "ipv6" ? ["   Using Native IPv6"] : []),
    `   State = ${i.state}`,
    `   Last transition = ${i.since} (${i.reason})`,
    `   Faults = ${i.faults.length > 0 ? i.faults.join("; ") : "(none)"}`,
    `   Interface = ${i.interface}`,
    // keepalived's dump wording (vrrp_data.c dump_vrrp()).
    ...(i.vmac != null ? [`   Use VMAC, i/f name ${i.vmac}`] : []),
    ...(i.accept === false ? ["   Accept = disabled"] : []),
    `   Master router = ${i.masterAddress ?? "(unknown)"}`,
    ...(i.version === 3
      ? [`   Master advert interval = ${i.masterAdverIntervalMs} milli-sec`]
      : []),
    `   Virtual Router ID = ${i.vrid}`,
    `   Priority = ${i.priority}${owner ? " (address owner)" : ""}`,
    `   Effective priority = ${i.effectivePriority}`,
    `   Advert interval = ${i.advertIntervalMs} milli-sec`,
    `   Preempt = ${i.preempt ? "enabled" : "disabled"}`,
    ...(i.preemptDelayMs > 0 ? [`   Preempt delay = ${i.preemptDelayMs / 1000} secs`] : []),
    ...(i.unicastPeers.length > 0
      ? ["   Unicast Peer :", ...i.unicastPeers.map((p) => `     ${p}`)]
      : []),
    `   Virtual IP (${i.vips.length}):`,
    ...i.vips.map((v) => `     ${v}`),
  ];
}

/** keepalived's names for the drop reasons it also counts, by haagent's reason. */
const KEEPALIVED_ERRORS: ReadonlyArray<[string, string]> = [
  ["length", "Length"],
  ["ttl", "TTL"],
  ["type", "Invalid Type"],
  ["interval", "Advertisement Interval"],
  ["address-count", "Address List"],
];

/** The statistics: keepalived's per-instance counters, then every haagent drop reason. */
export function renderStats(st: AgentStatus, now: Date): string {
  const out: string[] = [heading(`haagent statistics, ${now.toISOString()}`)];
  for (const i of st.instances) {
    const n = (k: string) => i.stats[k] ?? 0;
    const d = (k: string) => i.drops[k] ?? 0;
    out.push(`VRRP Instance: ${i.name}`);
    out.push("  Advertisements:");
    out.push(`    Received: ${n("advertsReceived")}`);
    out.push(`    Sent: ${n("advertsSent")}`);
    out.push(`  Became master: ${n("becameMaster")}`);
    out.push(`  Released master: ${n("releasedMaster")}`);
    out.push("  Packet Errors:");
    for (const [k, label] of KEEPALIVED_ERRORS) out.push(`    ${label}: ${d(k)}`);
    out.push("  Authentication Errors:");
    out.push(`    Failure: ${d("auth")}`);
    out.push("  Priority Zero:");
    out.push(`    Received: ${n("priorityZeroReceived")}`);
    out.push(`    Sent: ${n("priorityZeroSent")}`);
    out.push("  Dropped adverts by reason:");
    for (const [k, v] of Object.entries(i.drops)) out.push(`    ${k}: ${v}`);
  }
  out.push("Agent:");
  out.push(`  Adverts for unknown VRIDs: ${st.drops["unknown-vrid"] ?? 0}`);
  out.push(`  Reloads: ${st.reloads}`);
  if (st.announce !== null) {
    out.push(`  Announced routes added: ${st.announce.adds}`);
    out.push(`  Announced routes withdrawn: ${st.announce.withdrawals}`);
  }
  if (st.mail !== null) {
    out.push(`  E-mail alerts sent: ${st.mail.sent}`);
    out.push(`  E-mail alerts failed: ${st.mail.failed}`);
    out.push(`  E-mail alerts dropped: ${st.mail.dropped}`);
  }
  return out.join("\n") + "\n";
}
