import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { loadConfigFile } from "../config/load.ts";
import { LoaderThread, planNumber } from "./loader_thread.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const REQ = { overrides: {}, hostname: "h1" };

/** The nice value of this process's threads named `worker-N`, from /proc. */
function workerNices(): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc/self/task")) {
    const comm = Deno.readTextFileSync(`/proc/self/task/${e.name}/comm`).trim();
    if (!/^worker-\d+$/.test(comm)) continue;
    const stat = Deno.readTextFileSync(`/proc/self/task/${e.name}/stat`);
    out.push(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
  }
  return out;
}

Deno.test({
  name: "loader thread: plans a file off this thread; the load-balancer part is its JSON",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using loader = new LoaderThread();
    const file = `${ROOT}examples/ha.yaml`;
    const r = await loader.load({ file, ...REQ }, null);
    assert(r.ok, JSON.stringify(r));
    assertEquals(r.plan.routerId.length > 0, true);
    assert(r.plan.instances.length > 0);
    const direct = await loadConfigFile(file);
    assert(direct.ok);
    // The load-balancer side reads the Config back from JSON: nothing may be lost on the way.
    assertEquals(JSON.parse(r.lvs), direct.config);
    // Loads run in order on one worker.
    const [a, b] = await Promise.all([
      loader.load({ file, ...REQ }, 10),
      loader.load({ file: `${ROOT}tests/config/good/ipv6_v3.yaml`, ...REQ }, 10),
    ]);
    assert(a.ok && b.ok);
    assertEquals(
      a.plan.instances.map((i) => i.spec.name),
      r.plan.instances.map((i) => i.spec.name),
    );
    // Each plan is numbered; a load carries the reload diff from the plan loaded before it.
    assert(r.seq !== undefined && a.seq === r.seq + 1 && b.seq === a.seq + 1);
    assertEquals(r.diff, undefined, "the first load has nothing to diff against");
    assertEquals(a.diff?.from, r.seq);
    assertEquals(a.diff?.value.unchanged, r.plan.instances.map((i) => i.spec.name));
    assertEquals(b.diff?.from, a.seq);
    assertEquals(
      b.diff?.value.added,
      b.plan.instances.map((i) => i.spec.name).filter((n) =>
        !a.plan.instances.some((i) => i.spec.name === n)
      ),
    );
    // A plan loaded elsewhere (at start) seeds a new loader: its first load diffs against it.
    using seeded = new LoaderThread();
    const seq = planNumber();
    seeded.seed(b.plan, seq);
    const c = await seeded.load({ file, ...REQ }, 10);
    assert(c.ok);
    assertEquals(c.diff?.from, seq);
    assertEquals(c.seq, seq + 1);
    assertEquals(
      c.diff?.value.removed.length,
      b.plan.instances.length -
        c.plan.instances.filter((i) => b.plan.instances.some((j) => j.spec.name === i.spec.name))
          .length,
    );
    // helperNice 10: the loader's thread ran at nice 10.
    assert(workerNices().includes(10), `worker nices ${workerNices()}`);
  },
});

Deno.test({
  name: "loader thread: a bad file, a missing file, a worker that never answers, after dispose",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const bad = `${dir}/bad.yaml`;
      await Deno.writeTextFile(bad, "vrrp_instances:\n  VI_1:\n    vrid: 300\n");
      using loader = new LoaderThread();
      const r = await loader.load({ file: bad, ...REQ }, 10);
      assert(!r.ok);
      assert(r.errors.some((e) => e.startsWith(`${bad}:3:`)), r.errors.join("\n"));
      const missing = await loader.load({ file: `${dir}/none.yaml`, ...REQ }, 10);
      assert(!missing.ok);
      assertMatch(missing.errors[0]!, /cannot read the file/);

      const silent = `${dir}/silent.ts`;
      await Deno.writeTextFile(silent, "self.onmessage = () => {};\n");
      using hung = new LoaderThread({ workerUrl: `file://${silent}`, timeoutMs: 300 });
      const t = await hung.load({ file: bad, ...REQ }, 10);
      assert(!t.ok);
      assertMatch(t.errors[0]!, /loading took longer than 300 ms/);
      // The hung worker was replaced: the next load asks a new one (which hangs too).
      const t2 = await hung.load({ file: bad, ...REQ }, 10);
      assertMatch(t2.ok ? "" : t2.errors[0]!, /longer than 300 ms/);

      loader[Symbol.dispose]();
      const after = await loader.load({ file: bad, ...REQ }, 10);
      assertMatch(after.ok ? "" : after.errors[0]!, /the agent is stopping/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
