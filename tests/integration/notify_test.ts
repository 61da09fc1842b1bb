/**
 * Notify hooks as keepalived runs them: notify_master / notify_backup / notify_stop, the
 * generic notify with `INSTANCE name state priority`, and the notify FIFO, in order.
 */
import { assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`notify tests skipped: ${why}`);

Deno.test({
  name: "notify: state scripts, generic notify with arguments, and the FIFO, in order",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("nt");
    const log = `${lab.dir}/log`;
    const hook = `${lab.dir}/hook.sh`;
    await Deno.writeTextFile(hook, `#!/bin/sh\necho "$*" >> ${log}\n`);
    await Deno.chmod(hook, 0o755);
    const fifo = `${lab.dir}/fifo`;
    await lab.lab.exec(null, ["mkfifo", fifo]);
    const fifoOut = `${lab.dir}/fifo.out`;
    const reader = lab.lab.spawn("r1", [
      "sh",
      "-c",
      `while true; do cat ${fifo} >> ${fifoOut}; done`,
    ]);
    const r1 = lab.startHaagent(
      "r1",
      `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
    notify_master: "${hook} master-hook"
    notify_backup: "${hook} backup-hook"
    notify_stop: "${hook} stop-hook"
    notify: ${hook}
    notify_fifo: ${fifo}
`,
    );
    await lab.waitVip("r1", "10.77.0.50", 5000);
    await lab.stop(r1);
    await waitFor(
      async () => (await Deno.readTextFile(log).catch(() => "")).includes("STOP"),
      5000,
    );
    const lines = (await Deno.readTextFile(log)).trim().split("\n");
    assertEquals(lines, [
      "backup-hook",
      "INSTANCE VI_1 BACKUP 150",
      "master-hook",
      "INSTANCE VI_1 MASTER 150",
      "stop-hook",
      "INSTANCE VI_1 STOP 150",
    ]);
    await waitFor(
      async () => (await Deno.readTextFile(fifoOut).catch(() => "")).includes("STOP"),
      5000,
    );
    assertEquals((await Deno.readTextFile(fifoOut)).trim().split("\n"), [
      'INSTANCE "VI_1" BACKUP 150',
      'INSTANCE "VI_1" MASTER 150',
      'INSTANCE "VI_1" STOP 150',
    ]);
    reader.kill("SIGKILL");
  },
});
