/**
 * keepalived's per-instance VRRP options, each shown on the wire or in the kernel, in
 * namespaces (haagent on r1 and r2, keepalived 2.2.7 as the peer where one is needed, crafted
 * adverts from the client through fixtures/ffi_send.ts):
 * - a master that hears a lower priority answers with an advert and garp_lower_prio_repeat
 *   gratuitous ARPs (again after garp_lower_prio_delay); lower_prio_no_advert silences both
 *   under vrrp_strict's defaults; higher_prio_send_advert sends one advert before yielding;
 * - garp_master_refresh with garp_master_refresh_repeat;
 * - dont_track_primary keeps an instance out of FAULT while its link is down;
 * - mcast_dst_ip with keepalived on the same group;
 * - unicast_ttl on the wire, min_ttl / max_ttl checked on both sides;
 * - the VRRPv2 address-list check: dropped and counted unless from the address owner, and
 *   skip_check_adv_addr keeping a known master.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type Agent, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";
import { encodeAdvert } from "../../lib/vrrp/packet.ts";
import { mustParseIp } from "../../lib/net/ip.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") ? null : "keepalived is not installed") ??
  (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`vrrp option tests skipped: ${why}`);
const ignore = why !== null;
const T = { ignore, sanitizeResources: false, sanitizeOps: false };

const SEND = new URL("./fixtures/ffi_send.ts", import.meta.url).pathname;

/** Sends one VRRPv2 advert from the client (10.77.0.100) to 224.0.0.18. */
async function inject(lab: VrrpLab, vrid: number, priority: number, vips: string[]) {
  const payload = encodeAdvert({
    version: 2,
    type: 1,
    vrid,
    priority,
    maxAdverIntCs: 100,
    authType: 0,
    authData: null,
    addresses: vips.map((v) => mustParseIp(v).bytes),
  }, {
    family: "ipv4",
    src: mustParseIp("10.77.0.100").bytes,
    dst: mustParseIp("224.0.0.18").bytes,
    v3Checksum: "keepalived",
  });
  const hex = [...payload].map((b) => b.toString(16).padStart(2, "0")).join("");
  await lab.lab.exec("c", [
    "deno",
    "run",
    "-A",
    SEND,
    "raw",
    "ipv4",
    "eth0",
    "224.0.0.18",
    hex,
    "1",
    "0",
  ]);
}

/** tcpdump on the client with timestamps: VRRP and ARP. */
function sniff(lab: VrrpLab, filter = "arp or ip proto 112") {
  const p = lab.lab.spawn("c", ["tcpdump", "-l", "-n", "-tt", "-v", "-i", "eth0", filter], {
    stdout: "piped",
    stderr: "piped",
  });
  const lines: string[] = [];
  const err: string[] = [];
  void (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const c of p.child.stdout) {
      buf += dec.decode(c, { stream: true });
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
    }
  })();
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of p.child.stderr) err.push(dec.decode(c));
  })();
  return {
    lines,
    ready: () => waitFor(() => err.join("").includes("listening on"), 10_000),
    stop: async () => {
      await new Promise((r) => setTimeout(r, 300));
      p.kill("SIGINT");
      await p.child.status;
    },
  };
}

/** Seconds of a tcpdump -tt line. */
const ts = (l: string) => Number(l.split(" ")[0]);

/** (time, vrid, prio) of adverts from `src` in tcpdump -v lines (header line + detail line). */
function adverts(lines: string[], src: string): { t: number; vrid: number; prio: number }[] {
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!l.includes("proto VRRP")) continue;
    const next = lines[i + 1] ?? "";
    if (!next.includes(`${src} > `)) continue;
    const m = /vrid (\d+), prio (\d+)/.exec(next);
    if (m) out.push({ t: ts(l), vrid: Number(m[1]), prio: Number(m[2]) });
  }
  return out;
}

/** Times of gratuitous ARPs for `vip`. */
function garps(lines: string[], vip: string): number[] {
  return lines.filter((l) => l.includes(`Request who-has ${vip}`) && l.includes(`tell ${vip}`))
    .map(ts);
}

async function drops(lab: VrrpLab, a: Agent, inst: number, reason: string): Promise<number> {
  return (await lab.status(a))?.instances[inst]?.drops[reason] ?? 0;
}

