/**
 * More than 255 VIPs (issue 11 item 3), in namespaces, beside keepalived 2.2.7: as keepalived
 * does, the VIPs past what fits in an advert (255 addresses, fewer for IPv6 or a small MTU) are
 * held but not listed in adverts; haagent becomes MASTER with all 300, its adverts list the
 * first 255 (tcpdump), keepalived as backup (the same 300 in its file) accepts them and stays
 * backup; SIGTERM ends haagent at once with every VIP removed and keepalived takes over; and
 * `haagent check` warns at the first address that does not fit. It used to throw in a timer on
 * every advert: no advert, BACKUP forever, and SIGTERM failed to stop the agent.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, readLines, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") && haveCommand("tcpdump") ? null : "keepalived or tcpdump missing");
if (why !== null) console.log(`many VIPs tests skipped: ${why}`);
const ignore = why !== null;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const N = 300;
const vips = Array.from({ length: N }, (_, i) => `10.77.${1 + Math.floor(i / 250)}.${1 + i % 250}`);

function yaml(prio: number): string {
  return `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 91
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses:
${vips.map((v) => `      - ${v}/32`).join("\n")}
`;
}

function keepalivedConf(prio: number): string {
  return `global_defs {
  vrrp_version 3
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 91
  priority ${prio}
  advert_int 0.1
  virtual_ipaddress {
${vips.map((v) => `    ${v}/32`).join("\n")}
  }
}
`;
}

async function vipCount(lab: VrrpLab, router: "r1" | "r2"): Promise<number> {
  const out = await lab.lab.tryExec(router, ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
  const held = new Set(out.stdout.split("\n").map((l) => /inet (\S+)\/32/.exec(l)?.[1]));
  return vips.filter((v) => held.has(v)).length;
}

Deno.test({
  name: "many VIPs: check warns at the 256th address, as keepalived moves the excess to eVIPs",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/ha.yaml`, yaml(150));
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", `${ROOT}main.ts`, "check", "--config", `${dir}/ha.yaml`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(o.stderr).trim().split("\n");
      assertEquals(o.code, 0, err.join("\n"));
      assertEquals(err, [
        `${dir}/ha.yaml:265:9: warning: vrrp_instances.VI_1.virtual_ipaddresses[255]: 300 ` +
        "addresses do not fit in an advert (at most 255 on a 1500-byte MTU): the last 45 are " +
        "held but not advertised, like virtual_ipaddresses_excluded (keepalived: excess moved " +
        "to eVIPs)",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "many VIPs: haagent masters 300 VIPs, advertises 255, keepalived stays backup",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("mv");
    const ka = lab.startKeepalived("r2", keepalivedConf(100));
    const dump = lab.lab.spawn("c", ["tcpdump", "-l", "-n", "-v", "-i", "eth0", "ip proto 112"], {
      stdout: "piped",
      stderr: "piped",
    });
    const lines: string[] = [];
    const errs: string[] = [];
    void readLines(dump.child.stdout, lines);
    void readLines(dump.child.stderr, errs);
    await waitFor(() => errs.some((l) => l.includes("listening on")), 10_000);
    await waitFor(async () => (await vipCount(lab, "r2")) === N, 15_000).catch(() => {
      throw new Error(`keepalived alone did not hold ${N} VIPs\n${ka.log.join("\n")}`);
    });
    assert(
      ka.log.some((l) => l.includes("Number of VIPs (300) exceeds maximum")),
      ka.log.join("\n"),
    );
    const r1 = lab.startHaagent("r1", yaml(150));
    await lab.waitState(r1, "MASTER", 20_000);
    await waitFor(async () => (await vipCount(lab, "r1")) === N, 10_000).catch(async () => {
      throw new Error(`r1 holds ${await vipCount(lab, "r1")} VIPs\n${r1.log.join("\n")}`);
    });
    await waitFor(async () => (await vipCount(lab, "r2")) === 0, 10_000);
    assert(r1.log.some((l) => l.includes("45 of 300 VIPs are not advertised")), r1.log.join("\n"));
    await new Promise((r) => setTimeout(r, 1000));
    // Adverts from r1 list 255 addresses; keepalived, which moved the same 45 away, stays
    // backup and counts no address mismatch.
    const fromR1 = lines.filter((l) => l.includes("10.77.0.1 > 224.0.0.18"));
    assert(fromR1.length >= 5, lines.slice(-5).join("\n"));
    assert(fromR1.every((l) => l.includes("addrs(255)")), fromR1[fromR1.length - 1]);
    const st = await lab.status(r1);
    assertEquals(st?.instances[0]?.state, "MASTER");
    assertEquals(st?.instances[0]?.faults, []);
    // SIGTERM ends it promptly, all 300 removed; keepalived takes over with all 300.
    const t0 = performance.now();
    r1.proc.kill("SIGTERM");
    const code = (await r1.proc.child.status).code;
    const stopS = (performance.now() - t0) / 1000;
    console.log(`haagent with ${N} VIPs stopped in ${stopS.toFixed(2)} s`);
    assertEquals(code, 0, r1.log.join("\n"));
    assert(stopS < 8, `stop took ${stopS} s`);
    assertEquals(await vipCount(lab, "r1"), 0);
    await waitFor(async () => (await vipCount(lab, "r2")) === N, 10_000);
    dump.kill("SIGINT");
    await dump.child.status;
  },
});
