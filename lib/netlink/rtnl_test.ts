import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { AttributeEncoder } from "./attrs.ts";
import { NetlinkError } from "./client.ts";
import { FakeNetlink } from "./fake.ts";
import {
  encodeMessage,
  IFA_ADDRESS,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFA_F_SECONDARY,
  IFA_F_TENTATIVE,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_MTU,
  NLM_F_DUMP,
  type NlMessage,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
} from "./message.ts";
import {
  type Address,
  decodeAddress,
  decodeRoute,
  encodeRouteRequest,
  Rtnl,
  type RtnlEvent,
} from "./rtnl.ts";

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

function linkMsg(index: number, name: string, flags: number, mtu: number): NlMessage {
  const hdr = new Uint8Array(16);
  const v = new DataView(hdr.buffer);
  v.setUint16(2, 1, true);
  v.setInt32(4, index, true);
  v.setUint32(8, flags, true);
  const attrs = new AttributeEncoder().string(IFLA_IFNAME, name).u32(IFLA_MTU, mtu)
    .bytes(IFLA_ADDRESS, Uint8Array.of(2, 0, 0, 0, 0, index)).finish();
  return {
    type: RTM_NEWLINK,
    flags: 0,
    seq: 0,
    pid: 0,
    payload: new Uint8Array([...hdr, ...attrs]),
  };
}

function addrMsg(
  index: number,
  fam: 2 | 10,
  bytes: number[],
  prefix: number,
  flags: number,
  label?: string,
): NlMessage {
  const hdr = Uint8Array.of(fam, prefix, flags & 0xff, 0, index, 0, 0, 0);
  const e = new AttributeEncoder().bytes(IFA_ADDRESS, Uint8Array.from(bytes));
  if (fam === 2) e.bytes(IFA_LOCAL, Uint8Array.from(bytes));
  if (label !== undefined) e.string(IFA_LABEL, label);
  e.u32(IFA_FLAGS, flags);
  return {
    type: RTM_NEWADDR,
    flags: 0,
    seq: 0,
    pid: 0,
    payload: new Uint8Array([...hdr, ...e.finish()]),
  };
}

/** A tiny kernel: two links, a set of addresses keyed by "ifindex/addr". */
function fakeKernel() {
  const addrs = new Map<string, NlMessage>();
  addrs.set("1/127.0.0.1", addrMsg(1, 2, [127, 0, 0, 1], 8, IFA_F_PERMANENT, "lo"));
  const fake = new FakeNetlink((req) => {
    switch (req.type) {
      case RTM_GETLINK:
        return [linkMsg(1, "lo", 0x49, 65536), linkMsg(2, "eth0", 0x1003, 1500)];
      case RTM_GETADDR:
        return [...addrs.values()];
      case RTM_NEWADDR:
      case RTM_DELADDR: {
        const a = decodeAddress(req);
        if (!a.ok) return new SyscallError("x", 22, "bad");
        if (a.value.ifindex > 2) return new SyscallError("x", 19, "no dev");
        const key = `${a.value.ifindex}/${a.value.address}`;
        if (req.type === RTM_DELADDR) {
          if (!addrs.delete(key)) return new SyscallError("x", 99, "absent");
          return [];
        }
        if (addrs.has(key)) return new SyscallError("x", 17, "exists");
        addrs.set(key, { ...req, type: RTM_NEWADDR });
        return [];
      }
      default:
        return new SyscallError("x", 95, "unsupported");
    }
  });
  return { fake, addrs };
}

Deno.test("rtnl: RTM_NEWADDR request bytes (10.0.0.50/24, ifindex 2, label)", async () => {
  const { fake } = fakeKernel();
  const rtnl = new Rtnl(fake);
  await rtnl.addAddress({
    ifindex: 2,
    ifname: "eth0",
    address: "10.0.0.50",
    prefix: 24,
    label: "eth0:1",
  });
  const req = fake.requests[0]!;
  assertEquals(
    hex(encodeMessage(req)),
    [
      "34 00 00 00 14 00 05 06 01 00 00 00 92 10 00 00", // nlmsghdr: NEW|CREATE|EXCL|ACK|REQUEST
      "02 18 00 00 02 00 00 00", // ifaddrmsg: AF_INET /24 flags 0 scope 0 ifindex 2
      "08 00 02 00 0a 00 00 32", // IFA_LOCAL 10.0.0.50
      "0b 00 03 00 65 74 68 30 3a 31 00 00", // IFA_LABEL "eth0:1"
      "08 00 01 00 0a 00 00 32", // IFA_ADDRESS 10.0.0.50
    ].join(" "),
  );
});

