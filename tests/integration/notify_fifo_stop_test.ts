/**
 * notify_fifo that nobody reads (issue 11 item 7), in a namespace: the agent's lines wait behind
 * a full pipe; SIGTERM still stops it within about a second (the FIFO's grace), not after the
 * 5 s the scripts get, and the lines it could not write are counted in the log, not lost
 * silently.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ?? (haveCommand("python3") ? null : "python3 missing");
if (why !== null) console.log(`notify_fifo stop tests skipped: ${why}`);

Deno.test({
  name: "notify_fifo: a full FIFO nobody reads delays the stop by at most its 1 s grace",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("nq");
    const fifo = `${lab.dir}/fifo`;
    await lab.lab.exec(null, ["mkfifo", fifo]);
    // Something holds the FIFO open and full, and never reads it.
    lab.lab.spawn("r1", [
      "python3",
      "-c",
      `import os, time
fd = os.open("${fifo}", os.O_RDWR | os.O_NONBLOCK)
try:
    while True: os.write(fd, b"x" * 4096)
except BlockingIOError:
    pass
open("${lab.dir}/full", "w").close()
time.sleep(120)`,
    ]);
    await waitFor(
      async () => await Deno.stat(`${lab.dir}/full`).then(() => true, () => false),
      10_000,
    );
    const r1 = lab.startHaagent(
      "r1",
      `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 98
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.98/24]
    notify_fifo: ${fifo}
`,
    );
    await lab.waitState(r1, "MASTER", 20_000);
    const t0 = performance.now();
    r1.proc.kill("SIGTERM");
    const st = await r1.proc.child.status;
    const stopS = (performance.now() - t0) / 1000;
    console.log(`stop with a full notify FIFO: ${stopS.toFixed(2)} s`);
    assertEquals(st.code, 0, r1.log.join("\n"));
    assert(stopS < 3, `stop took ${stopS} s`);
    assert(
      r1.log.some((l) => /notify fifo .*: 3 lines not written/.test(l)),
      r1.log.join("\n"),
    );
  },
});
