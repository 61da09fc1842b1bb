/**
 * Memory given back after the start (issue 15), with the real agent in a namespace: run with
 * `--expose-gc` (as deno.json's `start` and `compile` tasks run it), an agent whose instances
 * all advertise at 1 s compacts V8's heap 5 s after its start and trims malloc; one with a
 * 10 ms instance only trims malloc (the collection would hold the VRRP thread longer than its
 * backup's master-down interval allows). Either way the instances stay master; compacted, the
 * heap the agent reports is smaller than before.
 */
import { assert, assertMatch } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import { VrrpLab } from "../helpers/vrrp_lab.ts";

const why = netnsUnavailable();
if (why !== null) console.log(`memory compaction tests skipped: ${why}`);

function config(intervals: string[]): string {
  return `global:
  vrrp_version: 3
vrrp_instances:
${
    intervals.map((iv, i) =>
      `  VI_${i + 1}:
    interface: eth0
    vrid: ${90 + i}
    priority: 150
    advert_interval: ${iv}
    virtual_ipaddresses: [10.77.0.${90 + i}/24]
`
    ).join("")
  }`;
}

for (
  const [label, intervals, compacted] of [
    ["every instance at 1 s: V8's heap compacted, malloc trimmed", ["1s"], true],
    ["an instance at 10 ms: malloc trimmed only", ["1s", "10ms"], false],
  ] as const
) {
  Deno.test({
    name: `memory given back after the start: ${label}`,
    ignore: why !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      await using lab = await VrrpLab.create("mc");
      const a = lab.startHaagent("r1", config([...intervals]), ["--log-level", "debug"], {
        DENO_V8_FLAGS: "--expose-gc",
      });
      await lab.waitState(a, "MASTER", 20_000);
      const before = (await lab.status(a))!.process.heapUsedBytes;
      const line = await waitFor(
        () => a.log.find((l) => l.includes("memory given back")) ?? null,
        20_000,
        100,
      ).catch(() => {
        throw new Error(`no "memory given back" line:\n${a.log.join("\n")}`);
      });
      assertMatch(line!, new RegExp(`V8 heap compacted: ${compacted}, malloc trimmed: `));
      const st = (await lab.status(a))!;
      assert(st.instances.every((i) => i.state === "MASTER"), JSON.stringify(st.instances));
      console.log(
        `${line!.replace(/^.*DEBUG haagent: /, "")}; heap in use ${before} -> ` +
          `${st.process.heapUsedBytes} bytes`,
      );
      // Without the collection the heap goes on growing until V8's own; with it, it shrank.
      if (compacted) {
        assert(
          st.process.heapUsedBytes < before,
          `heap in use ${before} -> ${st.process.heapUsedBytes} bytes`,
        );
      }
    },
  });
}
