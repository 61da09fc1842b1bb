/**
 * The ffi layer against a real kernel: raw VRRP multicast between namespaces over IPv4 and
 * IPv6 through a Reactor, ARP frames through a packet socket (seen by tcpdump), errors for bad
 * input, and the idle cost of a waiting Reactor.
 *
 * @module
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveCommand, Lab, type LabProcess, netnsUnavailable } from "../helpers/netns.ts";
import { Reactor } from "../../ffi/reactor.ts";
import process from "node:process";

const skip = netnsUnavailable();
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const deno = Deno.execPath();
const PAYLOAD = "31016401000100000a4d000a" + "00ff7f80c0a80101deadbeef" + "0000000000000001";

/** Reads a process's output line by line, with a deadline per line. */
class Lines {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  readonly seen: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line that satisfies `match`, or an error after `timeoutMs`. */
  async until(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        this.seen.push(line);
        if (match(line)) return line;
        continue;
      }
      const left = end - performance.now();
      if (left <= 0) throw new Error(`no matching line within ${timeoutMs} ms: ${this.seen}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.#reader.read(),
        new Promise<null>((res) => (timer = setTimeout(() => res(null), left))),
      ]).finally(() => clearTimeout(timer));
      if (r === null) continue;
      if (r.done) throw new Error(`output ended without a matching line: ${this.seen}`);
      this.#buf += r.value;
    }
  }

  /** Stops reading (the process is being killed). */
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

function spawnFixture(lab: Lab, ns: string, args: string[]): { proc: LabProcess; out: Lines } {
  const proc = lab.spawn(ns, [deno, "run", "-A", ...args], { stdout: "piped", stderr: "inherit" });
  return { proc, out: new Lines(proc.child.stdout) };
}

async function twoHosts(lab: Lab): Promise<void> {
  await lab.addBridge("sw");
  await lab.addNs("a");
  await lab.addNs("b");
  await lab.plug("a", "eth0", "sw", { addrs: ["10.77.0.1/24"], mac: "02:00:00:77:00:01" });
  await lab.plug("b", "eth0", "sw", { addrs: ["10.77.0.2/24"], mac: "02:00:00:77:00:02" });
}

interface RawResult {
  received: { payload: string; src: string; dst: string; ifindex: number; hopLimit: number };
  expectIfindex: number;
  onJsThread: boolean;
}

async function multicastOnce(
  lab: Lab,
  family: "ipv4" | "ipv6",
  group: string,
): Promise<RawResult> {
  const recv = spawnFixture(lab, "b", [
    fixture("ffi_recv.ts"),
    "raw",
    family,
    "eth0",
    group,
    "15000",
  ]);
  try {
    await recv.out.until((l) => l.includes('"ready"'), 30_000);
    const sent = await lab.exec("a", [
      deno,
      "run",
      "-A",
      fixture("ffi_send.ts"),
      "raw",
      family,
      "eth0",
      group,
      PAYLOAD,
      "5",
      "200",
    ]);
    assertMatch(sent, /"sent":5/);
    const line = await recv.out.until(
      (l) => l.includes('"received"') || l.includes('"timeout"'),
      30_000,
    );
    const r = JSON.parse(line) as RawResult & { timeout?: boolean };
    assert(r.timeout !== true, "the receiver timed out");
    return r;
  } finally {
    await recv.out.cancel();
  }
}

Deno.test({
  name: "ffi: IPv4 protocol 112 multicast to 224.0.0.18 crosses a bridge into a RawSocket",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await Lab.create("ff4");
    await twoHosts(lab);
    const r = await multicastOnce(lab, "ipv4", "224.0.0.18");
    assertEquals(r.received.payload, PAYLOAD);
    assertEquals(r.received.src, "10.77.0.1");
    assertEquals(r.received.dst, "224.0.0.18");
    assertEquals(r.received.hopLimit, 255);
    assertEquals(r.received.ifindex, r.expectIfindex);
    assert(r.expectIfindex > 1);
  },
});

Deno.test({
  name: "ffi: IPv6 protocol 112 multicast to ff02::12 from a link-local source, hop limit 255",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await Lab.create("ff6");
    await twoHosts(lab);
    const addrs = JSON.parse(
      await lab.exec("a", ["ip", "-j", "-6", "addr", "show", "dev", "eth0", "scope", "link"]),
    ) as Array<{ addr_info: Array<{ local: string }> }>;
    const linkLocal = addrs[0]?.addr_info[0]?.local;
    assertEquals(linkLocal, "fe80::ff:fe77:1");
    const r = await multicastOnce(lab, "ipv6", "ff02::12");
    assertEquals(r.received.payload, PAYLOAD);
    assertEquals(r.received.src, linkLocal);
    assertEquals(r.received.dst, "ff02::12");
    assertEquals(r.received.hopLimit, 255);
    assertEquals(r.received.ifindex, r.expectIfindex);
  },
});

Deno.test({
  name: "ffi: an ARP request sent through a PacketSocket reaches tcpdump and a PacketSocket",
  ignore: skip !== null || !haveCommand("tcpdump"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await Lab.create("ffa");
    await twoHosts(lab);
    const dump = lab.spawn("b", ["tcpdump", "-l", "-n", "-e", "-c1", "-i", "eth0", "arp"], {
      stdout: "piped",
      stderr: "piped",
    });
    const dumpOut = new Lines(dump.child.stdout);
    const dumpErr = new Lines(dump.child.stderr);
    const recv = spawnFixture(lab, "b", [
      fixture("ffi_recv.ts"),
      "packet",
      "2054",
      "eth0",
      "15000",
    ]);
    try {
      await dumpErr.until((l) => l.includes("listening on"), 30_000);
      await recv.out.until((l) => l.includes('"ready"'), 30_000);
      const sent = JSON.parse(
        await lab.exec("a", [
          deno,
          "run",
          "-A",
          fixture("ffi_send.ts"),
          "arp",
          "eth0",
          "10.77.0.1",
          "10.77.0.2",
        ]),
      ) as { frame: string; mac: string };
      assertEquals(sent.mac, "020000770001");
      const line = await dumpOut.until((l) => l.includes("ARP"), 30_000);
      assertMatch(line, /02:00:00:77:00:01 > ff:ff:ff:ff:ff:ff/);
      assertMatch(line, /Request who-has 10\.77\.0\.2 tell 10\.77\.0\.1/);
      const got = JSON.parse(
        await recv.out.until((l) => l.includes('"received"') || l.includes('"timeout"'), 30_000),
      ) as {
        received?: { frame: string; pkttype: number; ifindex: number };
        expectIfindex: number;
      };
      assert(got.received !== undefined, "the packet socket timed out");
      assertEquals(got.received.frame.slice(0, sent.frame.length), sent.frame);
      assertEquals(got.received.pkttype, 1); // PACKET_BROADCAST
      assertEquals(got.received.ifindex, got.expectIfindex);
    } finally {
      await dumpOut.cancel();
      await dumpErr.cancel();
      await recv.out.cancel();
    }
  },
});

Deno.test({
  name: "ffi: bad input gives SyscallError / TypeError / RangeError naming the object",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await using lab = await Lab.create("ffe");
    await lab.addNs("x");
    const out = await lab.exec("x", [deno, "run", "-A", fixture("ffi_errors.ts")]);
    const cases = new Map<string, Record<string, unknown>>();
    for (const line of out.trim().split("\n")) {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (typeof v.case === "string") cases.set(v.case, v);
      else assertEquals(v, { done: true });
    }
    const expect = (name: string, fields: Record<string, unknown>) => {
      const got = cases.get(name);
      assert(got !== undefined, `case ${name} did not run`);
      for (const [k, v] of Object.entries(fields)) assertEquals(got[k], v, `${name}: ${k}`);
    };
    expect("linkIndex eth9", {
      error: "SyscallError",
      code: "ENODEV",
      message: 'Unknown interface "eth9": ENODEV (No such device)',
    });
    expect("linkInfo eth9", { error: "SyscallError", code: "ENODEV" });
    expect("linkIndex long", { error: "RangeError" });
    expect("linkName 9999", { value: null });
    expect("linkInfo lo", { value: { index: 1, up: true, mtu: 65536, name: "lo" } });
    expect("join4 unknown ifindex", {
      error: "SyscallError",
      code: "ENODEV",
      message: 'Cannot join 224.0.0.18 on "eth9": ENODEV (No such device)',
    });
    expect("join6 unknown ifindex", {
      error: "SyscallError",
      code: "ENODEV",
      message: 'Cannot join ff02::12 on "eth9": ENODEV (No such device)',
    });
    expect("bindToDevice eth9", {
      error: "SyscallError",
      code: "ENODEV",
      message: 'Cannot bind raw socket to "eth9": ENODEV (No such device)',
    });
    expect("join malformed", {
      error: "TypeError",
      message: "Invalid multicast group: 3 bytes is not an IP address",
    });
    expect("join unicast", { error: "TypeError" });
    expect("join wrong family", { error: "TypeError" });
    expect("send malformed", { error: "TypeError" });
    expect("send unreachable", { error: "SyscallError", code: "ENETUNREACH" });
    expect("send6 unreachable", { error: "SyscallError", code: "ENETUNREACH" });
    expect("bind foreign address", { error: "SyscallError", code: "EADDRNOTAVAIL" });
    expect("checksum on ipv4", { error: "TypeError" });
    expect("hops out of range", { error: "RangeError" });
    expect("packet on unknown ifindex", { error: "SyscallError", code: "ENODEV" });
    expect("recv when idle", { value: null });
    expect("recv after close", { value: null });
    expect("send after close", { error: "Error" });
  },
});

/** utime + stime of this process, in clock ticks (USER_HZ, 100 on Linux). */
function cpuTicks(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

Deno.test({
  name: "ffi: a Reactor waiting 2 s with no traffic uses ~0 CPU",
  sanitizeResources: false,
  fn: async () => {
    const reactor = new Reactor({ onFailure: () => {} });
    const done = reactor.run();
    await new Promise((r) => setTimeout(r, 100));
    const ticks0 = cpuTicks();
    const wall0 = performance.now();
    const t0 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 2000));
    const used = process.cpuUsage(t0);
    const ticks = cpuTicks() - ticks0;
    const wallMs = performance.now() - wall0;
    reactor.close();
    await done;
    const cpuMs = (used.user + used.system) / 1000;
    console.log(
      `idle reactor: ${cpuMs.toFixed(1)} ms CPU (${ticks} ticks) in ${wallMs.toFixed(0)} ms wall`,
    );
    // A loop that spun instead of sleeping in epoll_wait would use about 2000 ms.
    assert(cpuMs < 200, `idle reactor used ${cpuMs} ms CPU in 2 s`);
  },
});
