/**
 * The whole agent against a real IPVS kernel (in the guest): `haagent --config` with NAT, DR,
 * fwmark and IPv6 virtual servers programs IPVS as `ipvsadm -Ln` shows; a real server whose
 * check fails is removed, one with inhibit_on_failure is kept at weight 0; `haagent status`
 * reports IPVS available; SIGTERM removes the services the agent programmed.
 */
import { assert, assertEquals, assertMatch } from "../../helpers/assert.ts";
import { waitFor } from "../../helpers/netns.ts";
import { controlRequest } from "../../../lib/runtime/control.ts";
import type { AgentStatus } from "../../../lib/agent/status_types.ts";
import { ipvsadmBlocks, ipvsUnavailable, sh } from "./helpers.ts";

const MAIN = new URL("../../../main.ts", import.meta.url).pathname;

const CONFIG = `virtual_servers:
  - address: 10.210.0.1:80
    protocol: TCP
    scheduler: rr
    delay_loop: 500ms
    real_servers:
      - { address: 10.211.0.1:80, weight: 1 }
      - address: 10.211.0.2:80
        weight: 2
        checks: [{ type: TCP_CHECK, connect_timeout: 200ms, retry: 0 }]
      - address: 10.211.0.3:80
        weight: 3
        inhibit_on_failure: true
        checks: [{ type: TCP_CHECK, connect_timeout: 200ms, retry: 0 }]
  - address: 10.210.0.2:443
    scheduler: wrr
    forwarding: DR
    persistence_timeout: 300s
    real_servers: [{ address: 10.211.0.4:443, weight: 5 }]
  - fwmark: 9
    scheduler: sh
    scheduler_flags: [sh-port]
    real_servers: [{ address: 10.211.0.5:80 }]
  - address: "[fd00:210::1]:80"
    scheduler: wlc
    real_servers: [{ address: "[fd00:211::1]:80" }]
`;

Deno.test({
  name: "agent in the guest: virtual servers from YAML become IPVS rules; checks steer them",
  ignore: ipvsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await sh(["ip", "link", "set", "lo", "up"]);
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/ha.yaml`, CONFIG);
    const control = `${dir}/ha.sock`;
    const agent = new Deno.Command("deno", {
      args: [
        "run",
        "-A",
        "--no-check",
        MAIN,
        "--config",
        `${dir}/ha.yaml`,
        "--control",
        control,
        "--pid-file",
        `${dir}/ha.pid`,
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    try {
      const status = () => controlRequest(control, { cmd: "status" }) as Promise<AgentStatus>;
      await waitFor(
        async () => {
          try {
            const st = await status();
            return st.virtualServers[0]?.realServers[1]?.up === false &&
              st.virtualServers[0]?.realServers[2]?.up === false;
          } catch {
            return false;
          }
        },
        120_000,
        200,
      );
      await waitFor(
        async () => (await ipvsadmBlocks()).join("\n").includes("10.211.0.3:80"),
        30_000,
        200,
      );
      const blocks = await ipvsadmBlocks();
      console.log(blocks.join("\n"));
      const st = await status();
      assertEquals(st.ipvs.available, true);
      assertEquals(st.ipvs.services, 4);
      const nat = blocks.find((b) => b.startsWith("TCP 10.210.0.1:80 rr"))!;
      assertMatch(nat, /-> 10\.211\.0\.1:80 Masq 1 /);
      assert(!nat.includes("10.211.0.2:80"), "the failed real server is removed");
      assertMatch(nat, /-> 10\.211\.0\.3:80 Masq 0 /, "inhibit_on_failure keeps it at weight 0");
      assert(
        blocks.some((b) =>
          /^TCP 10\.210\.0\.2:443 wrr persistent 300\n-> 10\.211\.0\.4:443 Route 5 /.test(b)
        ),
        blocks.join("\n"),
      );
      assert(blocks.some((b) => /^FWM 9 sh \(sh-port\)/.test(b)), blocks.join("\n"));
      assert(
        blocks.some((b) => /^TCP \[fd00:210::1\]:80 wlc\n-> \[fd00:211::1\]:80 Masq 1 /.test(b)),
        blocks.join("\n"),
      );
    } finally {
      agent.kill("SIGTERM");
      const s = await agent.status;
      assertEquals(s.code, 0, "the agent stops cleanly");
    }
    assertEquals(await ipvsadmBlocks(), [], "SIGTERM removes the services the agent programmed");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "agent in the guest: lvs_sync_daemon is master while its instance is MASTER, backup in FAULT",
  ignore: ipvsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await sh(["ip", "link", "add", "sd0", "type", "veth", "peer", "name", "sd1"]);
    await sh(["ip", "link", "set", "sd0", "up"]);
    await sh(["ip", "link", "set", "sd1", "up"]);
    await sh(["ip", "addr", "add", "10.212.0.1/24", "dev", "sd0"]);
    const dir = await Deno.makeTempDir();
    const fault = `${dir}/fault`;
    await Deno.writeTextFile(fault, "0\n");
    await Deno.writeTextFile(
      `${dir}/ha.yaml`,
      `global:
  vrrp_version: 3
  lvs_sync_daemon: { interface: sd0, instance: VI_SD, group: 224.0.0.82, port: 8849, ttl: 2 }
vrrp_instances:
  VI_SD:
    interface: sd0
    vrid: 61
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.212.0.50/24]
    track_files: [{ path: ${fault}, weight: 0 }]
virtual_servers:
  - address: 10.212.0.50:80
    real_servers: [{ address: 10.213.0.1:80 }]
`,
    );
    const control = `${dir}/ha.sock`;
    const agent = new Deno.Command("deno", {
      args: ["run", "-A", "--no-check", MAIN, "--config", `${dir}/ha.yaml`, "--control", control],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const daemons = () => sh(["ipvsadm", "-L", "--daemon"]);
    try {
      const status = () => controlRequest(control, { cmd: "status" }) as Promise<AgentStatus>;
      await waitFor(
        async () => {
          try {
            return (await status()).ipvs.syncDaemon === "master on sd0, sync id 61";
          } catch {
            return false;
          }
        },
        120_000,
        200,
      );
      const out = await daemons();
      console.log(out);
      // The options reach the kernel in the byte order it reads them in.
      assertMatch(
        out,
        /master sync daemon \(mcast=sd0, syncid=61, .*group=224\.0\.0\.82, port=8849, ttl=2\)/,
      );
      assert(!out.includes("backup sync daemon"), out);
      assertEquals((await status()).instances[0]?.state, "MASTER");
      // The instance goes to FAULT (its tracked file holds 1): the daemon becomes backup.
      await Deno.writeTextFile(fault, "1\n");
      await waitFor(
        async () => (await status()).ipvs.syncDaemon === "backup on sd0, sync id 61",
        30_000,
        200,
      );
      assertEquals((await status()).instances[0]?.state, "FAULT");
      const back = await daemons();
      console.log(back);
      assertMatch(
        back,
        /backup sync daemon \(mcast=sd0, syncid=61, .*group=224\.0\.0\.82, port=8849/,
      );
      assert(!back.includes("master sync daemon"), back);
    } finally {
      agent.kill("SIGTERM");
      const s = await agent.status;
      assertEquals(s.code, 0, "the agent stops cleanly");
      await sh(["ip", "link", "del", "sd0"]).catch(() => "");
    }
    assertEquals((await daemons()).trim(), "", "SIGTERM stops the sync daemon");
    await Deno.remove(dir, { recursive: true });
  },
});
