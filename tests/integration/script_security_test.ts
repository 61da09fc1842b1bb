/**
 * Script security as keepalived 2.2.7 applies it: with enable_script_security a script run as
 * root that sits in a directory writable by others is refused, and the log (or the check's
 * output, for MISC_CHECK) names the path and the permission; a safe script runs as script_user
 * (the uid it sees is checked). Without script_user, and with no keepalived_script user on the
 * host, scripts run as root and the agent says so at start.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`script security tests skipped: ${why}`);

const NOBODY = 65534;

async function script(path: string, body: string): Promise<void> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
}

Deno.test({
  name:
    "script security: an unsafe root script is refused naming the path; a safe one runs as script_user",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ss");
    const d = lab.dir;
    await Deno.chmod(d, 0o755); // script_user must reach its script
    await Deno.mkdir(`${d}/safe`, { mode: 0o755 });
    await Deno.mkdir(`${d}/unsafe`);
    await Deno.chmod(`${d}/unsafe`, 0o777);
    await Deno.mkdir(`${d}/out`);
    await Deno.chmod(`${d}/out`, 0o1777);
    await script(`${d}/safe/check.sh`, `id -u >> ${d}/out/track.uid`);
    await script(`${d}/unsafe/bad.sh`, `id -u >> ${d}/out/bad.uid`);
    await script(`${d}/unsafe/misc.sh`, `id -u >> ${d}/out/misc.uid`);
    const agent = lab.startHaagent(
      "r1",
      `global:
  enable_script_security: true
  script_user: nobody
scripts:
  ok:
    command: ${d}/safe/check.sh
    interval: 1s
  bad:
    command: ${d}/unsafe/bad.sh
    interval: 1s
    user: root
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 1s
    virtual_ipaddresses: [10.77.0.50/24]
    track_scripts: [ok, { name: bad, weight: -10 }]
virtual_servers:
  - address: 10.77.0.50:80
    real_servers:
      - address: 127.0.0.1:18095
        checks:
          - { type: MISC_CHECK, misc_path: ${d}/unsafe/misc.sh, user: root, delay_loop: 1s }
`,
    );
    await waitFor(
      async () => (await Deno.readTextFile(`${d}/out/track.uid`).catch(() => "")) !== "",
      10_000,
    );
    assertEquals(
      (await Deno.readTextFile(`${d}/out/track.uid`)).trim().split("\n")[0],
      String(NOBODY),
      "the safe script runs as script_user nobody",
    );
    const refusal = `script ${d}/unsafe/bad.sh refused (enable_script_security): ` +
      `directory ${d}/unsafe is writable by others (mode 0777)`;
    await waitFor(() => agent.log.some((l) => l.includes(refusal)), 5000).catch(() => {});
    assert(agent.log.some((l) => l.includes(refusal)), agent.log.join("\n"));
    // The MISC_CHECK's output says why it fails.
    await waitFor(async () => {
      const st = await lab.status(agent);
      return /refused by enable_script_security: directory .*\/unsafe is writable by others/
        .test(st?.virtualServers[0]?.realServers[0]?.reason ?? "");
    }, 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    for (const f of ["bad.uid", "misc.uid"]) {
      assertEquals(await Deno.readTextFile(`${d}/out/${f}`).catch(() => null), null, `${f} ran`);
    }
  },
});

Deno.test({
  name:
    "script security: without script_user and keepalived_script, scripts run as root and the agent says so",
  ignore: why !== null ||
    Deno.readTextFileSync("/etc/passwd").split("\n").some((l) =>
      l.startsWith("keepalived_script:")
    ),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("su");
    const d = lab.dir;
    await script(`${d}/check.sh`, `id -u >> ${d}/track.uid`);
    const agent = lab.startHaagent(
      "r1",
      `scripts:
  ok: { command: ${d}/check.sh, interval: 1s }
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    advert_interval: 1s
    virtual_ipaddresses: [10.77.0.50/24]
    track_scripts: [ok]
`,
    );
    await waitFor(
      async () => (await Deno.readTextFile(`${d}/track.uid`).catch(() => "")) !== "",
      10_000,
    );
    assertEquals((await Deno.readTextFile(`${d}/track.uid`)).trim().split("\n")[0], "0");
    assert(
      agent.log.some((l) =>
        / WARN .*script_user is not set and user keepalived_script does not exist: scripts without their own user run as root/
          .test(l)
      ),
      agent.log.join("\n"),
    );
  },
});
