/**
 * E-mail alerts (smtp_alert) through a real SMTP relay in another namespace: VRRP transitions,
 * a real server going down, and the instance stopping each send one message, with keepalived's
 * subjects and bodies, to every notification_email address.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, readLines, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`mail tests skipped: ${why}`);

const SERVER = new URL("./fixtures/check_server.ts", import.meta.url).pathname;

Deno.test({
  name: "smtp_alert: transitions, a real server down and the stop are mailed through the relay",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ml");
    const relay = lab.lab.spawn("r2", [Deno.execPath(), "run", "-A", SERVER, "relay", "2525"], {
      stdout: "piped",
    });
    const out: string[] = [];
    void readLines(relay.child.stdout, out);
    await waitFor(() => Promise.resolve(out.includes("ready")), 20_000);
    const agent = lab.startHaagent(
      "r1",
      `global:
  router_id: r1
  vrrp_version: 3
  smtp_server: 10.77.0.2:2525
  notification_email: [ops@example.net, noc@example.net]
  smtp_connect_timeout: 3s
  smtp_alert: true
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
    delay_loop: 200ms
    real_servers:
      - address: 127.0.0.1:18099
        checks: [{ type: TCP_CHECK, connect_timeout: 500ms, retry: 0 }]
`,
    );
    const mails = () => out.filter((l) => l.startsWith("mail "));
    const has = (s: string) => mails().some((l) => l.includes(s));
    await waitFor(
      () =>
        Promise.resolve(
          has("[r1] VRRP Instance VI_1 - Entering MASTER state") &&
            has("[r1] Realserver 127.0.0.1:18099 of virtual server"),
        ),
      20_000,
    ).catch(() => {
      throw new Error(`mails:\n${out.join("\n")}\nagent:\n${agent.log.join("\n")}`);
    });
    // Both threads' counters in status (the worker's arrive with its next snapshot).
    // BACKUP, MASTER, the virtual server starting with quorum up (keepalived's do_vs_notifies at
    // init), the real server DOWN and the quorum lost.
    await waitFor(async () => ((await lab.status(agent))?.mail?.sent ?? 0) >= 5, 5000);
    assertEquals((await lab.status(agent))?.mail, { sent: 5, failed: 0, dropped: 0 });
    assertEquals(await lab.stop(agent), 0);
    await waitFor(() => Promise.resolve(has("[r1] VRRP Instance VI_1 - Stopping")), 10_000)
      .catch(() => {
        throw new Error(`no stop mail:\n${out.join("\n")}`);
      });
    const m = mails();
    const subjects = m.map((l) => l.split(" | ")[1]);
    // Each state mailed once, in order; the real server's DOWN in between.
    const vrrp = subjects.filter((s) => s?.includes("VRRP Instance"));
    assertEquals(vrrp, [
      "[r1] VRRP Instance VI_1 - Entering BACKUP state",
      "[r1] VRRP Instance VI_1 - Entering MASTER state",
      "[r1] VRRP Instance VI_1 - Stopping",
    ]);
    const master = m.find((l) => l.includes("Entering MASTER state"))!;
    assert(master.startsWith("mail <haagent@r1> <ops@example.net>,<noc@example.net> | "), master);
    assert(master.endsWith("| => VRRP Instance is now owning VRRP VIPs <="), master);
    const rs = m.find((l) => l.includes("Realserver"))!;
    assert(
      /\| \[r1\] Realserver 127\.0\.0\.1:18099 of virtual server TCP 10\.77\.0\.50:80 - DOWN \| => CHECK failed on service: .*ECONNREFUSED.* <=$/
        .test(rs),
      rs,
    );
    const vs = subjects.filter((s) => s?.includes("Virtualserver"));
    assertEquals(vs, [
      "[r1] Virtualserver TCP 10.77.0.50:80 - UP",
      "[r1] Virtualserver TCP 10.77.0.50:80 - DOWN",
    ]);
    assert(m.some((l) => l.includes("| => Starting with quorum up: alive weight 1")), m.join("\n"));
    assert(agent.log.some((l) => /mail alert sent via 10\.77\.0\.2:2525/.test(l)), "logged");
  },
});
