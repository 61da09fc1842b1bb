/**
 * The 3-minute form of the seeded chaos run (tests/chaos/harness.ts; the 30-minute form is
 * `deno task bench chaos --minutes=30`). Asserts: no agent died by itself; two live agents
 * never held the VIP together outside the VRRP cuts for longer than the protocol's bound
 * (DUAL_BOUND_MS); every haagent stopped cleanly at the end; no agent that ran a minute or more
 * grew its fds by more than 16 or its RSS by more than 50 %; haagent's control socket answered
 * whenever no fault was on its router. HAAGENT_CHAOS_SEED picks another seed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveCommand, netnsUnavailable } from "../helpers/netns.ts";
import { DUAL_BOUND_MS, formatReport, runChaos } from "./harness.ts";

const why = netnsUnavailable() ??
  (haveCommand("keepalived") ? null : "keepalived is not installed") ??
  (haveCommand("nft") ? null : "nft is not installed") ??
  (haveCommand("prlimit") ? null : "prlimit is not installed");
if (why !== null) console.log(`chaos test skipped: ${why}`);

const SEED = Number(Deno.env.get("HAAGENT_CHAOS_SEED") ?? 11);

Deno.test({
  name: `chaos: 3 minutes of kills, stalls, flaps, reloads, VRRP cuts, fd pressure (seed ${SEED})`,
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const r = await runChaos({ seed: SEED, durationMs: 180_000 });
    const text = formatReport(r);
    console.log(text);
    const faults = Object.values(r.faults).reduce((a, b) => a + b, 0);
    assert(faults >= 30, `only ${faults} faults were injected`);
    assertEquals(r.deaths, [], "agents died by themselves");
    const over = r.dualOutsideCuts.filter((i) => i.to - i.from > DUAL_BOUND_MS);
    assertEquals(over.length, 0, `two live holders for longer than ${DUAL_BOUND_MS} ms`);
    for (const [k, code] of Object.entries(r.stopCodes)) assertEquals(code, 0, `${k} stop`);
    for (const [k, u] of Object.entries(r.usage)) {
      assert(u.end.fds <= u.start.fds + 16, `${k}: fds ${u.start.fds} -> ${u.end.fds}`);
      assert(
        u.end.rssMb <= u.start.rssMb * 1.5,
        `${k}: RSS ${u.start.rssMb.toFixed(1)} -> ${u.end.rssMb.toFixed(1)} MB`,
      );
    }
    assertEquals(r.probeFailures.unexplained, 0, "status failed with no fault on that router");
  },
});
