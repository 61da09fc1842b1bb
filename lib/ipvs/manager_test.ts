import { assert, assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { Reactor } from "../../ffi/reactor.ts";
import { type BatchFailure, type BatchRequest, ReplyRouter } from "../netlink/client.ts";
import { errorMessage, FakeNetlink } from "../netlink/fake.ts";
import { decodeMessages, NLM_F_ACK, type NlMessage } from "../netlink/message.ts";
import { Logger } from "../runtime/log.ts";
import { IpvsCmd } from "./codec.ts";
import { FakeIpvs } from "./fake.ts";
import { IpvsManager } from "./manager.ts";
import {
  type DesiredService,
  type Destination,
  destinationName,
  type ServiceKey,
  serviceName,
} from "./types.ts";

function capture(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = new Logger("test", { level: "debug", sink: (l) => lines.push(l), json: false });
  return { log, lines };
}

const web: ServiceKey = { family: "ipv4", protocol: "tcp", address: "10.0.0.50", port: 80 };
const v6: ServiceKey = { family: "ipv6", protocol: "udp", address: "2001:db8::50", port: 53 };

function dest(address: string, weight = 1): Destination {
  return { address, port: 80, forwarding: "nat", weight, upperThreshold: 0, lowerThreshold: 0 };
}

function svc(key: ServiceKey, dests: Destination[]): DesiredService {
  return {
    key,
    scheduler: "wlc",
    flags: {},
    timeoutS: 0,
    netmask: key.family === "ipv4" ? "255.255.255.255" : "128",
    destinations: dests,
  };
}

/**
 * A fake that also takes batches the way the kernel does: every message of a datagram is
 * handled in order, a failure gets its own NLMSG_ERROR, and only the last message its ACK.
 */
class BatchingFake extends FakeNetlink {
  readonly #router = new ReplyRouter(1_000_000);
  readonly #handle: (req: NlMessage) => NlMessage[] | SyscallError;
  datagrams = 0;

  constructor(handle: (req: NlMessage) => NlMessage[] | SyscallError) {
    super(handle);
    this.#handle = handle;
  }

  requestBatch(reqs: readonly BatchRequest[]): Promise<BatchFailure[]> {
    const b = this.#router.beginBatch(reqs, 0, { maxMessages: 3 });
    for (const d of b.datagrams) {
      this.datagrams++;
      const ms = decodeMessages(d);
      assert(ms.ok);
      for (const m of ms.value) {
        const answer = this.#handle(m);
        const failed = answer instanceof SyscallError;
        if (failed || (m.flags & NLM_F_ACK) !== 0) {
          this.#router.feed(errorMessage(m, failed ? -answer.errno : 0));
        }
      }
    }
    return b.done;
  }
}

async function open(
  kernel: FakeIpvs,
  batching = false,
): Promise<{ m: IpvsManager; lines: string[]; conn: FakeNetlink }> {
  const { log, lines } = capture();
  const conn = batching ? new BatchingFake(kernel.handle) : new FakeNetlink(kernel.handle);
  const m = await IpvsManager.withConn(conn, log);
  assert(m instanceof IpvsManager);
  return { m, lines, conn };
}

Deno.test("manager: without the IPVS family, open reports it unavailable", async () => {
  const kernel = new FakeIpvs();
  kernel.hasIpvs = false;
  const r = await IpvsManager.withConn(new FakeNetlink(kernel.handle), capture().log);
  assertEquals(r, {
    unavailable:
      'IPVS is not available in this kernel (generic netlink family "IPVS" not found: ENOENT)',
  });
});

Deno.test("manager: reconcile from empty, then a second pass sends nothing", async () => {
  const kernel = new FakeIpvs();
  const { m } = await open(kernel);
  const want = [svc(web, [dest("10.0.0.11"), dest("10.0.0.12")]), svc(v6, [dest("2001:db8::11")])];
  const first = await m.reconcile(want);
  assertEquals(first.ops.length, 5);
  assertEquals(first.errors, []);
  assertEquals(kernel.services.size, 2);
  const dumped = await m.dump();
  assertEquals(dumped.map((s) => serviceName(s.key)), [
    "TCP 10.0.0.50:80",
    "UDP [2001:db8::50]:53",
  ]);
  assertEquals(dumped[0]!.destinations.map(destinationName), ["10.0.0.11:80", "10.0.0.12:80"]);
  const before = kernel.commands.length;
  const second = await m.reconcile(want);
  assertEquals(second.ops, []);
  const sent = kernel.commands.slice(before);
  assert(sent.every((c) => c === IpvsCmd.GET_SERVICE || c === IpvsCmd.GET_DEST), "only dumps");
  m[Symbol.dispose]();
});

Deno.test("manager: foreign services stay; services it programmed are removed when dropped", async () => {
  const kernel = new FakeIpvs();
  const { m: other } = await open(kernel);
  await other.reconcile([svc(v6, [])]);
  const { m } = await open(kernel);
  await m.reconcile([svc(web, [dest("10.0.0.11")])]);
  assertEquals(kernel.services.size, 2);
  const r = await m.reconcile([]);
  assertEquals(r.ops, [{ op: "delete-service", key: web }]);
  assertEquals([...kernel.services.keys()], ["UDP [2001:db8::50]:53"]);
  const again = await m.reconcile([], { owned: () => true });
  assertEquals(again.ops.length, 1);
  assertEquals(kernel.services.size, 0);
});

for (const batching of [false, true]) {
  const how = batching ? "batched" : "one by one";
  Deno.test(`manager: kernel errors are logged naming service and destination (${how})`, async () => {
    const kernel = new FakeIpvs();
    const { m, lines } = await open(kernel, batching);
    const errors = await m.apply([
      { op: "add-dest", key: web, dest: dest("10.0.0.11") },
      { op: "add-service", service: svc(web, []) },
      { op: "add-dest", key: web, dest: { ...dest("10.0.0.12"), port: 70000 } },
      { op: "add-service", service: svc(web, []) },
      { op: "delete-dest", key: web, dest: dest("10.0.0.99") },
    ]);
    assertEquals(errors.map((e) => (e.error as SyscallError).code ?? "RangeError"), [
      "ENOENT",
      "RangeError",
      "EEXIST",
      "ENOENT",
    ]);
    assertEquals(errors.map((e) => e.op.op), [
      "add-dest",
      "add-dest",
      "add-service",
      "delete-dest",
    ]);
    assertEquals(lines.length, 4);
    assertMatch(lines[0]!, /add-dest TCP 10\.0\.0\.50:80 -> 10\.0\.0\.11:80 failed: ENOENT/);
    assertMatch(lines[1]!, /add-dest TCP 10\.0\.0\.50:80 -> 10\.0\.0\.12:70000 failed: .*range/);
    assertMatch(lines[2]!, /add-service TCP 10\.0\.0\.50:80 failed: EEXIST/);
    assertMatch(lines[3]!, /delete-dest TCP 10\.0\.0\.50:80 -> 10\.0\.0\.99:80 failed: ENOENT/);
    assertEquals(kernel.services.size, 1);
  });
}

Deno.test("manager: services adopted from an earlier agent are deleted once no longer wanted", async () => {
  const kernel = new FakeIpvs();
  const { m: first } = await open(kernel);
  await first.reconcile([svc(web, [dest("10.0.0.11")]), svc(v6, [])]);
  assertEquals(first.ownedServices(), ["TCP 10.0.0.50:80", "UDP [2001:db8::50]:53"].sort());
  // A new manager (the next agent) knows nothing of them until it adopts what was persisted.
  const { m: fresh } = await open(kernel);
  assertEquals((await fresh.reconcile([svc(web, [dest("10.0.0.11")])])).ops, []);
  assertEquals(kernel.services.size, 2, "an unknown service is foreign and stays");
  const { m } = await open(kernel);
  m.adopt(first.ownedServices());
  const r = await m.reconcile([svc(web, [dest("10.0.0.11")])]);
  assertEquals(r.ops, [{ op: "delete-service", key: v6 }]);
  assertEquals(m.ownedServices(), ["TCP 10.0.0.50:80"]);
});

Deno.test("manager: batched reconcile of many services, then a second pass sends nothing", async () => {
  const kernel = new FakeIpvs();
  const { m, conn } = await open(kernel, true);
  assert(conn instanceof BatchingFake);
  const want = Array.from(
    { length: 40 },
    (_, i) =>
      svc({ ...web, address: `10.1.0.${i + 1}` }, [dest(`10.2.${i}.1`), dest(`10.2.${i}.2`)]),
  );
  const first = await m.reconcile(want);
  assertEquals(first.ops.length, 120);
  assertEquals(first.errors, []);
  assertEquals(kernel.services.size, 40);
  assertEquals([...kernel.services.values()].map((s) => s.dests.size), want.map(() => 2));
  assertEquals(conn.datagrams, 40, "120 ops, 3 to a datagram");
  assertEquals(conn.requests.length, 2, "only the family lookup and the service dump");
  const second = await m.reconcile(want);
  assertEquals(second.ops, []);
  want[7]!.destinations[1]!.weight = 9;
  want.pop();
  const third = await m.reconcile(want);
  assertEquals(third.ops.map((o) => o.op), ["delete-service", "edit-dest"]);
  assertEquals(kernel.services.size, 39);
  m[Symbol.dispose]();
});

Deno.test("manager: a hand-made change is put back; flush empties", async () => {
  const kernel = new FakeIpvs();
  const { m } = await open(kernel);
  const want = [svc(web, [dest("10.0.0.11", 5), dest("10.0.0.12")])];
  await m.reconcile(want);
  kernel.services.get("TCP 10.0.0.50:80")!.dests.delete("10.0.0.12:80");
  const r = await m.reconcile([svc(web, [dest("10.0.0.11", 7), dest("10.0.0.12")])]);
  assertEquals(r.ops.map((o) => o.op), ["edit-dest", "add-dest"]);
  await m.flush();
  assertEquals(kernel.services.size, 0);
});

Deno.test({
  name: "manager: on a kernel without IPVS, open answers { unavailable } quickly",
  ignore: (() => {
    try {
      Deno.statSync("/proc/net/ip_vs");
      return true;
    } catch {
      return false;
    }
  })(),
  fn: async () => {
    const reactor = new Reactor();
    const running = reactor.run();
    const t0 = performance.now();
    const r = await IpvsManager.open(reactor, capture().log);
    const ms = performance.now() - t0;
    reactor.close();
    await running;
    assertEquals(r, {
      unavailable:
        'IPVS is not available in this kernel (generic netlink family "IPVS" not found: ENOENT)',
    });
    assert(ms < 2000, `took ${ms} ms`);
  },
});