Deno.test({
  name: "options: a lower-priority advert to a master: advert and GARPs, or silence under strict",
  ...T,
  async fn() {
    await using lab = await VrrpLab.create("oa");
    const ha = lab.startHaagent(
      "r1",
      `global: { router_id: r1, garp_master_delay: 0s, garp_master_repeat: 1 }
vrrp_instances:
  LOUD:
    interface: eth0
    vrid: 61
    priority: 150
    garp_lower_prio_repeat: 2
    garp_lower_prio_delay: 2s
    virtual_ipaddresses: [10.77.0.61/24]
  QUIET:
    interface: eth0
    vrid: 62
    priority: 150
    strict_mode: true
    virtual_ipaddresses: [10.77.0.62/24]
`,
    );
    await lab.waitVip("r1", "10.77.0.61", 10_000);
    await lab.waitVip("r1", "10.77.0.62", 10_000);
    const cap = sniff(lab);
    await cap.ready();
    await new Promise((r) => setTimeout(r, 1200));
    const t0 = Date.now() / 1000;
    await inject(lab, 61, 50, ["10.77.0.61"]);
    await inject(lab, 62, 50, ["10.77.0.62"]);
    await new Promise((r) => setTimeout(r, 2800));
    await cap.stop();
    const client = adverts(cap.lines, "10.77.0.100");
    const hit61 = client.find((a) => a.vrid === 61)!.t;
    const hit62 = client.find((a) => a.vrid === 62)!.t;
    assert(hit61 >= t0 - 1 && hit62 >= t0 - 1, "the injected adverts were captured");
    const r1 = adverts(cap.lines, ROUTERS.r1.addr4);
    // LOUD answers within a few ms (RFC 9568); its regular adverts come a second apart.
    const answer = r1.filter((a) => a.vrid === 61 && a.t >= hit61 && a.t < hit61 + 0.1);
    assertEquals(answer.length, 1, `answer to the lower advert: ${JSON.stringify(r1)}`);
    const loud = garps(cap.lines, "10.77.0.61").filter((t) => t >= hit61);
    assertEquals(loud.filter((t) => t < hit61 + 0.1).length, 2, `GARPs at once: ${loud}`);
    assertEquals(loud.filter((t) => t > hit61 + 1.9 && t < hit61 + 2.3).length, 2, `${loud}`);
    // QUIET (vrrp_strict: lower_prio_no_advert, no lower-priority GARPs): nothing extra.
    const quiet = r1.filter((a) => a.vrid === 62 && a.t >= hit62 && a.t < hit62 + 0.1);
    assertEquals(quiet.length, 0, `QUIET answered: ${JSON.stringify(quiet)}`);
    assertEquals(garps(cap.lines, "10.77.0.62").filter((t) => t >= hit62).length, 0);
    assertEquals((await lab.status(ha))?.instances.map((i) => i.state), ["MASTER", "MASTER"]);
  },
});

Deno.test({
  name: "options: higher_prio_send_advert sends one more advert before yielding",
  ...T,
  async fn() {
    await using lab = await VrrpLab.create("ob");
    lab.startHaagent(
      "r1",
      `vrrp_instances:
  EAGER: { interface: eth0, vrid: 63, priority: 150, higher_prio_send_advert: true, virtual_ipaddresses: [10.77.0.63/24] }
  PLAIN: { interface: eth0, vrid: 64, priority: 150, virtual_ipaddresses: [10.77.0.64/24] }
`,
    );
    await lab.waitVip("r1", "10.77.0.63", 10_000);
    await lab.waitVip("r1", "10.77.0.64", 10_000);
    const cap = sniff(lab, "ip proto 112");
    await cap.ready();
    await new Promise((r) => setTimeout(r, 1200));
    await inject(lab, 63, 250, ["10.77.0.63"]);
    await inject(lab, 64, 250, ["10.77.0.64"]);
    await lab.waitVip("r1", "10.77.0.63", 3000, false);
    await lab.waitVip("r1", "10.77.0.64", 3000, false);
    await cap.stop();
    const client = adverts(cap.lines, "10.77.0.100");
    const r1 = adverts(cap.lines, ROUTERS.r1.addr4);
    for (const [vrid, want] of [[63, 1], [64, 0]]) {
      const hit = client.find((a) => a.vrid === vrid)!.t;
      const after = r1.filter((a) => a.vrid === vrid && a.t >= hit && a.t < hit + 0.1);
      assertEquals(after.length, want, `vrid ${vrid}: ${JSON.stringify(after)}`);
    }
  },
});

