import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import { SyscallError } from "./errno.ts";
import { monotonicUsec, UnixDatagramSocket } from "./unix_dgram.ts";

const te = (s: string) => new TextEncoder().encode(s);
const td = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);

function haveSystemdNotify(): boolean {
  try {
    return new Deno.Command("systemd-notify", { args: ["--version"], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

async function waitRecv(s: UnixDatagramSocket, timeoutMs = 5000): Promise<Uint8Array> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const m = s.recv();
    if (m !== null) return m;
    if (performance.now() > end) throw new Error(`nothing received within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("unix_dgram: datagrams to a file name and to an abstract name", async () => {
  const dir = await Deno.makeTempDir({ prefix: "haagent-udg-" });
  const abstract = `@haagent-test-${crypto.randomUUID()}`;
  using rxFile = UnixDatagramSocket.open();
  using rxAbstract = UnixDatagramSocket.open();
  using tx = UnixDatagramSocket.open();
  try {
    rxFile.bind(`${dir}/notify`);
    rxAbstract.bind(abstract);
    assertEquals(rxFile.recv(), null, "nothing queued yet: null, not an exception");
    assert(tx.sendTo(`${dir}/notify`, te("READY=1")));
    assert(tx.sendTo(abstract, te("WATCHDOG=1")));
    assertEquals(td(await waitRecv(rxFile)), "READY=1");
    assertEquals(td(await waitRecv(rxAbstract)), "WATCHDOG=1");
    // Nobody bound there: the error names the path and errno.
    const e = assertThrows(() => tx.sendTo(`${dir}/none`, te("x")), SyscallError);
    assertEquals((e as SyscallError).code, "ENOENT");
    assert((e as SyscallError).message.includes(`${dir}/none`));
    const e2 = assertThrows(() => tx.sendTo("@haagent-nobody-here", te("x")), SyscallError);
    assertEquals((e2 as SyscallError).code, "ECONNREFUSED");
    // A bound name cannot be bound twice.
    using again = UnixDatagramSocket.open();
    assertThrows(() => again.bind(abstract), SyscallError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unix_dgram: a full receiver queue is `false`, never a block", async () => {
  const dir = await Deno.makeTempDir({ prefix: "haagent-udg-" });
  using rx = UnixDatagramSocket.open();
  using tx = UnixDatagramSocket.open();
  try {
    rx.bind(`${dir}/full`);
    let sent = 0;
    const t0 = performance.now();
    while (tx.sendTo(`${dir}/full`, te("WATCHDOG=1")) && sent < 100_000) sent++;
    assert(sent > 0 && sent < 100_000, `sent ${sent} before EAGAIN`);
    assert(performance.now() - t0 < 5000);
    assertEquals(td(rx.recv()), "WATCHDOG=1");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unix_dgram: closed sockets", () => {
  const s = UnixDatagramSocket.open();
  assert(s.fd >= 0);
  s.close();
  s.close();
  assertEquals(s.fd, -1);
  assertEquals(s.recv(), null);
  assertThrows(() => s.sendTo("@x", te("x")), Error);
});

Deno.test({
  name: "unix_dgram: systemd-notify's datagrams arrive (file and abstract NOTIFY_SOCKET)",
  ignore: !haveSystemdNotify(),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "haagent-udg-" });
    try {
      for (const path of [`${dir}/notify`, `@haagent-sdn-${crypto.randomUUID()}`]) {
        using rx = UnixDatagramSocket.open();
        rx.bind(path);
        const o = await new Deno.Command("systemd-notify", {
          args: ["--ready", "--no-block", "--status=3 MASTER"],
          env: { NOTIFY_SOCKET: path },
          stderr: "piped",
        }).output();
        assert(o.success, new TextDecoder().decode(o.stderr));
        const got = td(await waitRecv(rx))!;
        assert(got.split("\n").includes("READY=1"), got);
        assert(got.split("\n").includes("STATUS=3 MASTER"), got);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("unix_dgram: CLOCK_MONOTONIC in microseconds moves with performance.now()", async () => {
  const a = monotonicUsec(), p = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  const b = monotonicUsec(), q = performance.now();
  const dUs = Number(b - a), dMs = q - p;
  assert(a > 0n && b > a);
  assert(Math.abs(dUs / 1000 - dMs) < 5, `monotonic ${dUs} us vs performance.now ${dMs} ms`);
});
