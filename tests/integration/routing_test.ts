/**
 * Routes and policy rules against keepalived 2.2.7 in the same topology: static_ipaddress,
 * static_routes and static_rules (installed at start, removed at stop) with every route type
 * and the rule options keepalived supports, and an instance's virtual_routes and virtual_rules
 * (installed while MASTER, removed when it stops). The kernel's tables (`ip rule`, `ip route show
 * table all`, `ip addr`) under keepalived and under haagent with the same configuration must
 * read the same, while running and after stop; and so does the keepalived.conf imported by
 * import-keepalived.
 */
import { assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";
import { importKeepalivedText, realFs } from "../../lib/config/import_keepalived.ts";

const why = netnsUnavailable() ?? (haveCommand("keepalived") ? null : "keepalived missing");
if (why !== null) console.log(`routing tests skipped: ${why}`);

const KEEPALIVED = `global_defs {
  router_id ka
}
static_ipaddress {
  10.66.0.1/24 dev eth0
  fd66::1/64 dev eth0
}
static_routes {
  10.70.0.0/16 via 10.77.0.254 dev eth0
  10.71.0.0/16 dev eth0 scope link table 100 metric 7
  10.69.0.0/16 dev eth0
  unreachable 10.72.0.0/16
  blackhole 10.73.0.0/16 table 100
  prohibit 10.74.0.0/16
  throw 10.75.0.0/16 table 100
  10.76.0.0/16 via 10.99.0.1 dev eth0 onlink
  fd70::/48 via fd77::254 dev eth0
}
static_rules {
  from 10.66.0.0/24 table 100 priority 100
  to 10.80.0.0/16 fwmark 7/255 iif eth0 table 100 priority 101
  from fd66::/64 lookup 100 priority 102
  not from 10.0.0.0/8 to 10.81.0.0/16 prohibit priority 103
  sport 1000-2000 dport 80-81 ipproto tcp table 100 priority 104
  uidrange 1000-1999 oif eth0 blackhole priority 105
  from 10.82.0.0/16 goto 200 priority 106
  from 10.83.0.0/16 nop priority 200
  to 10.84.0.0/16 table 100 suppress_prefixlength 0 priority 107
  tos 0x10 table 100 priority 108
  to 10.85.0.0/16 table 100
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.77.0.50/24
  }
  virtual_routes {
    10.90.0.0/16 via 10.77.0.254 dev eth0 onlink metric 5
    10.95.0.0/16 via 10.77.0.254 dev eth0 onlink table 200
    blackhole 10.91.0.0/16
    10.92.0.0/16 dev eth0 scope link
    unreachable 10.94.0.0/16 table 200
  }
  virtual_rules {
    from 10.77.0.50 table 200 priority 300
    to 10.93.0.0/16 prohibit priority 301
    from fd66::/64 to fd93::/32 table 200 priority 302
  }
}
`;

const HAAGENT = `static_ipaddresses:
  - { address: 10.66.0.1/24, device: eth0 }
  - { address: fd66::1/64, device: eth0 }
static_routes:
  - { to: 10.70.0.0/16, via: 10.77.0.254, device: eth0 }
  - { to: 10.71.0.0/16, device: eth0, scope: link, table: 100, metric: 7 }
  - { to: 10.69.0.0/16, device: eth0 }
  - { to: 10.72.0.0/16, type: unreachable }
  - { to: 10.73.0.0/16, type: blackhole, table: 100 }
  - { to: 10.74.0.0/16, type: prohibit }
  - { to: 10.75.0.0/16, type: throw, table: 100 }
  - { to: 10.76.0.0/16, via: 10.99.0.1, device: eth0, onlink: true }
  - { to: "fd70::/48", via: "fd77::254", device: eth0 }
static_rules:
  - { from: 10.66.0.0/24, table: 100, priority: 100 }
  - { to: 10.80.0.0/16, fwmark: 7, fwmask: 255, iif: eth0, table: 100, priority: 101 }
  - { from: "fd66::/64", table: 100, priority: 102 }
  - { invert: true, from: 10.0.0.0/8, to: 10.81.0.0/16, action: prohibit, priority: 103 }
  - { sport: "1000-2000", dport: "80-81", ip_proto: 6, table: 100, priority: 104 }
  - { uid_range: "1000-1999", oif: eth0, action: blackhole, priority: 105 }
  - { from: 10.82.0.0/16, action: goto, goto: 200, priority: 106 }
  - { from: 10.83.0.0/16, action: nop, priority: 200 }
  - { to: 10.84.0.0/16, table: 100, suppress_prefixlength: 0, priority: 107 }
  - { tos: 16, table: 100, priority: 108 }
  - { to: 10.85.0.0/16, table: 100 }
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    version: 2
    advert_interval: 1s
    virtual_ipaddresses: [10.77.0.50/24]
    virtual_routes:
      - { to: 10.90.0.0/16, via: 10.77.0.254, device: eth0, onlink: true, metric: 5 }
      - { to: 10.95.0.0/16, via: 10.77.0.254, device: eth0, onlink: true, table: 200 }
      - { to: 10.91.0.0/16, type: blackhole }
      - { to: 10.92.0.0/16, device: eth0, scope: link }
      - { to: 10.94.0.0/16, type: unreachable, table: 200 }
    virtual_rules:
      - { from: 10.77.0.50, table: 200, priority: 300 }
      - { to: 10.93.0.0/16, action: prohibit, priority: 301 }
      - { from: "fd66::/64", to: "fd93::/32", table: 200, priority: 302 }
`;

/** The kernel's rules, routes and addresses of r1, without what neither agent writes. */
async function tables(lab: VrrpLab): Promise<string[]> {
  const out: string[] = [];
  for (
    const cmd of [
      ["ip", "-4", "rule"],
      ["ip", "-6", "rule"],
      ["ip", "-4", "route", "show", "table", "all"],
      ["ip", "-6", "route", "show", "table", "all"],
      ["ip", "-o", "addr", "show", "dev", "eth0"],
    ]
  ) {
    const r = await lab.lab.tryExec("r1", cmd);
    for (const line of r.stdout.split("\n")) {
      const l = line.replace(/\s+/g, " ").replace(/\\ /g, "").trim();
      if (l === "" || /table local|fe80:|inet 10\.77\.0\.50\/|valid_lft/.test(l)) continue;
      out.push(`${cmd.join(" ")}: ${l.replace(/^\d+: eth0 /, "")}`);
    }
  }
  return out;
}

Deno.test({
  name: "routing: static addresses, routes and rules read the same under keepalived and haagent",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("rt");
    const before = await tables(lab);
    // Running and MASTER: the last static rule and the last virtual rule are in.
    const settled = async () => {
      const t = await tables(lab);
      return t.some((l) => l.includes("10.85.0.0/16")) && t.some((l) => l.includes("fd93::/32"));
    };
    // Start-up and the master-down interval at 1 s adverts (3.4 s) on a busy machine: generous;
    // a timeout shows the agent's log and the tables it left.
    const waitSettled = async (agent: { log: string[] }) => {
      try {
        await waitFor(settled, 30_000);
      } catch (e) {
        throw new Error(
          `${(e as Error).message}\n${(await tables(lab)).join("\n")}\n${agent.log.join("\n")}`,
        );
      }
    };

    const ka = lab.startKeepalived("r1", KEEPALIVED);
    await waitSettled(ka);
    await new Promise((r) => setTimeout(r, 500));
    const kaRunning = await tables(lab);
    await lab.stop(ka);
    const kaStopped = await tables(lab);

    const ha = lab.startHaagent("r1", HAAGENT);
    await waitSettled(ha);
    await new Promise((r) => setTimeout(r, 500));
    const haRunning = await tables(lab);
    await lab.stop(ha);
    const haStopped = await tables(lab);

    // The same keepalived.conf through import-keepalived.
    const imported = importKeepalivedText(KEEPALIVED, "keepalived.conf", realFs);
    assertEquals(imported.errors, []);
    const im = lab.startHaagent("r1", imported.yaml);
    await waitSettled(im);
    await new Promise((r) => setTimeout(r, 500));
    const imRunning = await tables(lab);
    await lab.stop(im);
    assertEquals(imRunning, kaRunning);
    assertEquals(await tables(lab), before);

    assertEquals(kaRunning.length > before.length + 20, true, kaRunning.join("\n"));
    for (
      const x of ["10.90.0.0/16", "10.91.0.0/16", "10.92.0.0/16", "10.94.0.0/16", "10.95.0.0/16"]
    ) {
      assertEquals(kaRunning.some((l) => l.includes(x)), true, `${x}\n${kaRunning.join("\n")}`);
    }
    assertEquals(haRunning, kaRunning);
    assertEquals(kaStopped, before);
    assertEquals(haStopped, before);
    const errors = ha.log.filter((l) => / ERROR /.test(l));
    assertEquals(errors, []);
  },
});