Deno.test("rtnl: IPv6 nodad request carries IFA_F_NODAD", async () => {
  const { fake } = fakeKernel();
  const rtnl = new Rtnl(fake);
  await rtnl.addAddress({
    ifindex: 2,
    ifname: "eth0",
    address: "2001:db8::5",
    prefix: 64,
    nodad: true,
    noprefixroute: true,
  });
  const p = fake.requests[0]!.payload;
  assertEquals([...p.subarray(0, 8)], [10, 64, IFA_F_NODAD, 0, 2, 0, 0, 0]);
  const a = decodeAddress(fake.requests[0]!);
  assert(a.ok);
  assertEquals(a.value.address, "2001:db8::5");
  assertEquals(a.value.flags, 0x202);
});

Deno.test("rtnl: add then add again gives EEXIST naming the address and interface", async () => {
  const { fake } = fakeKernel();
  const rtnl = new Rtnl(fake);
  const spec = { ifindex: 2, ifname: "eth0", address: "10.0.0.50", prefix: 24 };
  await rtnl.addAddress(spec);
  const e = await assertRejects(() => rtnl.addAddress(spec), SyscallError);
  assertEquals(e.message, `Cannot add 10.0.0.50/24 to "eth0": EEXIST (File exists)`);
  assert(e instanceof NetlinkError);
  assertEquals(e.syscall, "RTM_NEWADDR");
  assertEquals(e.errno, 17);
  await rtnl.deleteAddress(spec);
  const d = await assertRejects(() => rtnl.deleteAddress(spec), SyscallError);
  assertEquals(
    d.message,
    `Cannot delete 10.0.0.50/24 from "eth0": EADDRNOTAVAIL (Cannot assign requested address)`,
  );
  const n = await assertRejects(
    () => rtnl.addAddress({ ...spec, ifindex: 99, ifname: "nope0" }),
    SyscallError,
  );
  assertEquals(n.message, `Cannot add 10.0.0.50/24 to "nope0": ENODEV (No such device)`);
  assertEquals(fake.pending, 0);
});

Deno.test("rtnl: multi-part dumps of links and addresses", async () => {
  const { fake } = fakeKernel();
  const rtnl = new Rtnl(fake);
  await rtnl.addAddress({
    ifindex: 2,
    ifname: "eth0",
    address: "10.0.0.50",
    prefix: 24,
    label: "eth0:vip",
  });
  const links = await rtnl.listLinks();
  assertEquals(links.map((l) => [l.index, l.name, l.up, l.running, l.mtu, l.mac?.[5]]), [
    [1, "lo", true, true, 65536, 1],
    [2, "eth0", true, false, 1500, 2],
  ]);
  const dumpReq = fake.requests[fake.requests.length - 1]!;
  assertEquals(dumpReq.flags & NLM_F_DUMP, NLM_F_DUMP);
  assertEquals(dumpReq.flags & 0x4, 0, "no ACK asked on dumps");
  const addrs = await rtnl.listAddresses();
  const want: Address[] = [
    {
      ifindex: 1,
      family: "ipv4",
      address: "127.0.0.1",
      prefix: 8,
      label: "lo",
      scope: 0,
      flags: IFA_F_PERMANENT,
      secondary: false,
      tentative: false,
    },
    {
      ifindex: 2,
      family: "ipv4",
      address: "10.0.0.50",
      prefix: 24,
      label: "eth0:vip",
      scope: 0,
      flags: 0,
      secondary: false,
      tentative: false,
    },
  ];
  assertEquals(addrs, want);
});

