/**
 * A keepalived.conf converted by `haagent import-keepalived` runs against keepalived 2.2.7
 * started from the original file, in namespaces: VRRPv2, 1 s adverts, PASS authentication.
 * The higher priority takes the VIP and the other stays backup; when the master crashes the
 * backup takes over. Both ways round: haagent (imported) as master and as backup.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, type Output } from "../helpers/netns.ts";
import { longestDualMaster, type RouterName, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") ? null : "keepalived is not installed") ??
  (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`import interop tests skipped: ${why}`);

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const VIP = "10.77.0.61";
const INTERVAL_S = 1;

/** The operator's keepalived.conf, as it would be on both routers but for the priority. */
function keepalivedConf(router: RouterName, priority: number): string {
  return `! keepalived.conf of ${router}
global_defs {
    router_id ${router}
    vrrp_version 2
}

vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority ${priority}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass imp0rt
    }
    virtual_ipaddress {
        ${VIP}/24
    }
}
`;
}

async function cli(...args: string[]): Promise<Output> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}main.ts`, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

/** keepalived.conf -> YAML through the CLI, checked by `haagent check`. */
async function importConf(lab: VrrpLab, router: RouterName, priority: number): Promise<string> {
  const conf = `${lab.dir}/${router}-import.conf`;
  const out = `${lab.dir}/${router}-imported.yaml`;
  await Deno.writeTextFile(conf, keepalivedConf(router, priority));
  const r = await cli("import-keepalived", conf, "--out", out);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stderr, "", "a plain v2 configuration converts without warnings");
  const yaml = await Deno.readTextFile(out);
  for (
    const want of [
      /vrid: 61/,
      new RegExp(`priority: ${priority}`),
      /PASS/,
      /imp0rt/,
      /10\.77\.0\.61\/24/,
    ]
  ) {
    assertMatch(yaml, want);
  }
  const c = await cli("check", "--config", out);
  assertEquals(c.code, 0, c.stderr);
  return yaml;
}

async function scenario(haagentIsMaster: boolean): Promise<void> {
  await using lab = await VrrpLab.create(haagentIsMaster ? "ih" : "ik");
  const [hPrio, kPrio] = haagentIsMaster ? [150, 100] : [100, 150];
  const yaml = await importConf(lab, "r1", hPrio);
  const cap = await lab.capture();
  const master0 = haagentIsMaster ? "r1" : "r2";
  const backup0 = haagentIsMaster ? "r2" : "r1";
  // The backup-to-be starts first, so the election is real rather than first come.
  let ka, ha;
  if (haagentIsMaster) {
    ka = lab.startKeepalived("r2", keepalivedConf("r2", kPrio));
    await new Promise((r) => setTimeout(r, 500));
    ha = lab.startHaagent("r1", yaml);
  } else {
    ha = lab.startHaagent("r1", yaml);
    await lab.waitState(ha, "MASTER", 10_000);
    ka = lab.startKeepalived("r2", keepalivedConf("r2", kPrio));
  }
  await lab.waitVip(master0, VIP, 15_000);
  await lab.waitVip(backup0, VIP, 10_000, false);
  // Several advert intervals later nothing has moved.
  await new Promise((r) => setTimeout(r, 4000));
  assert(await lab.hasVip(master0, VIP), `${master0} lost the VIP`);
  assert(!(await lab.hasVip(backup0, VIP)), `${backup0} holds the VIP too`);
  const st = await lab.status(ha);
  assertEquals(st?.instances[0]?.state, haagentIsMaster ? "MASTER" : "BACKUP");
  assertEquals(st?.instances[0]?.priority, hPrio);
  if (!haagentIsMaster) assertEquals(st?.instances[0]?.masterAddress, ROUTERS.r2.addr4);
  const drops = Object.entries(st?.drops ?? {}).filter(([k, n]) => k !== "peer" && n > 0);
  assertEquals(drops, [], "haagent dropped keepalived's adverts");
  await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", VIP]);
  assertEquals(await lab.neighMac(VIP), ROUTERS[master0].mac);

  // The master crashes; the backup takes over.
  await lab.crash(haagentIsMaster ? ha : ka);
  await lab.lab.exec(master0, ["ip", "link", "set", "eth0", "down"]);
  const failoverMs = await lab.waitVip(backup0, VIP, 10_000);
  if (!haagentIsMaster) await lab.waitState(ha, "MASTER", 3000);
  await lab.lab.tryExec("c", ["ping", "-c", "1", "-W", "1", VIP]);
  assertEquals(await lab.neighMac(VIP), ROUTERS[backup0].mac, "the client follows the VIP");
  await new Promise((r) => setTimeout(r, 1500));
  const adverts = await cap.stop();
  const raw = cap.raw().split("\n");
  const fromHa = raw.filter((l) => l.includes(` ${ROUTERS.r1.addr4} > `) && l.includes("VRRPv2"));
  assert(fromHa.length > 0, "no adverts from haagent");
  assert(
    fromHa.every((l) => /authtype simple, intvl 1s/.test(l)),
    `haagent adverts are not PASS with 1 s:\n${fromHa[0]}`,
  );
  const dual = longestDualMaster(adverts, INTERVAL_S);
  console.log(
    `haagent ${haagentIsMaster ? "master" : "backup"}: failover ${failoverMs.toFixed(0)} ms, ` +
      `${adverts.length} adverts, longest dual master ${dual.toFixed(2)} s`,
  );
  assert(dual <= INTERVAL_S, `two masters for ${dual} s`);
  assert(failoverMs < (3 * INTERVAL_S + 2) * 1000, `failover took ${failoverMs} ms`);
}

Deno.test({
  name: "import interop: imported haagent (prio 150) is master over keepalived (100), then fails",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => scenario(true),
});

Deno.test({
  name: "import interop: imported haagent (prio 100) backs up keepalived (150), then takes over",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => scenario(false),
});
