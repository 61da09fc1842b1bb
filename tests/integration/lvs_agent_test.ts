/**
 * The agent's load-balancer side on the host kernel (no IPVS here): health checks run from
 * the YAML, their state shows in `haagent status`, notify scripts run on transitions, and the
 * IPVS backend is reported unavailable while VRRP keeps running.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";
import type { AgentStatus } from "../../lib/agent/status_types.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`LVS agent tests skipped: ${why}`);

const SERVER = new URL("./fixtures/check_server.ts", import.meta.url).pathname;

Deno.test({
  name:
    "agent: checks steer real servers in status, notify scripts run, IPVS unavailable, VRRP runs",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("lv");
    const notes = `${lab.dir}/notes`;
    const script = `${lab.dir}/note.sh`;
    await Deno.writeTextFile(script, `#!/bin/sh\necho "$1" >> ${notes}\n`);
    await Deno.chmod(script, 0o755);
    const yaml = `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 51
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.50/24]
virtual_servers:
  - address: 10.77.0.50:80
    protocol: TCP
    scheduler: rr
    delay_loop: 200ms
    real_servers:
      - address: 127.0.0.1:18081
        notify_up: "${script} up1"
        notify_down: "${script} down1"
        checks: [{ type: TCP_CHECK, connect_timeout: 500ms, retry: 0 }]
      - address: 127.0.0.1:18082
        notify_up: "${script} up2"
        notify_down: "${script} down2"
        checks:
          - type: HTTP_GET
            connect_timeout: 500ms
            retry: 0
            urls: [{ path: /health, status_code: [200] }]
`;
    const s1 = lab.lab.spawn("r1", ["deno", "run", "-A", SERVER, "tcp", "18081"], {
      stdout: "piped",
    });
    const agent = lab.startHaagent("r1", yaml);
    await lab.waitVip("r1", "10.77.0.50", 15_000);
    const rs = async () =>
      (await lab.status(agent) as AgentStatus | null)?.virtualServers[0]?.realServers;
    await waitFor(async () => {
      const r = await rs();
      return r?.[0]?.up === true && r?.[1]?.up === false;
    }, 10_000);
    const st = (await lab.status(agent))!;
    assertEquals(st.ipvs.available, false);
    assertMatch(st.ipvs.reason, /IPVS/);
    assertEquals(st.instances[0]!.state, "MASTER");
    assertMatch(st.virtualServers[0]!.name, /TCP 10\.77\.0\.50:80/);
    assertMatch(st.virtualServers[0]!.realServers[1]!.reason, /127\.0\.0\.1:18082.*ECONNREFUSED/);
    assert(agent.log.some((l) => /IPVS is not available/.test(l)), "the agent says so in its log");
    assertEquals(agent.log.filter((l) => /IPVS is not available/.test(l)).length, 1, "once");

    // The HTTP server appears: up, notify_up.
    const s2 = lab.lab.spawn("r1", ["deno", "run", "-A", SERVER, "http", "18082", "200"], {
      stdout: "piped",
    });
    await waitFor(async () => (await rs())?.[1]?.up === true, 15_000);
    // The TCP server goes away: down, notify_down, with the reason.
    s1.kill("SIGKILL");
    await waitFor(async () => (await rs())?.[0]?.up === false, 10_000);
    const down = (await rs())![0]!;
    assertMatch(down.reason, /ECONNREFUSED/);
    await waitFor(async () => {
      const text = await Deno.readTextFile(notes).catch(() => "");
      return text.includes("up2") && text.includes("down1");
    }, 5000);
    const order = (await Deno.readTextFile(notes)).trim().split("\n");
    console.log(`  notify order: ${order.join(",")}`);
    assertEquals(order.filter((l) => l === "down1").length, 1, order.join(","));
    s2.kill("SIGKILL");
  },
});

Deno.test({
  name: "agent: quorum_up runs at start when the quorum is met, once (not again on reload)",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("lq");
    const notes = `${lab.dir}/notes`;
    const script = `${lab.dir}/note.sh`;
    await Deno.writeTextFile(script, `#!/bin/sh\necho "$1" >> ${notes}\n`);
    await Deno.chmod(script, 0o755);
    const yaml = (extra: string) =>
      `virtual_servers:
  - address: 10.77.0.50:80
    quorum_up: "${script} up-a"
    quorum_down: "${script} down-a"
    real_servers:
      - address: 127.0.0.1:18091
        checks: [{ type: TCP_CHECK, connect_timeout: 500ms, delay_loop: 60s }]
  - address: 10.77.0.51:80
    alpha: true
    sorry_server: 127.0.0.1:18099
    quorum_up: "${script} up-b"
    quorum_down: "${script} down-b"
    real_servers:
      - address: 127.0.0.1:18092
        checks: [{ type: TCP_CHECK, connect_timeout: 500ms, delay_loop: 60s }]
  - address: 10.77.0.52:80
    alpha: true
    quorum_up: "${script} up-c"
    quorum_down: "${script} down-c"
    real_servers:
      - address: 127.0.0.1:18093
        checks: [{ type: TCP_CHECK, connect_timeout: 500ms, delay_loop: 60s }]
${extra}`;
    const agent = lab.startHaagent("r1", yaml(""));
    const lines = async () => (await Deno.readTextFile(notes).catch(() => "")).trim().split("\n");
    // a: real server up before any check (no alpha): quorum 1 met at start -> quorum_up.
    // b: alpha, real server down, sorry server: "starting with quorum down" -> quorum_down.
    // c: alpha, no sorry server: down at start and nothing runs (keepalived the same).
    await waitFor(async () => (await lines()).length >= 2, 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assertEquals((await lines()).sort(), ["down-b", "up-a"]);
    assert(agent.log.some((l) => /starting with quorum up/.test(l)), agent.log.join("\n"));
    // A reload keeps each virtual server's quorum: no script runs again.
    await Deno.writeTextFile(`${lab.dir}/r1.yaml`, yaml("# reloaded\n"));
    agent.proc.kill("SIGHUP");
    await waitFor(() => agent.log.some((l) => /reload/i.test(l)), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    assertEquals((await lines()).sort(), ["down-b", "up-a"]);
  },
});
