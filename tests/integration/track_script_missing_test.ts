/**
 * A missing or non-executable track script (issue 11 item 7), in namespaces beside keepalived
 * 2.2.7: keepalived disables such a script ("Disabling track script chk since not
 * found/accessible") and the instance goes on; haagent does the same (it used to put the
 * instance in FAULT, so with the same file on both nodes there was no master at all), and
 * `haagent check` warns at the command.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ?? (haveCommand("keepalived") ? null : "keepalived missing");
if (why !== null) console.log(`missing track script tests skipped: ${why}`);
const ignore = why !== null;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const VIP = "10.77.0.93";

function yaml(prio: number, script: string): string {
  return `global:
  vrrp_version: 3
scripts:
  chk:
    command: ${script}
    interval: 1s
    weight: 0
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 93
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP}/24]
    track_scripts: [chk]
`;
}

function keepalivedConf(prio: number, script: string): string {
  return `global_defs {
  vrrp_version 3
}
vrrp_script chk {
  script "${script}"
  interval 1
  weight 0
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 93
  priority ${prio}
  advert_int 0.1
  virtual_ipaddress {
    ${VIP}/24
  }
  track_script {
    chk
  }
}
`;
}

Deno.test({
  name: "missing track script: disabled as keepalived does, a master is elected; check warns",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("ms");
    const missing = `${lab.dir}/no-such-check.sh`;
    const plain = `${lab.dir}/not-executable.sh`;
    await Deno.writeTextFile(plain, "#!/bin/sh\nexit 0\n", { mode: 0o644 });
    // check, on this host: a warning at the command, the file stays valid.
    for (const [script, problem] of [[missing, "not found"], [plain, "not executable"]]) {
      await Deno.writeTextFile(`${lab.dir}/check.yaml`, yaml(150, script!));
      const o = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", `${ROOT}main.ts`, "check", "-f", `${lab.dir}/check.yaml`],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(o.stderr);
      assertEquals(o.code, 0, err);
      assert(
        err.includes(`check.yaml:5:14: warning: scripts.chk.command: ${script}: ${problem}`) &&
          err.includes("the agent will not track this script"),
        err,
      );
    }
    // The same missing script on both nodes: keepalived (r2) disables it and so does haagent
    // (r1): r1 is master, keepalived backup.
    const ka = lab.startKeepalived("r2", keepalivedConf(100, missing));
    const r1 = lab.startHaagent("r1", yaml(150, missing));
    await lab.waitState(r1, "MASTER", 20_000);
    await lab.waitVip("r1", VIP, 5000);
    await waitFor(
      () => ka.log.some((l) => l.includes("Disabling track script chk since not found")),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert(!(await lab.hasVip("r2", VIP)), "keepalived took the VIP too");
    const st = await lab.status(r1);
    assertEquals(st?.instances[0]?.faults, []);
    assertEquals(
      st?.tracked.find((t) => t.name === "chk")?.detail,
      `disabled: ${missing}: not found`,
    );
    assert(
      r1.log.some((l) => l.includes("Disabling track script chk since not found/accessible")),
      r1.log.join("\n"),
    );
    // haagent goes, keepalived takes over: its instance runs without the script too.
    r1.proc.kill("SIGTERM");
    await r1.proc.child.status;
    await lab.waitVip("r2", VIP, 5000);
  },
});
