/**
 * A tracked file is read boundedly (issue 11 item 6), in namespaces: with a 200 MB track file
 * whose first line is the number, the agent's RSS and CPU stay flat while it reads the number
 * every second (it used to re-read the whole file: RSS 62 -> 415 MB, 27 % of a core); a change
 * of the number still moves the priority; a FIFO or /dev/zero as track file hangs nothing.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`track file tests skipped: ${why}`);
const ignore = why !== null;

function yaml(files: string[]): string {
  return `global:
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 81
    priority: 150
    advert_interval: 100ms
    virtual_ipaddresses: [10.77.0.81/24]
    track_files:
${files.map((f) => `      - { path: ${f}, weight: 1 }`).join("\n")}
`;
}

/** VmRSS (kB) and CPU ticks (utime + stime) of a process. */
function usage(pid: number): { rssKb: number; ticks: number } {
  const st = Deno.readTextFileSync(`/proc/${pid}/status`);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssKb: Number(/^VmRSS:\s+(\d+)/m.exec(st)?.[1] ?? 0),
    ticks: Number(f[11]) + Number(f[12]),
  };
}

Deno.test({
  name: "track file: a 200 MB file is read by its first bytes, RSS and CPU stay flat",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("tf");
    const big = `${lab.dir}/big.track`;
    {
      using f = await Deno.open(big, { write: true, create: true });
      await f.write(new TextEncoder().encode("5\n"));
      const chunk = new Uint8Array(1024 * 1024).fill(0x20);
      for (let i = 0; i < 200; i++) await f.write(chunk);
    }
    const r1 = lab.startHaagent("r1", yaml([big]));
    await lab.waitState(r1, "MASTER", 10_000);
    const prio = async () => (await lab.status(r1))?.instances[0]?.effectivePriority;
    await waitFor(async () => (await prio()) === 155, 10_000).catch(async (e) => {
      throw new Error(`${e}: effective priority ${await prio()}\n${r1.log.join("\n")}`);
    });
    const pid = r1.proc.pid;
    const start = usage(pid);
    const t0 = performance.now();
    let peak = start.rssKb;
    while (performance.now() - t0 < 10_000) {
      peak = Math.max(peak, usage(pid).rssKb);
      await new Promise((r) => setTimeout(r, 50));
    }
    const end = usage(pid);
    const cpu = (end.ticks - start.ticks) / 100 / ((performance.now() - t0) / 1000);
    console.log(
      `200 MB track file, 10 s: RSS ${start.rssKb} -> ${end.rssKb} kB (peak ${peak}), ` +
        `CPU ${(cpu * 100).toFixed(1)} % of a core`,
    );
    // Generous: reading the whole file needed 200 MB more (peak 492 MB) and a fifth of a core.
    assert(peak < 200_000, `peak RSS ${peak} kB`);
    assert(cpu < 0.1, `CPU ${cpu}`);
    // The number still moves the priority.
    {
      using f = await Deno.open(big, { write: true });
      await f.write(new TextEncoder().encode("7"));
    }
    await waitFor(
      async () => (await lab.status(r1))?.instances[0]?.effectivePriority === 157,
      5000,
    );
  },
});

Deno.test({
  name: "track file: a FIFO and /dev/zero read as 0 and block nothing",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("tq");
    const fifo = `${lab.dir}/fifo.track`;
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const plain = `${lab.dir}/plain.track`;
    await Deno.writeTextFile(plain, "3\n");
    const r1 = lab.startHaagent("r1", yaml([fifo, "/dev/zero", plain]));
    await lab.waitState(r1, "MASTER", 10_000);
    await waitFor(
      async () => (await lab.status(r1))?.instances[0]?.effectivePriority === 153,
      5000,
    );
    // Several read periods later the agent still answers and still reads the plain file.
    await new Promise((r) => setTimeout(r, 3000));
    await Deno.writeTextFile(plain, "4\n");
    await waitFor(
      async () => (await lab.status(r1))?.instances[0]?.effectivePriority === 154,
      5000,
    );
    const st = await lab.status(r1);
    const files = st?.tracked.filter((t) => t.kind === "file").map((t) => [t.name, t.detail]);
    assertEquals(
      files?.sort(),
      [
        ["/dev/zero", "holds 0"],
        [fifo, "holds 0"],
        [plain, "holds 4"],
      ].sort(),
    );
  },
});
