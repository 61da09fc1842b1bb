import { assert, assertMatch } from "../../tests/helpers/assert.ts";
import { renderMetrics } from "./metrics.ts";
import type { AgentStatus } from "./status_types.ts";

Deno.test("metrics: VRRP state, priority, drops and real servers in Prometheus text", () => {
  const st: AgentStatus = {
    version: "0.1.0",
    pid: 1,
    routerId: "r1",
    configFile: "ha.yaml",
    startedAt: "",
    uptimeS: 5,
    reloads: 2,
    lastReload: null,
    process: {
      rssBytes: 70_000_000,
      heapUsedBytes: 9_000_000,
      externalBytes: 0,
      openFds: 40,
      waits: { onThread: 0, onHelper: 0, forRuntime: 0 },
    },
    instances: [{
      name: "VI_1",
      interface: "eth0",
      vrid: 51,
      version: 3,
      family: "ipv4",
      state: "MASTER",
      reason: "",
      since: "",
      priority: 150,
      effectivePriority: 140,
      advertIntervalMs: 100,
      masterAdverIntervalMs: 100,
      masterAddress: null,
      preempt: true,
      preemptDelayMs: 0,
      unicastPeers: [],
      vips: [],
      faults: [],
      stats: { advertsSent: 7 },
      drops: { checksum: 3 },
    }],
    syncGroups: [],
    ipvs: { available: false, reason: "x", services: 0, lastOps: 0, errors: 0, syncDaemon: null },
    virtualServers: [{
      name: "TCP 10.0.0.1:80",
      quorumUp: true,
      realServers: [{ address: "10.0.0.11:80", up: false, weight: 0, reason: "", checks: [] }],
    }],
    tracked: [
      { kind: "script", name: "chk", up: true, detail: "exit 0" },
      { kind: "process", name: "haproxy", up: false, detail: "0 running (quorum 1)" },
    ],
    mail: { sent: 3, failed: 1, dropped: 0 },
    announce: {
      table: 198,
      protocol: 248,
      routes: [
        {
          prefix: "192.0.2.10/32",
          device: "eth0",
          announced: true,
          reasons: ["VI_1 MASTER"],
          sources: [{ name: "VI_1", holds: true }, { name: "TCP 192.0.2.10:80", holds: false }],
          error: null,
        },
        {
          prefix: "198.51.100.60/32",
          device: "lo",
          announced: false,
          reasons: ["UDP 198.51.100.60:53 quorum down, 0/1 real servers up (weight 0, quorum 1)"],
          sources: [{ name: "UDP 198.51.100.60:53", holds: false }],
          error: null,
        },
      ],
      adds: 3,
      withdrawals: 1,
    },
    drops: { "unknown-vrid": 4 },
  };
  const text = renderMetrics(st);
  assertMatch(text, /^haagent_vrrp_state\{instance="VI_1",interface="eth0",vrid="51"\} 2$/m);
  assertMatch(text, /^haagent_vrrp_priority\{.*\} 140$/m);
  assertMatch(text, /^haagent_vrrp_adverts_sent_total\{.*\} 7$/m);
  assertMatch(text, /^haagent_vrrp_dropped_adverts_total\{.*reason="checksum"\} 3$/m);
  assertMatch(text, /^haagent_vrrp_unknown_vrid_total 4$/m);
  assertMatch(text, /^process_resident_memory_bytes 70000000$/m);
  assertMatch(text, /^process_open_fds 40$/m);
  assertMatch(
    text,
    /^haagent_real_server_up\{virtual_server="TCP 10.0.0.1:80",real_server="10.0.0.11:80"\} 0$/m,
  );
  assertMatch(text, /^haagent_tracked_up\{kind="script",name="chk"\} 1$/m);
  assertMatch(text, /^haagent_tracked_up\{kind="process",name="haproxy"\} 0$/m);
  assertMatch(text, /^haagent_mail_alerts_total\{result="sent"\} 3$/m);
  assertMatch(text, /^haagent_mail_alerts_total\{result="failed"\} 1$/m);
  assertMatch(text, /^haagent_announce_route\{prefix="192.0.2.10\/32",table="198"\} 1$/m);
  assertMatch(text, /^haagent_announce_route\{prefix="198.51.100.60\/32",table="198"\} 0$/m);
  assertMatch(
    text,
    /^haagent_announce_source_holds\{prefix="192.0.2.10\/32",source="TCP 192.0.2.10:80"\} 0$/m,
  );
  assertMatch(text, /^haagent_announce_source_holds\{prefix="192.0.2.10\/32",source="VI_1"\} 1$/m);
  assertMatch(text, /^haagent_announce_changes_total\{change="withdraw"\} 1$/m);
  assert(text.endsWith("\n"));
  for (const line of text.split("\n").filter((l) => l && !l.startsWith("#"))) {
    assertMatch(line, /^[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?$/);
  }
});
