/**
 * notify_fifo at scale: 1,000 instances write BACKUP, MASTER and STOP lines to one FIFO whose
 * reader reopens it at end of file (`while true; do cat FIFO; done`). haagent holds the FIFO
 * open as keepalived does, so not one of the 3,000 lines may be lost.
 */
import { assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`notify_fifo tests skipped: ${why}`);

const IFACES = 4;
const PER_IFACE = 250;

Deno.test({
  name: "notify_fifo: 1,000 instances, a reader that reopens at EOF, no line lost",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await VrrpLab.create("nf");
    // Four links of r1 (veth pairs inside r1: adverts go nowhere, every instance becomes master).
    for (let i = 1; i <= IFACES; i++) {
      await lab.lab.exec("r1", ["ip", "link", "add", `v${i}`, "type", "veth", "peer", `v${i}p`]);
      await lab.lab.exec("r1", ["ip", "addr", "add", `10.78.${i}.1/24`, "dev", `v${i}`]);
      await lab.lab.exec("r1", ["ip", "link", "set", `v${i}p`, "up"]);
      await lab.lab.exec("r1", ["ip", "link", "set", `v${i}`, "up"]);
    }
    const fifo = `${lab.dir}/fifo`;
    await lab.lab.exec(null, ["mkfifo", fifo]);
    const out = `${lab.dir}/fifo.out`;
    const reader = lab.lab.spawn("r1", ["sh", "-c", `while true; do cat ${fifo} >> ${out}; done`]);
    let yaml = "global:\n  vrrp_version: 3\nvrrp_instances:\n";
    for (let i = 1; i <= IFACES; i++) {
      for (let v = 1; v <= PER_IFACE; v++) {
        yaml += `  VI_${i}_${v}:\n    interface: v${i}\n    vrid: ${v}\n    priority: 100\n` +
          `    advert_interval: 1s\n    virtual_ipaddresses: [10.79.${i}.${v}/32]\n` +
          `    notify_fifo: ${fifo}\n`;
      }
    }
    const r1 = lab.startHaagent("r1", yaml);
    const total = IFACES * PER_IFACE;
    const count = async (word: string) =>
      (await Deno.readTextFile(out).catch(() => "")).split("\n")
        .filter((l) => l.endsWith(` ${word} 100`)).length;
    await waitFor(async () => (await count("MASTER")) === total, 60_000, 200).catch(() => {});
    await lab.stop(r1);
    await waitFor(async () => (await count("STOP")) === total, 15_000, 200).catch(() => {});
    // Give the reader a moment past the last line, then count every kind.
    await new Promise((r) => setTimeout(r, 500));
    reader.kill("SIGKILL");
    const lines = (await Deno.readTextFile(out)).trim().split("\n");
    const got = { BACKUP: 0, MASTER: 0, STOP: 0 } as Record<string, number>;
    const seen = new Set<string>();
    for (const l of lines) {
      const m = /^INSTANCE "(VI_\d+_\d+)" (BACKUP|MASTER|STOP) 100$/.exec(l);
      if (m === null) throw new Error(`malformed line ${JSON.stringify(l)}`);
      got[m[2]!]!++;
      seen.add(`${m[1]} ${m[2]}`);
    }
    console.log(`notify_fifo lines: ${JSON.stringify(got)} of ${total} each`);
    assertEquals(got, { BACKUP: total, MASTER: total, STOP: total });
    assertEquals(seen.size, 3 * total);
    assertEquals(r1.log.filter((l) => /notify fifo/i.test(l)), []);
  },
});