Deno.test("rtnl: a dump error and an interrupted dump reject", async () => {
  let calls = 0;
  const fake = new FakeNetlink((req) => {
    calls++;
    if (req.type === RTM_GETLINK) return new SyscallError("x", 95, "");
    return [{ ...linkMsg(1, "lo", 1, 1), type: RTM_NEWADDR, flags: 0x10 }];
  });
  const rtnl = new Rtnl(fake);
  const e = await assertRejects(() => rtnl.listLinks(), SyscallError);
  assertEquals(e.message, "Cannot list links: EOPNOTSUPP (Operation not supported)");
  calls = 0;
  const i = await assertRejects(() => rtnl.listAddresses(), SyscallError);
  assert(i.message.includes("dump interrupted"), i.message);
  assertEquals(calls, 3, "retried twice");
});

Deno.test("rtnl: route requests", async () => {
  const fake = new FakeNetlink(() => []);
  const rtnl = new Rtnl(fake);
  await rtnl.addRoute({ family: "ipv4", to: "10.9.0.0", prefix: 16, via: "10.0.0.1", metric: 5 });
  await rtnl.deleteRoute({ family: "ipv4", to: "10.9.0.0", prefix: 16, via: "10.0.0.1" });
  const [add, del] = fake.requests;
  assertEquals(add!.type, RTM_NEWROUTE);
  assertEquals(del!.type, RTM_DELROUTE);
  // rtmsg: AF_INET /16, table main, proto keepalived, scope universe, unicast
  assertEquals([...add!.payload.subarray(0, 8)], [2, 16, 0, 0, 254, 18, 0, 1]);
  assertEquals([...del!.payload.subarray(0, 8)], [2, 16, 0, 0, 254, 0, 255, 0]);
  const direct = encodeRouteRequest(
    { family: "ipv6", to: "2001:db8:1::", prefix: 48, ifindex: 3, table: 1000 },
    false,
  );
  assertEquals([...direct.subarray(0, 8)], [10, 48, 0, 0, 0, 18, 253, 1]);
  const bad = await assertRejects(
    () => rtnl.addRoute({ family: "ipv4", to: "2001:db8::", prefix: 16 }),
    TypeError,
  );
  assert(bad.message.includes("not an ipv4 address"));
});

Deno.test("rtnl: replaceRoute sends CREATE|REPLACE; a delete with a protocol matches it", async () => {
  const fake = new FakeNetlink(() => []);
  const rtnl = new Rtnl(fake);
  await rtnl.replaceRoute({
    family: "ipv4",
    to: "192.0.2.10",
    prefix: 32,
    ifindex: 1,
    table: 198,
    protocol: 248,
  });
  await rtnl.deleteRoute({
    family: "ipv4",
    to: "192.0.2.10",
    prefix: 32,
    table: 198,
    protocol: 248,
  });
  const [rep, del] = fake.requests;
  assertEquals(rep!.type, RTM_NEWROUTE);
  assertEquals(rep!.flags & 0xf00, 0x500, "NLM_F_CREATE | NLM_F_REPLACE");
  assertEquals([...rep!.payload.subarray(0, 8)], [2, 32, 0, 0, 198, 248, 253, 1]);
  assertEquals([...del!.payload.subarray(0, 8)], [2, 32, 0, 0, 198, 248, 255, 0]);
});

/** An RTM_NEWROUTE as the kernel dumps it. */
function routeMsg(
  fam: 2 | 10,
  dst: number[],
  prefix: number,
  table: number,
  proto: number,
  oif: number | null,
): NlMessage {
  const hdr = Uint8Array.of(
    fam,
    prefix,
    0,
    0,
    table < 256 ? table : 252,
    proto,
    253,
    1,
    0,
    0,
    0,
    0,
  );
  const e = new AttributeEncoder().u32(15, table).bytes(1, Uint8Array.from(dst));
  if (oif !== null) e.u32(4, oif);
  return {
    type: RTM_NEWROUTE,
    flags: 0,
    seq: 0,
    pid: 0,
    payload: new Uint8Array([...hdr, ...e.finish()]),
  };
}