Deno.test({
  name: "options: garp_master_refresh with garp_master_refresh_repeat",
  ...T,
  async fn() {
    await using lab = await VrrpLab.create("oc");
    const cap = sniff(lab, "arp");
    await cap.ready();
    lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 65
    priority: 255
    garp_master_delay: 0s
    garp_master_repeat: 1
    garp_master_refresh: 2s
    garp_master_refresh_repeat: 3
    virtual_ipaddresses: [10.77.0.65/24]
`,
    );
    await lab.waitVip("r1", "10.77.0.65", 10_000);
    await new Promise((r) => setTimeout(r, 4600));
    await cap.stop();
    const times = garps(cap.lines, "10.77.0.65");
    const first = times[0]!;
    const at = (s: number) => times.filter((t) => t > first + s - 0.2 && t < first + s + 0.2);
    assertEquals(at(0).length, 1, `${times}`);
    assertEquals(at(2).length, 3, `${times}`);
    assertEquals(at(4).length, 3, `${times}`);
  },
});

Deno.test({
  name: "options: dont_track_primary keeps an instance out of FAULT while its link is down",
  ...T,
  async fn() {
    await using lab = await VrrpLab.create("od");
    const ha = lab.startHaagent(
      "r1",
      `vrrp_instances:
  TRACKED: { interface: eth0, vrid: 66, priority: 150, virtual_ipaddresses: [10.77.0.66/24] }
  CROSS: { interface: eth0, vrid: 67, priority: 150, dont_track_primary: true, virtual_ipaddresses: [10.77.0.67/24] }
`,
    );
    await lab.waitVip("r1", "10.77.0.67", 10_000);
    // Carrier off: the switch side of r1's cable goes down.
    await lab.lab.exec("sw", ["ip", "link", "set", `${lab.lab.prefix}r1`, "down"]);
    await waitFor(async () => (await lab.status(ha))?.instances[0]?.state === "FAULT", 5000);
    await new Promise((r) => setTimeout(r, 500));
    const s = await lab.status(ha);
    assertEquals(s?.instances.map((i) => i.state), ["FAULT", "MASTER"]);
    assert(await lab.hasVip("r1", "10.77.0.67"));
    assert(!(await lab.hasVip("r1", "10.77.0.66")));
  },
});

Deno.test({
  name: "options: mcast_dst_ip with keepalived on 224.0.0.19",
  ...T,
  async fn() {
    await using lab = await VrrpLab.create("oe");
    const cap = sniff(lab, "ip proto 112");
    await cap.ready();
    const ha = lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_1: { interface: eth0, vrid: 68, priority: 150, mcast_dst_ip: 224.0.0.19, virtual_ipaddresses: [10.77.0.68/24] }
`,
    );
    lab.startKeepalived(
      "r2",
      `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 68
  priority 100
  advert_int 1
  mcast_dst_ip 224.0.0.19
  virtual_ipaddress {
    10.77.0.68/24
  }
}
`,
    );
    await lab.waitVip("r1", "10.77.0.68", 10_000);
    await new Promise((r) => setTimeout(r, 3000));
    assert(!(await lab.hasVip("r2", "10.77.0.68")), "keepalived stays backup");
    await cap.stop();
    const lines = cap.lines.join("\n");
    assertMatch(lines, /10\.77\.0\.1 > 224\.0\.0\.19: VRRPv2/);
    assert(!lines.includes("> 224.0.0.18"), "nothing went to 224.0.0.18");
    assertEquals((await lab.status(ha))?.instances[0]?.state, "MASTER");
  },
});

Deno.test({
  name: "options: unicast_ttl on the wire; min_ttl / max_ttl on both sides",
  ...T,
  async fn() {
    await using lab = await VrrpLab.create("of");
    const cap = await lab.capture("r2", "ip proto 112");
    const ha = lab.startHaagent(
      "r1",
      `vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 69
    priority: 150
    unicast_ttl: 77
    unicast_src_ip: 10.77.0.1
    unicast_peers: [{ address: 10.77.0.2, min_ttl: 250 }]
    virtual_ipaddresses: [10.77.0.69/24]
`,
    );
    // keepalived accepts haagent's TTL 77 within 70..80; its own adverts (TTL 100) are below
    // haagent's min_ttl 250, so haagent drops them as "ttl".
    lab.startKeepalived(
      "r2",
      `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 69
  priority 100
  advert_int 1
  unicast_ttl 100
  unicast_src_ip 10.77.0.2
  unicast_peer {
    10.77.0.1 min_ttl 70 max_ttl 80
  }
  virtual_ipaddress {
    10.77.0.69/24
  }
}
`,
    );
    await lab.waitVip("r1", "10.77.0.69", 10_000);
    await new Promise((r) => setTimeout(r, 4500));
    const raw = cap.raw();
    await cap.stop();
    assert(!(await lab.hasVip("r2", "10.77.0.69")), "keepalived took haagent's TTL 77 adverts");
    assertMatch(raw, /10\.77\.0\.1 > 10\.77\.0\.2: VRRPv2/);
    const cap2 = sniff(lab, "ip proto 112");
    await cap2.ready();
    // Stop haagent's adverts reaching keepalived: keepalived becomes master and sends TTL 100.
    await lab.nft(
      "r2",
      "table ip t { chain in { type filter hook input priority 0; ip saddr 10.77.0.1 ip protocol 112 drop; }; }",
    );
    await lab.waitVip("r2", "10.77.0.69", 10_000);
    await waitFor(async () => (await drops(lab, ha, 0, "ttl")) > 0, 5000);
    assertEquals((await lab.status(ha))?.instances[0]?.state, "MASTER", "haagent ignored them");
    await cap2.stop();
    const tcpdump = await lab.lab.exec("sw", [
      "sh",
      "-c",
      `timeout 3 tcpdump -n -v -c 2 -i ${lab.lab.prefix}r1 ip proto 112 and src 10.77.0.1 2>/dev/null`,
    ]);
    assertMatch(tcpdump, /ttl 77/);
  },
});

