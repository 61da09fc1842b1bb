/**
 * Issue 11 item 1: a reload of a large file must not stall the VRRP loop. r1 runs haagent as
 * master (VRRPv3, 100 ms adverts) with 1,000 virtual servers x 10 real servers, imported from
 * keepalived.conf; r2 runs haagent as its backup. r1 reloads three times (each time with every
 * real server's weight changed, so the load-balancer side has work too). The backup must never
 * take over: no MASTER state on r2, no advert from r2 (a gap in r1's adverts longer than the
 * master-down interval, 3 x 100 ms + skew = 361 ms, would cause both). The worst gap between
 * r1's adverts is printed; before the loader moved to a worker it was 0.81-0.83 s.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type Agent, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";
import { type BigConfig, bigHaagentYaml } from "../helpers/big_config.ts";

const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`reload stall test skipped: ${why}`);

const VIP = "10.77.0.51";
const RELOADS = 3;

const BIG: BigConfig = {
  router: "r1",
  priority: 150,
  vrid: 51,
  vip: `${VIP}/24`,
  version: 3,
  advertIntervalMs: 100,
  services: 1000,
  servers: 10,
  variant: 0,
};

const SMALL = `global:
  router_id: r2
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 100
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP}/24]
`;

function reloadsLogged(a: Agent): number {
  return a.log.filter((l) => l.includes("reloaded ")).length;
}

Deno.test({
  name: "reload of 1,000 x 10 virtual servers beside a backup at 100 ms: no takeover",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("rs");
    const files: string[] = [];
    for (let v = 0; v <= RELOADS; v++) {
      files.push(await bigHaagentYaml({ ...BIG, variant: v }, lab.dir));
    }
    const r1 = lab.startHaagent("r1", files[0]!);
    await lab.waitState(r1, "MASTER", 60_000);
    const r2 = lab.startHaagent("r2", SMALL);
    await lab.waitState(r2, "BACKUP", 20_000);
    // Only r2 is polled during the reloads: r1's status is large (10,000 real servers).
    const r2States = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const s = (await lab.status(r2))?.instances[0]?.state;
        if (s !== undefined) r2States.add(s);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const cap = await lab.capture();
    await new Promise((r) => setTimeout(r, 1000));
    const pid = (await Deno.readTextFile(`${lab.dir}/r1.pid`)).trim();
    for (let k = 1; k <= RELOADS; k++) {
      await Deno.writeTextFile(`${lab.dir}/r1.yaml`, files[k]!);
      await lab.lab.exec(null, ["kill", "-HUP", pid]);
      await waitFor(() => reloadsLogged(r1) >= k, 60_000, 20);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const adverts = await cap.stop();
    polling = false;
    await poller;
    const mine = adverts.filter((a) => a.src === ROUTERS.r1.addr4 && a.vrid === 51);
    let worst = 0;
    for (let i = 1; i < mine.length; i++) worst = Math.max(worst, mine[i]!.t - mine[i - 1]!.t);
    const fromR2 = adverts.filter((a) => a.src === ROUTERS.r2.addr4 && a.priority > 0);
    console.log(
      `${RELOADS} reloads of 1,000 x 10: ${mine.length} adverts from r1, worst gap ` +
        `${(worst * 1000).toFixed(1)} ms; adverts from r2: ${fromR2.length}; r2 states seen: ` +
        `${[...r2States].join(", ")}`,
    );
    const reloadLines = r1.log.filter((l) => l.includes("reload"));
    assertEquals(reloadsLogged(r1), RELOADS, reloadLines.join("\n"));
    assert(mine.length > 0, "r1's adverts were captured");
    assertEquals(fromR2.length, 0, `r2 sent adverts as master\n${r2.log.slice(-20).join("\n")}`);
    assertEquals([...r2States], ["BACKUP"], "the backup never left BACKUP");
  },
});