Deno.test("rtnl: listRoutes dumps each family and keeps one table", async () => {
  const fake = new FakeNetlink((req) => {
    assertEquals(req.type, RTM_GETROUTE);
    assertEquals(req.flags & NLM_F_DUMP, NLM_F_DUMP);
    return req.payload[0] === 2
      ? [
        routeMsg(2, [192, 0, 2, 10], 32, 198, 248, 1),
        routeMsg(2, [10, 0, 0, 0], 8, 254, 4, 2),
        routeMsg(2, [198, 51, 100, 7], 32, 1000, 248, null),
      ]
      : [routeMsg(10, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1], 128, 198, 248, 3)];
  });
  const rtnl = new Rtnl(fake);
  const all = await rtnl.listRoutes();
  assertEquals(all.length, 4);
  const t198 = await rtnl.listRoutes(undefined, 198);
  assertEquals(t198.map((r) => `${r.to}/${r.prefix} ${r.protocol} ${r.ifindex}`), [
    "192.0.2.10/32 248 1",
    "2001:db8::1/128 248 3",
  ]);
  const big = await rtnl.listRoutes("ipv4", 1000);
  assertEquals(big.length, 1, "tables above 255 come from RTA_TABLE");
  assertEquals(big[0]!.ifindex, null);
  const short = decodeRoute({ ...routeMsg(2, [1, 2, 3], 24, 198, 248, 1) });
  assert(!short.ok, "a 3-byte IPv4 destination is refused");
});

Deno.test("rtnl: subscribe decodes link/address events and reports overruns", () => {
  const fake = new FakeNetlink(() => []);
  const rtnl = new Rtnl(fake);
  const events: RtnlEvent[] = [];
  const sub = rtnl.subscribe((e) => events.push(e));
  fake.emit({ ...linkMsg(2, "eth0", 0, 1500), type: RTM_NEWLINK });
  fake.emit({ ...linkMsg(3, "eth1", 0, 1500), type: RTM_DELLINK });
  fake.emit({
    ...addrMsg(2, 10, [0xfe, 0x80, ...new Array(13).fill(0), 1], 64, IFA_F_TENTATIVE),
    type: RTM_DELADDR,
  });
  fake.emit(addrMsg(2, 2, [10, 0, 0, 9], 24, IFA_F_SECONDARY));
  fake.emit({ type: RTM_NEWADDR, flags: 0, seq: 0, pid: 0, payload: Uint8Array.of(1, 2) });
  fake.overrun();
  assertEquals(events.length, 5);
  const [l1, l2, a1, a2, o] = events;
  assert(l1?.kind === "link" && !l1.deleted && l1.link.name === "eth0" && !l1.link.up);
  assert(l2?.kind === "link" && l2.deleted && l2.link.index === 3);
  assert(a1?.kind === "address" && a1.deleted && a1.address.address === "fe80::1");
  assert(a1.address.tentative && a1.address.family === "ipv6");
  assert(a2?.kind === "address" && a2.address.secondary && a2.address.address === "10.0.0.9");
  assertEquals(o, { kind: "overrun" });
  sub[Symbol.dispose]();
  fake.emit(linkMsg(2, "eth0", 1, 1500));
  assertEquals(events.length, 5, "no events after dispose");
});

Deno.test("rtnl: a subscription opens its own connection when it can", () => {
  const opened: number[][] = [];
  const events = new FakeNetlink(() => []);
  const rtnl = new Rtnl(new FakeNetlink(() => []), (groups) => {
    opened.push(groups);
    return events;
  });
  const got: RtnlEvent[] = [];
  const sub = rtnl.subscribe((e) => got.push(e));
  assertEquals(opened, [[1, 5, 9]]);
  events.emit(linkMsg(2, "eth0", 1, 1500));
  assertEquals(got.length, 1);
  sub[Symbol.dispose]();
  assert(events.closed);
});

Deno.test("rtnl: route onlink sets RTNH_F_ONLINK on add only; throw is type 9", () => {
  const spec = {
    family: "ipv4" as const,
    to: "10.9.0.0",
    prefix: 16,
    via: "192.0.2.1",
    ifindex: 2,
    onlink: true,
  };
  const add = encodeRouteRequest(spec, false);
  assertEquals([...add.subarray(8, 12)], [4, 0, 0, 0]);
  const del = encodeRouteRequest(spec, true);
  assertEquals([...del.subarray(8, 12)], [0, 0, 0, 0]);
  const thr = encodeRouteRequest(
    { family: "ipv4", to: "10.0.0.0", prefix: 8, type: "throw" },
    false,
  );
  assertEquals(thr[7], 9);
});
