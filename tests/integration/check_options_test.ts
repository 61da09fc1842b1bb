/**
 * The checkers' socket options against the kernel, in a namespace: bind_port (TCP_CHECK,
 * HTTP_GET, UDP_CHECK: the packets leave from that port), fwmark (SO_MARK: the packets carry
 * the mark), bind_if (SO_BINDTODEVICE: bound to an interface without a route to the server the
 * check fails, bound to the right one it passes), and UDP_CHECK require_reply with reply data
 * (a matching echo passes, a mismatch fails). nftables counters in the namespace count packets.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, Lab, netnsUnavailable } from "../helpers/netns.ts";

const here = new URL(".", import.meta.url).pathname;
const SERVER = `${here}fixtures/check_server.ts`;
const ONCE = `${here}fixtures/check_once.ts`;

const why = netnsUnavailable() ?? (haveCommand("nft") ? null : "nft missing");
if (why !== null) console.log(`check option tests skipped: ${why}`);

const COMMON = {
  connectTimeoutMs: 1000,
  retry: 0,
  delayBeforeRetryMs: 100,
  delayLoopMs: 1000,
  warmupMs: 0,
  alpha: false,
  rise: 1,
  fall: 1,
};

interface Outcome {
  ok: boolean;
  reason?: string;
  detail?: string;
}

async function once(lab: Lab, checks: unknown[]): Promise<Outcome[]> {
  const out = await lab.exec("n", ["deno", "run", "-A", ONCE, JSON.stringify(checks)]);
  return out.trim().split("\n").map((l) => JSON.parse(l));
}

async function counters(lab: Lab): Promise<Record<string, number>> {
  const out = await lab.exec("n", ["nft", "-j", "list", "table", "inet", "t"]);
  const res: Record<string, number> = {};
  for (const o of JSON.parse(out).nftables) {
    const r = o.rule;
    if (r === undefined) continue;
    const c = r.expr.find((e: Record<string, unknown>) => "counter" in e)?.counter;
    if (c !== undefined && typeof r.comment === "string") res[r.comment] = c.packets;
  }
  return res;
}

Deno.test({
  name: "checker options: bind_port, fwmark, bind_if and UDP require_reply data on real sockets",
  ignore: why !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using lab = await Lab.create("co");
    await lab.addNs("n");
    await lab.exec("n", ["ip", "link", "set", "lo", "up"]);
    // A second interface with no route to 127.0.0.1 (for bind_if).
    await lab.exec("n", ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v0p"]);
    await lab.exec("n", ["ip", "addr", "add", "10.88.0.1/24", "dev", "v0"]);
    await lab.exec("n", ["ip", "link", "set", "v0", "up"]);
    await lab.exec("n", ["ip", "link", "set", "v0p", "up"]);
    const rules = `table inet t {
  chain out {
    type filter hook output priority 0;
    meta mark 9 tcp dport 18101 counter comment "mark9"
    tcp sport 40123 tcp dport 18101 counter comment "tcp-sport"
    tcp sport 40125 tcp dport 18102 counter comment "http-sport"
    udp sport 40124 udp dport 18103 counter comment "udp-sport"
  }
}
`;
    const file = await Deno.makeTempFile({ suffix: ".nft" });
    try {
      await Deno.writeTextFile(file, rules);
      await lab.exec("n", ["nft", "-f", file]);
    } finally {
      await Deno.remove(file);
    }
    for (
      const [mode, port, arg] of [["tcp", 18101, ""], ["http", 18102, "200"], [
        "udp-echo",
        18103,
        "",
      ]]
    ) {
      const p = lab.spawn("n", [
        "deno",
        "run",
        "-A",
        SERVER,
        String(mode),
        String(port),
        String(arg),
      ], {
        stdout: "piped",
      });
      const r = p.child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      assert((await r.read()).value?.includes("ready"), `${mode} server did not start`);
      r.releaseLock();
    }
    const tcp = { address: "127.0.0.1", port: 18101 };
    const before = await counters(lab);
    const [plain, marked, ported, wrongIf, rightIf] = await once(lab, [
      { spec: { type: "TCP_CHECK", ...COMMON }, target: tcp },
      { spec: { type: "TCP_CHECK", ...COMMON, fwmark: 9 }, target: tcp },
      { spec: { type: "TCP_CHECK", ...COMMON, bindPort: 40123 }, target: tcp },
      { spec: { type: "TCP_CHECK", ...COMMON, bindIf: "v0" }, target: tcp },
      { spec: { type: "TCP_CHECK", ...COMMON, bindIf: "lo" }, target: tcp },
    ]);
    assertEquals([plain!.ok, marked!.ok, ported!.ok, rightIf!.ok], [true, true, true, true]);
    assertEquals(wrongIf!.ok, false, "bound to v0, 127.0.0.1 is not reachable");
    const afterTcp = await counters(lab);
    assertEquals(before.mark9, 0);
    assert(afterTcp.mark9! >= 1, `SO_MARK 9 seen ${afterTcp.mark9} times`);
    assert(afterTcp["tcp-sport"]! >= 1, "bind_port 40123 used");

    const [http, udpOk, udpBad, udpAny, udpPort] = await once(lab, [
      {
        spec: {
          type: "HTTP_GET",
          ...COMMON,
          bindPort: 40125,
          urls: [{ path: "/", statusCodes: [[200, 200]], regexNoMatch: false }],
          httpProtocol: "1.0",
          enableSni: false,
          verifyCert: false,
        },
        target: { address: "127.0.0.1", port: 18102 },
      },
      ...[["0122", "00f0"], ["0103", null], [null, null]].map(([data, mask]) => ({
        spec: {
          type: "UDP_CHECK",
          ...COMMON,
          payload: "0102a0b0",
          requireReply: true,
          // 0122 with the high nibble of byte 1 a wildcard matches the echo 01 02 a0 b0.
          replyData: data,
          replyMask: mask,
          minReplyLength: 0,
          maxReplyLength: 255,
        },
        target: { address: "127.0.0.1", port: 18103 },
      })),
      {
        spec: {
          type: "UDP_CHECK",
          ...COMMON,
          bindPort: 40124,
          payload: "01",
          requireReply: true,
          minReplyLength: 0,
          maxReplyLength: 255,
        },
        target: { address: "127.0.0.1", port: 18103 },
      },
    ]);
    assertEquals(http!.ok, true, JSON.stringify(http));
    assertEquals(udpOk!.ok, true, JSON.stringify(udpOk));
    assertEquals(udpBad!.ok, false);
    assertMatch(udpBad!.reason!, /reply data mismatch at byte 1/);
    assertEquals(udpAny!.ok, true, "require_reply without data: any reply");
    assertEquals(udpPort!.ok, true);
    const after = await counters(lab);
    assert(after["http-sport"]! >= 1, "HTTP bind_port 40125 used");
    assert(after["udp-sport"]! >= 1, "UDP bind_port 40124 used");
  },
});
