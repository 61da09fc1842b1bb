/**
 * Real rtnetlink in a throw-away namespace: addresses added and deleted through Rtnl show up in
 * (and leave) `ip addr`, errors name the object and errno, events reach the subscriber (with the
 * link-down latency printed), an overrun is reported, and the dumps agree with `ip -j`.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { Lab, netnsUnavailable } from "../helpers/netns.ts";

const fixture = new URL("./fixtures/netlink_rtnl.ts", import.meta.url).pathname;

interface IpAddrInfo {
  family: string;
  local: string;
  prefixlen: number;
  label?: string;
  nodad?: boolean;
}
interface IpLink {
  ifindex: number;
  ifname: string;
  mtu: number;
  flags: string[];
  address?: string;
  addr_info?: IpAddrInfo[];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
}

Deno.test({
  name: "netlink: Rtnl against the kernel in a namespace",
  ignore: netnsUnavailable() !== null,
  async fn() {
    await using lab = await Lab.create("nl");
    await lab.addNs("a");
    await lab.exec("a", ["ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"]);
    await lab.exec("a", ["ip", "link", "set", "d1", "up"]);
    await lab.exec("a", ["ip", "link", "set", "d0", "up"]);
    const proc = lab.spawn("a", ["deno", "run", "-A", fixture, "d0", "20"], {
      stdout: "piped",
      stderr: "piped",
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error("fixture did not finish in 60 s")), 60_000);
    });
    const out = await Promise.race([proc.output(), timeout]).finally(() => clearTimeout(timer));
    assertEquals(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assertEquals(r.error, undefined);

    // Added through Rtnl: both addresses appear in `ip addr`, with the IPv4 label and nodad.
    const after = (r.afterAdd as IpLink[])[0]!.addr_info!;
    const v4 = after.find((a) => a.local === "10.0.0.50");
    const v6 = after.find((a) => a.local === "2001:db8::50");
    assertEquals(v4?.prefixlen, 24);
    assertEquals(v4?.label, "d0:vip");
    assertEquals(v6?.prefixlen, 64);
    assertEquals(v6?.nodad, true);
    const listed = r.listedAfterAdd as { address: string; tentative: boolean }[];
    assert(listed.some((a) => a.address === "2001:db8::50" && !a.tentative), "nodad: no DAD");

    // Deleted through Rtnl: gone from `ip addr`.
    const left = (r.afterDelete as IpLink[])[0]!.addr_info!.map((a) => a.local);
    assert(!left.includes("10.0.0.50") && !left.includes("2001:db8::50"), left.join());

    // Errors name the object and the errno.
    assertMatch(r.addAgain, /^Cannot add 10\.0\.0\.50\/24 to "d0": EEXIST \(File exists\)/);
    assertMatch(
      r.deleteAgain,
      /^Cannot delete 10\.0\.0\.50\/24 from "d0": EADDRNOTAVAIL \(Cannot assign requested/,
    );
    assertMatch(r.unknownIfindex, /^Cannot add 10\.0\.0\.50\/24 to "ghost0": ENODEV \(No such/);

    // Link events: every down/up reached the subscriber; print the latency.
    const lat = r.linkLatency as { fromStartMs: number[]; fromExitMs: number[]; missed: number };
    assertEquals(lat.missed, 0);
    assertEquals(lat.fromStartMs.length, 40);
    console.log(
      `link event latency, upper bound from spawning "ip link set" (n=${lat.fromStartMs.length}): ` +
        `p50 ${pct(lat.fromStartMs, 0.5).toFixed(2)} ms, p95 ${
          pct(lat.fromStartMs, 0.95).toFixed(2)
        } ms, max ${Math.max(...lat.fromStartMs).toFixed(2)} ms; lower bound from its exit: p50 ${
          pct(lat.fromExitMs, 0.5).toFixed(2)
        } ms, max ${Math.max(...lat.fromExitMs).toFixed(2)} ms`,
    );
    assert(pct(lat.fromStartMs, 0.5) < 50, "median link-down event within 50 ms");
    assert(Math.max(...lat.fromStartMs) < 1000, "every link event within 1 s");

    // An address deleted by hand reaches the subscriber.
    assertEquals(r.manualDelete?.kind, "address");
    assertEquals(r.manualDelete?.deleted, true);
    assertEquals(r.manualDelete?.address?.prefix, 24);

    // Routes added and deleted; a duplicate is EEXIST.
    const routes = (r.routesAdded as { dst: string; gateway?: string; metric?: number }[])
      .map((x) => [x.dst, x.gateway ?? null, x.metric ?? null]).sort();
    assertEquals(routes, [["10.8.0.0/16", "10.0.0.1", 7], ["10.9.0.0/16", null, null]]);
    assertMatch(r.routeAgain, /^Cannot add route 10\.9\.0\.0\/16 dev #\d+: EEXIST/);
    assertEquals(r.routesLeft, []);

    // Generic netlink against the real controller.
    assertEquals(r.nlctrl.id, 16);
    assertEquals(r.nlctrl.name, "nlctrl");
    if (typeof r.ipvs === "string") {
      assertMatch(r.ipvs, /^generic netlink family "IPVS" not found: ENOENT/);
    }

    // ENOBUFS on the event socket is survived and reported.
    assert(r.overruns >= 1, `overruns: ${r.overruns}`);

    // The dumps agree with `ip -j link` / `ip -j addr`.
    const ipLinks = r.ipLinks as IpLink[];
    const links = r.links as {
      index: number;
      name: string;
      mtu: number;
      up: boolean;
      mac: number[];
    }[];
    assertEquals(
      links.map((l) => [l.index, l.name, l.mtu, l.up]).sort(),
      ipLinks.map((l) => [l.ifindex, l.ifname, l.mtu, l.flags.includes("UP")]).sort(),
    );
    const hexMac = (m: number[]) => m.map((b) => b.toString(16).padStart(2, "0")).join(":");
    for (const l of links) {
      const ip = ipLinks.find((x) => x.ifindex === l.index)!;
      assertEquals(hexMac(l.mac), ip.address, l.name);
    }
    const addrs = r.addrs as { ifindex: number; address: string; prefix: number; label?: string }[];
    const ipAddrs = (r.ipAddrs as IpLink[]).flatMap((l) =>
      (l.addr_info ?? []).map((a) => [l.ifindex, a.local, a.prefixlen, a.label ?? null])
    );
    assertEquals(
      addrs.map((a) => [a.ifindex, a.address, a.prefix, a.label ?? null]).sort(),
      ipAddrs.sort(),
    );
  },
});
