/**
 * Tracking in namespaces: a failing vrrp_script with a negative weight hands mastership to
 * the peer and takes it back when it passes again; a weight-0 script puts the instance in
 * FAULT; a sync group moves its members together.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`tracking tests skipped: ${why}`);
const ignore = why !== null;

/** Two instances; VI_1 tracks `test -f flag` unless `flag` is null. */
function yaml(prio: number, flag: string | null, weight: number, group: boolean): string {
  const scripts = flag === null ? "" : `scripts:
  chk_flag:
    command: "/usr/bin/test -f ${flag}"
    interval: 100ms
    timeout: 1s
    weight: ${weight}
    fall: 2
    rise: 2
`;
  return `global:
  vrrp_version: 3
${scripts}vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
${flag === null ? "" : "    track_scripts: [chk_flag]\n"}  VI_2:
    interface: eth0
    vrid: 52
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.52/24]
${group ? "sync_groups:\n  G1:\n    members: [VI_1, VI_2]\n" : ""}`;
}

Deno.test({
  name: "tracking: a failing script with weight -60 hands over, and takes back when it passes",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("tr");
    const flag = `${lab.dir}/flag`;
    await Deno.writeTextFile(flag, "");
    const r1 = lab.startHaagent("r1", yaml(150, flag, -60, false));
    const r2 = lab.startHaagent("r2", yaml(100, null, 0, false));
    // Start-up (Deno's included) takes seconds on a busy machine: generous, it is not tested here.
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    await lab.waitState(r2, "BACKUP", 15_000);
    await Deno.remove(flag);
    await lab.waitVip("r2", "10.77.0.50", 5000);
    await lab.waitVip("r1", "10.77.0.50", 2000, false);
    const st = await lab.status(r1);
    assertEquals(st?.instances[0]?.effectivePriority, 90);
    assert(await lab.hasVip("r1", "10.77.0.52"), "the untracked instance stays master");
    await Deno.writeTextFile(flag, "");
    await lab.waitVip("r1", "10.77.0.50", 5000);
    await lab.waitState(r1, "MASTER", 2000);
    assertEquals((await lab.status(r1))?.instances[0]?.effectivePriority, 150);
  },
});

Deno.test({
  name: "tracking: a weight-0 script puts the instance in FAULT; a sync group follows it",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("sg");
    const flag = `${lab.dir}/flag`;
    await Deno.writeTextFile(flag, "");
    const r1 = lab.startHaagent("r1", yaml(150, flag, 0, true));
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    await lab.waitVip("r1", "10.77.0.52", 15_000);
    await Deno.remove(flag);
    await lab.waitVip("r1", "10.77.0.50", 3000, false);
    await lab.waitVip("r1", "10.77.0.52", 3000, false);
    const st = await lab.status(r1);
    assertEquals(st?.instances.map((i) => i.state), ["FAULT", "FAULT"]);
    assertEquals(st?.syncGroups[0]?.state, "FAULT");
    await Deno.writeTextFile(flag, "");
    await lab.waitVip("r1", "10.77.0.50", 5000);
    await lab.waitVip("r1", "10.77.0.52", 5000);
  },
});

Deno.test({
  name: "tracking: a tracked process (weight 0) that exits puts the instance in FAULT; it returns",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("tp");
    // A process name no other process has: a copy of sleep under that name.
    const name = `hatrk${crypto.randomUUID().slice(0, 8)}`;
    const exe = `${lab.dir}/${name}`;
    await Deno.copyFile("/bin/sleep", exe);
    await Deno.chmod(exe, 0o755);
    const start = () =>
      new Deno.Command(exe, { args: ["600"], stdout: "null", stderr: "null" }).spawn();
    let daemon = start();
    try {
      const r1 = lab.startHaagent(
        "r1",
        `global:
  vrrp_version: 3
  process_scan_interval: 200ms
processes:
  daemon:
    process: ${name}
    parameters: "600"
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
    track_processes: [daemon]
`,
      );
      await lab.waitVip("r1", "10.77.0.50", 15_000);
      assertEquals((await lab.status(r1))?.instances[0]?.state, "MASTER");
      daemon.kill("SIGKILL");
      await daemon.status;
      const t0 = performance.now();
      await lab.waitState(r1, "FAULT", 5000);
      const tookMs = performance.now() - t0;
      await lab.waitVip("r1", "10.77.0.50", 2000, false);
      const st = await lab.status(r1);
      assert(
        JSON.stringify(st?.instances[0]).includes("process daemon is down"),
        JSON.stringify(st?.instances[0]),
      );
      assert(r1.log.some((l) => l.includes(`process daemon (${name}) is now down: 0 running`)));
      assertEquals(st?.tracked, [
        { kind: "process", name: "daemon", up: false, detail: "0 running (quorum 1)" },
      ]);
      console.log(`process killed -> FAULT in ${tookMs.toFixed(0)} ms (scan every 200 ms)`);
      assert(tookMs < 2000, `FAULT after ${tookMs} ms`);
      daemon = start();
      await lab.waitVip("r1", "10.77.0.50", 5000);
      await lab.waitState(r1, "MASTER", 5000);
    } finally {
      try {
        daemon.kill("SIGKILL");
      } catch { /* already gone */ }
      await daemon.status;
    }
  },
});
