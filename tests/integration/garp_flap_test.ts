/**
 * Gratuitous ARPs after a link flap (issue 11 item 7), in namespaces: the kernel leaves ENETDOWN
 * pending on a packet socket whose interface went down, and the first send after the flap gets
 * it; that frame is sent again at once, so the first burst after the flap has all 5 (it lost 1
 * of 5), as tcpdump on the client counts.
 */
import { assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, readLines, waitFor } from "../helpers/netns.ts";
import { ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump missing");
if (why !== null) console.log(`GARP flap tests skipped: ${why}`);

const VIP = "10.77.0.99";

Deno.test({
  name: "GARP: the first burst after a link flap has all 5 announcements",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("ga");
    const r1 = lab.startHaagent(
      "r1",
      `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 99
    priority: 150
    advert_interval: 100ms
    garp_master_delay: 0s
    virtual_ipaddresses: [${VIP}/24]
`,
    );
    await lab.waitState(r1, "MASTER", 20_000);
    const dump = lab.lab.spawn("c", [
      "tcpdump",
      "-l",
      "-n",
      "-e",
      "-i",
      "eth0",
      `arp and ether src ${ROUTERS.r1.mac}`,
    ], { stdout: "piped", stderr: "piped" });
    const lines: string[] = [];
    const errs: string[] = [];
    void readLines(dump.child.stdout, lines);
    void readLines(dump.child.stderr, errs);
    await waitFor(() => errs.some((l) => l.includes("listening on")), 10_000);
    const counts: number[] = [];
    for (let flap = 0; flap < 3; flap++) {
      const before = lines.length;
      const logBefore = r1.log.length;
      await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "down"]);
      await waitFor(() => r1.log.slice(logBefore).some((l) => l.includes("-> FAULT")), 5000);
      await lab.lab.exec("r1", ["ip", "link", "set", "eth0", "up"]);
      await waitFor(() => r1.log.slice(logBefore).some((l) => l.includes("-> MASTER")), 10_000);
      await new Promise((r) => setTimeout(r, 1000));
      counts.push(
        lines.slice(before).filter((l) =>
          l.includes(`who-has ${VIP} (`) && l.endsWith(`tell ${VIP}, length 28`)
        )
          .length,
      );
    }
    dump.kill("SIGINT");
    await dump.child.status;
    console.log(`gratuitous ARPs in the first burst after each of 3 flaps: ${counts.join(", ")}`);
    assertEquals(counts, [5, 5, 5]);
  },
});