Deno.test({
  name: "options: VRRPv2 adverts listing other addresses are dropped unless from the owner",
  ...T,
  async fn() {
    for (const kaPrio of [200, 255]) {
      await using lab = await VrrpLab.create("og");
      const ka = lab.startKeepalived(
        "r2",
        `vrrp_instance VI_1 {
  state ${kaPrio === 255 ? "MASTER" : "BACKUP"}
  interface eth0
  virtual_router_id 70
  priority ${kaPrio}
  advert_int 1
  virtual_ipaddress {
    10.77.0.70/24
    10.77.0.71/24
  }
}
`,
      );
      await lab.waitVip("r2", "10.77.0.70", 10_000);
      const ha = lab.startHaagent(
        "r1",
        `vrrp_instances:
  VI_1: { interface: eth0, vrid: 70, priority: 100, virtual_ipaddresses: [10.77.0.70/24] }
`,
      );
      if (kaPrio === 255) {
        // RFC 3768 7.1: the address owner's advert is processed: haagent stays backup.
        await lab.waitState(ha, "BACKUP", 5000);
        await new Promise((r) => setTimeout(r, 4500));
        assertEquals((await lab.status(ha))?.instances[0]?.state, "BACKUP");
        assertEquals(await drops(lab, ha, 0, "addresses"), 0);
        assertMatch(ha.log.join("\n"), /address owner 10\.77\.0\.2 lists other addresses/);
      } else {
        // Dropped and counted: haagent hears no master and takes over, as keepalived would.
        await lab.waitVip("r1", "10.77.0.70", 10_000);
        assert((await drops(lab, ha, 0, "addresses")) >= 3);
      }
      await lab.stop(ka);
    }
  },
});

Deno.test({
  name: "options: skip_check_adv_addr keeps a known master whose list changed",
  ...T,
  async fn() {
    for (const skip of [true, false]) {
      await using lab = await VrrpLab.create("oh");
      const conf = (vips: string[]) =>
        `vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 71
  priority 200
  advert_int 1
  virtual_ipaddress {
    ${vips.join("\n    ")}
  }
}
`;
      const ka = lab.startKeepalived("r2", conf(["10.77.0.72/24"]));
      await lab.waitVip("r2", "10.77.0.72", 10_000);
      const ha = lab.startHaagent(
        "r1",
        `vrrp_instances:
  VI_1: { interface: eth0, vrid: 71, priority: 100, skip_check_adv_addr: ${skip}, virtual_ipaddresses: [10.77.0.72/24] }
`,
      );
      await lab.waitState(ha, "BACKUP", 5000);
      await new Promise((r) => setTimeout(r, 1500));
      // keepalived reloads with one more VIP: its adverts now list two addresses.
      Deno.writeTextFileSync(
        `${lab.dir}/r2-keepalived.conf`,
        conf(["10.77.0.72/24", "10.77.0.73/24"]),
      );
      ka.proc.kill("SIGHUP");
      await lab.waitVip("r2", "10.77.0.73", 10_000);
      await new Promise((r) => setTimeout(r, 4500));
      const s = (await lab.status(ha))?.instances[0];
      if (skip) {
        assertEquals(s?.state, "BACKUP", "skip_check_adv_addr: the known master is kept");
        assertEquals(s?.drops["addresses"], 0);
      } else {
        assertEquals(s?.state, "MASTER", "without it the adverts are dropped");
        assert((s?.drops["addresses"] ?? 0) > 0);
      }
    }
  },
});
