/**
 * Announcing to BGP through real speakers, in namespaces: the example network of docs/bgp.md
 * (tests/helpers/bgp_lab.ts), once with BIRD 2 and once with FRR 8.4 as the nodes' speaker,
 * configured with the documentation's own snippets, and an upstream of the same kind whose routes
 * are read with its CLI. The upstream runs BFD with node 1 only, so that a dying node 1 is
 * withdrawn by BFD and a dying node 2 by the BGP hold timer (9 s here): both times are printed.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { netnsUnavailable, waitFor } from "../helpers/netns.ts";
import {
  BgpLab,
  NET,
  type NodeAgent,
  type NodeName,
  snippet,
  type Speaker,
  speakerMissing,
} from "../helpers/bgp_lab.ts";

const SERVER = new URL("./fixtures/check_server.ts", import.meta.url).pathname;
const VIP = "192.0.2.10/32";
const ANYCAST = "198.51.100.53/32";
const HOLD_S = 9;

/** The documented haagent file with this node's priority. */
function haagentYaml(priority: number): string {
  const doc = snippet("haagent");
  assert(doc.includes("priority: 150"), "the documented file sets priority 150");
  return doc.replace("priority: 150", `priority: ${priority}`);
}

for (const speaker of ["bird", "frr"] as Speaker[]) {
  const why = netnsUnavailable() ?? speakerMissing(speaker);
  if (why !== null) console.log(`BGP tests with ${speaker} skipped: ${why}`);
  Deno.test({
    name: `bgp (${speaker}): the documented setup announces through ${speaker}; VRRP failover ` +
      "moves the next hop and back; ECMP of a healthy service on both nodes, withdrawn when its " +
      "server dies, back when it returns; SIGKILL leaves routes, a losing restart removes them; " +
      "a dead node is withdrawn by BFD, faster than by the hold timer",
    ignore: why !== null,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await using lab = await BgpLab.create(speaker === "bird" ? "bgb" : "bgf", speaker);
      const dns = (n: NodeName) =>
        lab.lab.spawn(n, ["deno", "run", "-A", SERVER, "dns", "53"], { stdout: "piped" });
      // The anycast address is local on both nodes, as docs/bgp.md says (AnyIP).
      for (const n of ["n1", "n2"] as const) {
        await lab.lab.exec(n, ["ip", "route", "add", "local", ANYCAST, "dev", "lo"]);
      }
      let servers = [dns("n1"), dns("n2")];
      await lab.startUpstream({ bfd: ["n1"], holdS: HOLD_S });
      await lab.startNodeSpeaker("n1");
      await lab.startNodeSpeaker("n2");
      let a1: NodeAgent = lab.startHaagent("n1", haagentYaml(150));
      const a2 = lab.startHaagent("n2", haagentYaml(100));
      await lab.waitState(a1, "MASTER");
      await lab.waitState(a2, "BACKUP");
      await lab.waitEstablished(["n1"]);

      // The VIP via its master; the healthy anycast service via both (ECMP), in the RIB (the
      // speaker's CLI) and in the upstream's kernel.
      await lab.waitPaths(VIP, [NET.n1]);
      await lab.waitPaths(ANYCAST, [NET.n1, NET.n2]);
      await waitFor(async () => (await lab.upstreamFib(ANYCAST)).length === 2, 5000);
      assertEquals(await lab.upstreamFib(ANYCAST), [NET.n1, NET.n2]);
      console.log(
        `  ${speaker} upstream: ${ANYCAST} via ${(await lab.upstreamPaths(ANYCAST)).join(", ")}`,
      );

      // VRRP failover (node 1 lowers its priority by reload) and back: the next hop follows.
      const file1 = `${lab.dir}/n1.yaml`;
      await Deno.writeTextFile(file1, haagentYaml(50));
      a1.proc.kill("SIGHUP");
      await lab.waitState(a2, "MASTER");
      await lab.waitPaths(VIP, [NET.n2]);
      await Deno.writeTextFile(file1, haagentYaml(150));
      a1.proc.kill("SIGHUP");
      await lab.waitState(a1, "MASTER");
      await lab.waitPaths(VIP, [NET.n1]);
      assertEquals(await lab.upstreamPaths(ANYCAST), [NET.n1, NET.n2], "the service never moved");

      // The service's real server dies on both nodes: withdrawn from both; it returns: back.
      for (const s of servers) s.kill("SIGKILL");
      await lab.waitPaths(ANYCAST, []);
      servers = [dns("n1"), dns("n2")];
      await lab.waitPaths(ANYCAST, [NET.n1, NET.n2]);

      // SIGKILL: node 1's routes stay (the upstream keeps its path) while node 2 takes over; a
      // restart with a priority that no longer wins removes the stale VIP route.
      await lab.crash(a1);
      await lab.waitState(a2, "MASTER");
      await lab.waitPaths(VIP, [NET.n1, NET.n2]);
      assertEquals(await lab.table198("n1"), [
        "192.0.2.10 dev eth0 proto 248",
        "198.51.100.53 dev lo proto 248",
      ]);
      a1 = lab.startHaagent("n1", haagentYaml(50));
      await lab.waitState(a1, "BACKUP");
      await lab.waitPaths(VIP, [NET.n2]);
      await lab.waitPaths(ANYCAST, [NET.n1, NET.n2]);

      // Whole nodes die (link down, then SIGKILL of haagent and the speaker): node 1, watched by
      // BFD, then node 2, watched by the hold timer only.
      let t0 = performance.now();
      await lab.killNode("n1");
      await lab.waitPaths(ANYCAST, [NET.n2], 5000);
      const bfdMs = performance.now() - t0;
      t0 = performance.now();
      await lab.killNode("n2");
      await lab.waitPaths(ANYCAST, [], (HOLD_S + 5) * 1000);
      const holdMs = performance.now() - t0;
      console.log(
        `  ${speaker}: dead node withdrawn by BFD (100 ms x 3) in ${bfdMs.toFixed(0)} ms, by the ` +
          `hold timer (${HOLD_S} s) in ${holdMs.toFixed(0)} ms`,
      );
      // The hold timer cannot fire before hold time minus one keepalive interval (3 s) has
      // passed since the last keepalive: anything faster was BFD; nothing else saw node 2 die.
      const keepaliveS = 3;
      assert(bfdMs < (HOLD_S - keepaliveS) * 1000, `BFD took ${bfdMs} ms`);
      assert(holdMs > (HOLD_S - 2 * keepaliveS) * 1000, `hold timer fired after ${holdMs} ms`);
      servers.forEach((s) => s.kill("SIGKILL"));
    },
  });
}
