/**
 * Dumps as keepalived operators know them, from a running agent in a namespace: SIGUSR1 writes
 * the state dump (haagent.data) and SIGUSR2 the statistics (haagent.stats) into --dump-dir, a
 * log line says where; `haagent status --dump` / `--stats` print the same text.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`dump tests skipped: ${why}`);

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

async function cli(...args: string[]) {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

/** The text without the lines that move with time (header, uptime, memory, fds in use). */
const MOVING = ["------< haagent", " Started = ", " Memory = ", " Open file descriptors = "];
const steady = (t: string) =>
  t.split("\n").filter((l) => !MOVING.some((m) => l.startsWith(m))).join("\n");

Deno.test({
  name: "dumps: SIGUSR1 / SIGUSR2 write haagent.data / haagent.stats; status --dump / --stats",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("dmp");
    const dumps = `${lab.dir}/dumps`;
    await Deno.mkdir(dumps);
    const a = lab.startHaagent(
      "r1",
      `global:
  router_id: r1
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
`,
      ["--dump-dir", dumps],
    );
    await lab.waitState(a, "MASTER", 15_000);

    a.proc.kill("SIGUSR1");
    await waitFor(() => a.log.some((l) => l.includes("state dump written to")), 10_000);
    const data = await Deno.readTextFile(`${dumps}/haagent.data`);
    for (
      const want of [
        " VRRP Instance = VI_1",
        "   State = MASTER",
        "   Virtual Router ID = 51",
        "   Priority = 150",
        "     10.77.0.50/24",
        " IPVS = unavailable (no virtual servers configured)",
      ]
    ) {
      assert(data.split("\n").includes(want), `missing ${JSON.stringify(want)}:\n${data}`);
    }
    const line = a.log.find((l) => l.includes("state dump written to"))!;
    assert(line.includes(`${dumps}/haagent.data: 1 MASTER`), line);
    assertEquals((await Deno.stat(`${dumps}/haagent.data`)).mode! & 0o777, 0o600);

    await new Promise((r) => setTimeout(r, 1000));
    a.proc.kill("SIGUSR2");
    await waitFor(() => a.log.some((l) => l.includes("statistics written to")), 10_000);
    const stats = await Deno.readTextFile(`${dumps}/haagent.stats`);
    const sent = Number(/^ {4}Sent: (\d+)$/m.exec(stats)?.[1]);
    assert(sent > 5, `adverts sent as master: ${sent}\n${stats}`);
    assert(stats.includes("VRRP Instance: VI_1\n  Advertisements:\n    Received: "), stats);

    // The same text through the control socket (the counters moved on meanwhile).
    const d = await cli("status", "--control", a.control!, "--dump");
    assertEquals(d.code, 0, d.stderr);
    assertEquals(steady(d.stdout), steady(data));
    const s = await cli("status", "--control", a.control!, "--stats");
    assertEquals(s.code, 0, s.stderr);
    assert(s.stdout.startsWith("------< haagent statistics, "), s.stdout);
    assertEquals(
      s.stdout.split("\n").filter((l) => l.startsWith("VRRP Instance")),
      ["VRRP Instance: VI_1"],
    );
    const both = await cli("status", "--control", a.control!, "--dump", "--json");
    assertEquals(both.code, 2, "exclusive flags are a usage error");

    // An unwritable dump directory: an error in the log, the agent goes on.
    await Deno.remove(dumps, { recursive: true });
    a.proc.kill("SIGUSR1");
    await waitFor(() => a.log.some((l) => l.includes(`state dump: Cannot write ${dumps}`)), 10_000);
    assertEquals((await lab.status(a))?.instances[0]?.state, "MASTER");
  },
});
