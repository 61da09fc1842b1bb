import { assertEquals } from "../../tests/helpers/assert.ts";
import { announceEntries, type AnnounceView } from "./desired.ts";
import type { AnnouncePlan, QuorumReport } from "./plan.ts";

const PLAN: AnnouncePlan = {
  table: 198,
  protocol: 248,
  instances: [{
    name: "VI_1",
    addresses: [
      { family: "ipv4", address: "192.0.2.10", device: "eth0" },
      { family: "ipv6", address: "2001:db8::10", device: "eth1" },
    ],
  }],
  virtualServers: [
    {
      key: "dns",
      name: "UDP 198.51.100.60:53",
      addresses: [{ family: "ipv4", address: "198.51.100.60" }],
    },
    {
      key: "web",
      name: "TCP 192.0.2.10:80",
      addresses: [{ family: "ipv4", address: "192.0.2.10" }],
    },
  ],
};

function view(
  states: Record<string, string>,
  quorum: Record<string, QuorumReport>,
  holders: Record<string, string> = {},
): AnnounceView {
  return {
    instanceHolds: (n) => states[n] === "MASTER",
    instanceState: (n) => states[n] ?? null,
    quorum: (k) => quorum[k] ?? null,
    holder: (_f, a) => holders[a] ?? null,
  };
}

const up = (key: string, n = 2): QuorumReport => ({
  key,
  up: true,
  upServers: n,
  servers: 2,
  aliveWeight: n,
  quorum: 1,
});
const down = (key: string): QuorumReport => ({ ...up(key, 0), up: false });

Deno.test("announce entries: MASTER holds the VIPs, on their interfaces, with the reason", () => {
  const e = announceEntries(PLAN, view({ VI_1: "MASTER" }, {}));
  assertEquals(e.map((x) => [x.address, x.prefix, x.device, x.announce, x.reasons]), [
    ["192.0.2.10", 32, "eth0", true, ["VI_1 MASTER"]],
    ["2001:db8::10", 128, "eth1", true, ["VI_1 MASTER"]],
    ["198.51.100.60", 32, "lo", false, [
      "UDP 198.51.100.60:53 quorum unknown (no report from the load-balancer side)",
    ]],
  ]);
});

Deno.test("announce entries: BACKUP and a lost quorum announce nothing and say why", () => {
  const e = announceEntries(PLAN, view({ VI_1: "BACKUP" }, { dns: down("dns"), web: down("web") }));
  assertEquals(e.map((x) => x.announce), [false, false, false]);
  assertEquals(e[0]!.reasons, [
    "VI_1 BACKUP",
    "TCP 192.0.2.10:80 quorum down, 0/2 real servers up (weight 0, quorum 1)",
  ]);
  assertEquals(
    announceEntries(PLAN, view({}, {}))[1]!.reasons,
    ["VI_1 not running"],
  );
});

Deno.test("announce entries: a service with quorum points at lo unless its address is on an interface", () => {
  const e = announceEntries(
    PLAN,
    view({ VI_1: "BACKUP" }, { dns: up("dns"), web: up("web", 1) }, { "192.0.2.10": "eth0" }),
  );
  const [vip, , dns] = e;
  assertEquals([vip!.announce, vip!.device, vip!.reasons], [true, "eth0", [
    "TCP 192.0.2.10:80 quorum up, 1/2 real servers up (weight 1, quorum 1)",
  ]]);
  assertEquals([dns!.announce, dns!.device], [true, "lo"]);
  const both = announceEntries(PLAN, view({ VI_1: "MASTER" }, { web: up("web") }))[0]!;
  assertEquals(both.reasons.length, 2, "every source that holds it is a reason");
  assertEquals(both.device, "eth0", "the instance's interface wins");
});
