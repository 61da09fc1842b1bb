/**
 * Real traffic through IPVS in the guest: the guest's root namespace is the director, a client
 * and three real servers are namespaces behind veths. A NAT service (rr) spreads the client's
 * connections 1:1:1; a destination the reconciler removes stops receiving, and receives again
 * once restored. Prints `ipvsadm -Ln --stats` and the counts per real server.
 */

import { assert, assertEquals } from "../../helpers/assert.ts";
import { Lab, waitFor } from "../../helpers/netns.ts";
import type { DesiredService, Destination } from "../../../lib/ipvs/types.ts";
import { ipvsUnavailable, openManager, sh } from "./helpers.ts";

const TOOL = new URL("./tcp_tool.ts", import.meta.url).pathname;
const VIP = "10.200.0.100";
const N = 300;

function nat(i: number): Destination {
  return {
    address: `10.201.${i}.2`,
    port: 80,
    forwarding: "nat",
    weight: 1,
    upperThreshold: 0,
    lowerThreshold: 0,
  };
}

function config(servers: number[]): DesiredService[] {
  const base = { flags: {}, timeoutS: 0 };
  return [
    {
      ...base,
      key: { family: "ipv4", protocol: "tcp", address: VIP, port: 80 },
      scheduler: "rr",
      netmask: "255.255.255.255",
      destinations: servers.map(nat),
    },
    {
      ...base,
      key: { family: "ipv4", protocol: "tcp", address: "10.200.0.101", port: 80 },
      scheduler: "wrr",
      netmask: "255.255.255.255",
      destinations: [{ ...nat(1), forwarding: "dr" }, { ...nat(2), forwarding: "dr", weight: 2 }],
    },
    {
      ...base,
      key: { family: "ipv4", fwmark: 5 },
      scheduler: "wlc",
      netmask: "255.255.255.255",
      destinations: [{ ...nat(3), port: 0, forwarding: "dr" }],
    },
    {
      ...base,
      key: { family: "ipv6", protocol: "tcp", address: "fd00:200::100", port: 80 },
      scheduler: "sh",
      flags: { shPort: true },
      netmask: "128",
      destinations: [{ ...nat(1), address: "fd00:201:1::2" }],
    },
  ];
}

async function count(lab: Lab): Promise<Record<string, number>> {
  const out = await lab.exec("cli", [
    Deno.execPath(),
    "run",
    "-A",
    "--no-check",
    TOOL,
    "count",
    VIP,
    "80",
    String(N),
  ]);
  return JSON.parse(out.trim().split("\n").pop()!);
}

Deno.test({
  name: "vm: NAT traffic is spread 1:1:1 and follows the reconciler",
  ignore: ipvsUnavailable() !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await sh(["ipvsadm", "-C"]);
    await using lab = await Lab.create("tr");
    await using session = await openManager();
    await sh(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    await sh(["ip", "addr", "replace", `${VIP}/32`, "dev", "lo"]);
    await lab.addNs("cli");
    const link = async (ns: string, host: string, hostAddr: string, nsAddr: string) => {
      await lab.exec(null, ["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0"]);
      // The peer is created in the root namespace as "eth0": rename it while moving it.
      await lab.exec(null, ["ip", "link", "set", "eth0", "netns", lab.ns(ns)]);
      await lab.exec(null, ["ip", "addr", "add", hostAddr, "dev", host]);
      await lab.exec(null, ["ip", "link", "set", host, "up"]);
      await lab.exec(ns, ["ip", "addr", "add", nsAddr, "dev", "eth0"]);
      await lab.exec(ns, ["ip", "link", "set", "eth0", "up"]);
      await lab.exec(ns, ["ip", "route", "add", "default", "via", hostAddr.split("/")[0]!]);
    };
    await link("cli", `${lab.prefix}c`, "10.200.0.1/24", "10.200.0.2/24");
    const names = ["rs1", "rs2", "rs3"];
    for (const [i, rs] of names.entries()) {
      await lab.addNs(rs);
      await link(rs, `${lab.prefix}r${i + 1}`, `10.201.${i + 1}.1/24`, `10.201.${i + 1}.2/24`);
      const p = lab.spawn(rs, [
        Deno.execPath(),
        "run",
        "-A",
        "--no-check",
        TOOL,
        "serve",
        rs,
        "80",
      ]);
      assert(p.pid > 0);
    }
    for (const [i] of names.entries()) {
      await waitFor(
        async () =>
          (await lab.tryExec(`rs${i + 1}`, ["ss", "-ltn", "sport", "= :80"])).stdout.includes(
            "LISTEN",
          ),
        60_000,
        200,
      );
    }

    const r = await session.m.reconcile(config([1, 2, 3]));
    assertEquals(r.errors.map((e) => e.error.message), []);
    const all = await count(lab);
    console.log(`counts with rs1..rs3 (${N} connections): ${JSON.stringify(all)}`);
    for (const rs of names) {
      assert(Math.abs((all[rs] ?? 0) - N / 3) <= 2, `${rs} got ${all[rs]} of ${N}`);
    }

    const removed = await session.m.reconcile(config([1, 2]));
    assertEquals(removed.ops.map((o) => o.op), ["delete-dest"]);
    const two = await count(lab);
    console.log(`counts after removing rs3: ${JSON.stringify(two)}`);
    assertEquals(two["rs3"] ?? 0, 0);
    assertEquals((two["rs1"] ?? 0) + (two["rs2"] ?? 0), N);

    const restored = await session.m.reconcile(config([1, 2, 3]));
    assertEquals(restored.ops.map((o) => o.op), ["add-dest"]);
    const back = await count(lab);
    console.log(`counts after restoring rs3: ${JSON.stringify(back)}`);
    for (const rs of names) {
      assert(Math.abs((back[rs] ?? 0) - N / 3) <= 2, `${rs} got ${back[rs]} of ${N}`);
    }
    console.log("ipvsadm -Ln --stats:\n" + (await sh(["ipvsadm", "-Ln", "--stats"])));
    await sh(["ipvsadm", "-C"]);
  },
});
