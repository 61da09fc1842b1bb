/**
 * Hostile configuration files (issue 11 item 2), through the real CLI and a running agent in
 * namespaces: `haagent check` refuses an alias bomb, /dev/zero, a FIFO, a 50 MB file, 5,000
 * nested brackets and invalid UTF-8 with one error each, without growing (RSS sampled); and on
 * SIGHUP a running master refuses each of them the same way, keeps its configuration and its
 * VIP, and keeps advertising every 100 ms (tcpdump) so that the haagent backup beside it never
 * takes over.
 */
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { type CapturedAdvert, ROUTERS, VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable() ?? (haveCommand("tcpdump") ? null : "tcpdump is not installed");
if (why !== null) console.log(`config limit tests skipped: ${why}`);
const ignore = why !== null;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BAD = `${ROOT}tests/config/bad/`;
const VIP = "10.77.0.71";

function yaml(router: string, prio: number): string {
  return `global:
  router_id: ${router}
  vrrp_version: 3
vrrp_instances:
  VI_1:
    interface: eth0
    vrid: 71
    priority: ${prio}
    advert_interval: 100ms
    virtual_ipaddresses: [${VIP}/24]
`;
}

/** Peak VmRSS (kB) of `pid` sampled every 10 ms until `done` settles. */
async function peakRss(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let over = false;
  done.finally(() => (over = true));
  while (!over) {
    try {
      const st = Deno.readTextFileSync(`/proc/${pid}/status`);
      peak = Math.max(peak, Number(/^VmRSS:\s+(\d+)/m.exec(st)?.[1] ?? 0));
    } catch { /* exited */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  return peak;
}

/** The hostile files: how to put each in place at `path`, and the error it must give. */
const HOSTILE: { name: string; make(path: string, dir: string): Promise<void>; error: RegExp }[] = [
  {
    name: "alias bomb (827 bytes, 43 million nodes expanded)",
    make: (p) => Deno.copyFile(`${BAD}alias_bomb.yaml`, p),
    error: /:7:55: alias \*a5 expands to 199,290 nodes/,
  },
  {
    name: "list alias bomb",
    make: (p) => Deno.copyFile(`${BAD}alias_bomb_lists.yaml`, p),
    error: /:7:10: alias \*l5 expands to 1,111,111 nodes/,
  },
  {
    name: "/dev/zero",
    make: (p) => Deno.symlink("/dev/zero", p),
    error: /:1:1: cannot read the file: .* is a character device, not a regular file/,
  },
  {
    name: "FIFO",
    make: async (p) => {
      const r = await new Deno.Command("mkfifo", { args: [p] }).output();
      assert(r.success, "mkfifo");
    },
    error: /:1:1: cannot read the file: .* is a FIFO, not a regular file/,
  },
  {
    name: "50 MB file",
    make: async (p) => {
      // Real bytes (not sparse): the refusal must not depend on holes.
      const line = new TextEncoder().encode("# " + "x".repeat(1021) + "\n");
      using f = await Deno.open(p, { write: true, create: true });
      for (let i = 0; i < 50 * 1024; i++) await f.write(line);
    },
    error: /:1:1: the file is 52,428,800 bytes \(a configuration file may have at most/,
  },
  {
    name: "5,000 nested brackets",
    make: (p) => Deno.writeTextFile(p, "vrrp_instances: " + "[".repeat(5000) + "]".repeat(5000)),
    error: /:1:80: nesting deeper than 64 levels/,
  },
  {
    name: "invalid UTF-8",
    make: (p) => Deno.copyFile(`${BAD}invalid_utf8.yaml`, p),
    error: /:3:19: invalid UTF-8 \(byte 0xff\)/,
  },
];

Deno.test({
  name: "config limits: haagent check refuses each hostile file with one error, small and fast",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "haagent-limits-" });
    try {
      for (const [i, h] of HOSTILE.entries()) {
        const path = `${dir}/f${i}.yaml`;
        await h.make(path, dir);
        const t0 = performance.now();
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--quiet", `${ROOT}main.ts`, "check", "--config", path],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
        const out = child.output();
        const peak = await peakRss(child.pid, out);
        const o = await out;
        clearTimeout(timer);
        const s = (performance.now() - t0) / 1000;
        const lines = new TextDecoder().decode(o.stderr).trim().split("\n");
        console.log(`${h.name}: exit ${o.code}, ${s.toFixed(2)} s, peak RSS ${peak} kB`);
        assertEquals(o.code, 1, lines.join("\n"));
        assertEquals(lines.length, 2, lines.join("\n"));
        assert(h.error.test(lines[0]!), `${h.name}: ${lines[0]}`);
        assert(lines[0]!.startsWith(`${path}:`), lines[0]);
        assertEquals(lines[1], `${path}: 1 error, configuration refused`);
        // Generous bounds: before the limits, /dev/zero grew past 2.9 GB and the bomb ran 60 s.
        assert(peak < 400_000, `${h.name}: peak RSS ${peak} kB`);
        assert(s < 30, `${h.name}: ${s} s`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** Largest gap (s) between adverts of `src` for vrid 71, and how many had priority 0. */
function gaps(adverts: CapturedAdvert[], src: string) {
  const mine = adverts.filter((a) => a.src === src && a.vrid === 71);
  let max = 0;
  for (let i = 1; i < mine.length; i++) max = Math.max(max, mine[i]!.t - mine[i - 1]!.t);
  return { count: mine.length, max, prio0: mine.filter((a) => a.priority === 0).length };
}

Deno.test({
  name: "config limits: on SIGHUP a master refuses each hostile file, keeps its VIP and adverts",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await VrrpLab.create("cl");
    const r1 = lab.startHaagent("r1", yaml("r1", 150));
    await lab.waitState(r1, "MASTER", 10_000);
    const r2 = lab.startHaagent("r2", yaml("r2", 100));
    await lab.waitState(r2, "BACKUP", 10_000);
    const config = `${lab.dir}/r1.yaml`;
    const good = await Deno.readTextFile(config);
    const cap = await lab.capture();
    for (const h of HOSTILE) {
      await Deno.remove(config);
      await h.make(config, lab.dir);
      const before = r1.log.length;
      const refused = waitFor(
        () => r1.log.slice(before).some((l) => l.includes("reload refused")),
        60_000,
      );
      r1.proc.kill("SIGHUP");
      const peak = await peakRss(r1.proc.pid, refused.catch(() => {}));
      await refused.catch(() => {
        throw new Error(`${h.name}: no refusal logged\n${r1.log.slice(before).join("\n")}`);
      });
      const logged = r1.log.slice(before);
      const errors = logged.filter((l) => h.error.test(l));
      assertEquals(errors.length, 1, `${h.name}:\n${logged.join("\n")}`);
      const st = await lab.status(r1);
      assertEquals(st?.instances[0]?.state, "MASTER", h.name);
      assertEquals(st?.lastReload?.ok, false, h.name);
      assert(await lab.hasVip("r1", VIP), `${h.name}: r1 lost the VIP`);
      console.log(`SIGHUP with ${h.name}: refused, peak RSS ${peak} kB`);
      assert(peak < 400_000, `${h.name}: peak RSS ${peak} kB`);
    }
    // The good file again: the agent reloads it.
    await Deno.remove(config);
    await Deno.writeTextFile(config, good);
    const before = r1.log.length;
    r1.proc.kill("SIGHUP");
    await waitFor(() => r1.log.slice(before).some((l) => l.includes("reloaded ")), 20_000);
    const adverts = await cap.stop();
    const g = gaps(adverts, ROUTERS.r1.addr4);
    console.log(
      `r1 through ${HOSTILE.length} refused reloads: ${g.count} adverts, max gap ` +
        `${(g.max * 1000).toFixed(0)} ms`,
    );
    assertEquals(g.prio0, 0, "priority-0 adverts");
    // The backup takes over after 3 x 100 ms + skew: a gap of 300 ms would be a failover.
    assert(g.max < 0.3, `advert gap ${g.max} s`);
    assert(!adverts.some((a) => a.src === ROUTERS.r2.addr4 && a.priority > 0), "r2 advertised");
    assertEquals((await lab.status(r2))?.instances[0]?.state, "BACKUP");
  },
});
