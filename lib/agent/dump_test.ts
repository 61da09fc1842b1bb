import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { renderDump, renderStats } from "./dump.ts";
import type { AgentStatus, InstanceStatus } from "./status_types.ts";

const NOW = new Date("2026-12-05T10:00:00.000Z");

function instance(over: Partial<InstanceStatus> = {}): InstanceStatus {
  return {
    name: "VI_1",
    interface: "eth0",
    vrid: 51,
    version: 3,
    family: "ipv4",
    state: "MASTER",
    reason: "master down timer expired",
    since: "2026-12-05T09:59:00.000Z",
    priority: 150,
    effectivePriority: 140,
    advertIntervalMs: 100,
    masterAdverIntervalMs: 100,
    masterAddress: "10.0.0.1",
    preempt: true,
    preemptDelayMs: 0,
    unicastPeers: [],
    vips: ["10.0.0.50/24"],
    faults: [],
    stats: {
      advertsSent: 600,
      advertsReceived: 12,
      becameMaster: 1,
      releasedMaster: 0,
      priorityZeroSent: 0,
      priorityZeroReceived: 2,
    },
    drops: { ttl: 3, length: 0, type: 0, interval: 1, "address-count": 0, auth: 4, checksum: 5 },
    ...over,
  };
}

const status: AgentStatus = {
  version: "0.1.0",
  pid: 4242,
  routerId: "lb1",
  configFile: "/etc/haagent/haagent.yaml",
  startedAt: "2026-12-05T09:00:00.000Z",
  uptimeS: 3600,
  reloads: 2,
  lastReload: { at: "2026-12-05T09:30:00.000Z", ok: false, message: "reload refused: 1 error" },
  process: {
    rssBytes: 66 * 1048576,
    heapUsedBytes: 9 * 1048576,
    externalBytes: 1048576,
    openFds: 41,
    waits: { onThread: 0, onHelper: 0, forRuntime: 0 },
  },
  instances: [
    instance(),
    instance({
      name: "VI_6",
      family: "ipv6",
      version: 3,
      state: "BACKUP",
      masterAddress: "fe80::2",
      preempt: false,
      preemptDelayMs: 5000,
      unicastPeers: ["fe80::2"],
      vips: ["fd00::50/64"],
    }),
  ],
  syncGroups: [{ name: "G1", members: ["VI_1", "VI_6"], state: "MASTER" }],
  ipvs: {
    available: false,
    reason: "no IPVS",
    services: 0,
    lastOps: 0,
    errors: 0,
    syncDaemon: null,
  },
  virtualServers: [{
    name: "TCP 10.0.0.50:80",
    quorumUp: true,
    realServers: [{
      address: "10.0.0.11:80",
      up: false,
      weight: 0,
      reason: "HTTP 503",
      checks: [{ type: "HTTP_GET", up: false, last: "HTTP 503 from 10.0.0.11:80/health" }],
    }],
  }],
  tracked: [{ kind: "script", name: "chk", up: true, detail: "exit 0" }],
  mail: null,
  announce: {
    table: 198,
    protocol: 248,
    routes: [{
      prefix: "10.0.0.50/32",
      device: "eth0",
      announced: true,
      reasons: ["VI_1 MASTER"],
      sources: [{ name: "VI_1", holds: true }],
      error: null,
    }],
    adds: 1,
    withdrawals: 0,
  },
  drops: { "unknown-vrid": 7 },
};

Deno.test("dump: keepalived's sections and lines, in haagent's words", () => {
  const text = renderDump(status, NOW);
  const lines = text.split("\n");
  assertEquals(lines[0], "------< haagent state dump, 2026-12-05T10:00:00.000Z >------");
  for (
    const want of [
      " haagent 0.1.0, pid 4242, router_id lb1",
      " Last reload = 2026-12-05T09:30:00.000Z, REFUSED: reload refused: 1 error",
      " Memory = RSS 66.0 MB, JavaScript heap 9.0 MB, external 1.0 MB",
      " Open file descriptors = 41",
      "------< VRRP Topology >------",
      " VRRP Instance = VI_1",
      "   Sync group = G1",
      "   State = MASTER",
      "   Virtual Router ID = 51",
      "   Priority = 150",
      "   Effective priority = 140",
      "   Advert interval = 100 milli-sec",
      "   Preempt = enabled",
      "   Virtual IP (1):",
      "     10.0.0.50/24",
      " VRRP Instance = VI_6",
      "   Using Native IPv6",
      "   Preempt = disabled",
      "   Preempt delay = 5 secs",
      "   Unicast Peer :",
      "     fe80::2",
      " VRRP Sync Group = G1, MASTER",
      " Tracked script = chk, up (exit 0)",
      " IPVS = unavailable (no IPVS)",
      " Virtual Server = TCP 10.0.0.50:80",
      "   Real Server = 10.0.0.11:80, DOWN, weight 0 (HTTP 503)",
      "     HTTP_GET = DOWN: HTTP 503 from 10.0.0.11:80/health",
      "------< Announced routes (BGP) >------",
      " Route = 10.0.0.50/32 dev eth0, announced: VI_1 MASTER",
    ]
  ) {
    assert(lines.includes(want), `missing ${JSON.stringify(want)} in\n${text}`);
  }
  assert(text.endsWith("\n"));
  assert(!/password/i.test(text));
});

Deno.test("stats: keepalived's counters per instance, then every drop reason", () => {
  const text = renderStats(status, NOW);
  const block = text.split("VRRP Instance: ")[1]!;
  assertEquals(
    block.split("\n").slice(0, 19).join("\n"),
    `VI_1
  Advertisements:
    Received: 12
    Sent: 600
  Became master: 1
  Released master: 0
  Packet Errors:
    Length: 0
    TTL: 3
    Invalid Type: 0
    Advertisement Interval: 1
    Address List: 0
  Authentication Errors:
    Failure: 4
  Priority Zero:
    Received: 2
    Sent: 0
  Dropped adverts by reason:
    ttl: 3`,
  );
  assert(text.includes("    checksum: 5\n"));
  assert(text.includes("  Adverts for unknown VRIDs: 7\n"));
  assertEquals(text.split("VRRP Instance: ").length, 3);
});
