import { assert, assertEquals, assertThrows } from "../tests/helpers/assert.ts";
import {
  AF_INET,
  AF_INET6,
  AF_PACKET,
  cmsgAlign,
  cmsgSpace,
  decodeCmsgs,
  decodeEpollEvent,
  decodeIfreq,
  decodeIn6Pktinfo,
  decodeInPktinfo,
  decodeInt,
  decodeMsghdr,
  decodeSockaddrIn,
  decodeSockaddrIn6,
  decodeSockaddrLl,
  decodeSockaddrNl,
  encodeCmsgs,
  encodeEpollEvent,
  encodeIfreqIndex,
  encodeIfreqName,
  encodeIn6Pktinfo,
  encodeInPktinfo,
  encodeInt,
  encodeIovec,
  encodeIpMreqn,
  encodeIpv6Mreq,
  encodeMsghdr,
  encodeSockaddrIn,
  encodeSockaddrIn6,
  encodeSockaddrLl,
  encodeSockaddrNl,
  encodeSockaddrUn,
  IP_PKTINFO,
  IP_TTL,
  OFFSET,
  SIZEOF,
  SOL_IP,
} from "./structs.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const te = (s: string) => new TextEncoder().encode(s);
const unhex = (s: string) =>
  new Uint8Array(s.replace(/\s+/g, "").match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("structs: encoded sizes match SIZEOF", () => {
  const z4 = new Uint8Array(4), z16 = new Uint8Array(16);
  assertEquals(encodeSockaddrIn({ addr: z4, port: 0 }).byteLength, SIZEOF.sockaddr_in);
  assertEquals(
    encodeSockaddrIn6({ addr: z16, port: 0, flowinfo: 0, scopeId: 0 }).byteLength,
    SIZEOF.sockaddr_in6,
  );
  assertEquals(
    encodeSockaddrLl({ protocol: 0, ifindex: 0, hatype: 0, pkttype: 0, addr: z4 }).byteLength,
    SIZEOF.sockaddr_ll,
  );
  assertEquals(encodeSockaddrNl({ pid: 0, groups: 0 }).byteLength, SIZEOF.sockaddr_nl);
  assertEquals(encodeIpMreqn(z4, 0).byteLength, SIZEOF.ip_mreqn);
  assertEquals(encodeIpv6Mreq(z16, 0).byteLength, SIZEOF.ipv6_mreq);
  assertEquals(encodeIfreqName("eth0").byteLength, SIZEOF.ifreq);
  assertEquals(encodeIovec(0n, 0).byteLength, SIZEOF.iovec);
  assertEquals(
    encodeMsghdr({ name: 0n, namelen: 0, iov: 0n, iovlen: 0, control: 0n, controllen: 0, flags: 0 })
      .byteLength,
    SIZEOF.msghdr,
  );
  assertEquals(encodeInPktinfo({ ifindex: 0, specDst: z4, addr: z4 }).byteLength, 12);
  assertEquals(encodeIn6Pktinfo({ addr: z16, ifindex: 0 }).byteLength, 20);
  assertEquals(encodeEpollEvent({ events: 0, data: 0n }).byteLength, 12);
  assertEquals(SIZEOF, {
    sockaddr_in: 16,
    sockaddr_in6: 28,
    sockaddr_ll: 20,
    sockaddr_nl: 12,
    ip_mreqn: 12,
    ipv6_mreq: 20,
    ifreq: 40,
    iovec: 16,
    msghdr: 56,
    cmsghdr: 16,
    in_pktinfo: 12,
    in6_pktinfo: 20,
    epoll_event: 12,
    sockaddr_un: 110,
  });
});

Deno.test("structs: sockaddr_in golden bytes and round trip", () => {
  const b = encodeSockaddrIn({ addr: new Uint8Array([224, 0, 0, 18]), port: 0x1234 });
  assertEquals(hex(b), "02001234e000001200000000" + "00000000");
  assertEquals(decodeSockaddrIn(b), { port: 0x1234, addr: new Uint8Array([224, 0, 0, 18]) });
  assertThrows(() => decodeSockaddrIn(b.subarray(0, 15)), RangeError);
  assertThrows(() => encodeSockaddrIn({ addr: new Uint8Array(16), port: 0 }), RangeError);
});

Deno.test("structs: sockaddr_in6 golden bytes and round trip", () => {
  const addr = unhex("ff020000000000000000000000000012");
  const v = { addr, port: 112, flowinfo: 0x01020304, scopeId: 7 };
  const b = encodeSockaddrIn6(v);
  assertEquals(hex(b), "0a000070" + "01020304" + hex(addr) + "07000000");
  assertEquals(b[OFFSET.sockaddr_in6.scopeId], 7);
  assertEquals(decodeSockaddrIn6(b), v);
});

Deno.test("structs: sockaddr_ll golden bytes and round trip", () => {
  const mac = unhex("020000000001");
  const v = { protocol: 0x0806, ifindex: 3, hatype: 1, pkttype: 4, addr: mac };
  const b = encodeSockaddrLl(v);
  assertEquals(hex(b), "1100" + "0806" + "03000000" + "0100" + "04" + "06" + hex(mac) + "0000");
  assertEquals(decodeSockaddrLl(b), v);
  assertEquals(b[OFFSET.sockaddr_ll.halen], 6);
  assertThrows(() => encodeSockaddrLl({ ...v, addr: new Uint8Array(9) }), RangeError);
});

Deno.test("structs: sockaddr_nl golden bytes and round trip", () => {
  const b = encodeSockaddrNl({ pid: 0x11223344, groups: 5 });
  assertEquals(hex(b), "1000" + "0000" + "44332211" + "05000000");
  assertEquals(decodeSockaddrNl(b), { pid: 0x11223344, groups: 5 });
});

Deno.test("structs: ip_mreqn and ipv6_mreq golden bytes", () => {
  assertEquals(
    hex(encodeIpMreqn(new Uint8Array([224, 0, 0, 18]), 9, new Uint8Array([10, 0, 0, 1]))),
    "e0000012" + "0a000001" + "09000000",
  );
  assertEquals(
    hex(encodeIpMreqn(new Uint8Array([224, 0, 0, 18]), 2)),
    "e0000012000000000" + "2000000",
  );
  const g = unhex("ff020000000000000000000000000012");
  assertEquals(hex(encodeIpv6Mreq(g, 0x102)), hex(g) + "02010000");
});

Deno.test("structs: ifreq name, index and decode", () => {
  const b = encodeIfreqName("veth-abcdefghij");
  assertEquals(new TextDecoder().decode(b.subarray(0, 15)), "veth-abcdefghij");
  assertEquals(b[15], 0);
  assertThrows(() => encodeIfreqName("veth-abcdefghijk"), RangeError, "veth-abcdefghijk");
  assertThrows(() => encodeIfreqName(""), RangeError);
  assertThrows(() => encodeIfreqName("a\0b"), RangeError);
  const i = encodeIfreqIndex(0x0102);
  assertEquals(hex(i.subarray(16, 20)), "02010000");
  // An SIOCGIFHWADDR answer: sa_family ARPHRD_ETHER, then the MAC.
  const r = encodeIfreqName("eth0");
  r.set(unhex("0100" + "5254000a0b0c"), OFFSET.ifreq.hwaddrFamily);
  const d = decodeIfreq(r);
  assertEquals(d.name, "eth0");
  assertEquals(d.hwFamily, 1);
  assertEquals(hex(d.hwaddr), "5254000a0b0c");
});

Deno.test("structs: iovec and msghdr golden bytes and round trip", () => {
  assertEquals(
    hex(encodeIovec(0x1122334455667788n, 1500)),
    "8877665544332211" + "dc05000000000000",
  );
  const m = {
    name: 0x10n,
    namelen: 28,
    iov: 0x20n,
    iovlen: 1,
    control: 0x30n,
    controllen: 64,
    flags: 0x20,
  };
  const b = encodeMsghdr(m);
  assertEquals(
    hex(b),
    "1000000000000000" + "1c000000" + "00000000" + "2000000000000000" + "0100000000000000" +
      "3000000000000000" + "4000000000000000" + "20000000" + "00000000",
  );
  assertEquals(decodeMsghdr(b), m);
});

Deno.test("structs: cmsg alignment, golden bytes, round trip and truncation", () => {
  assertEquals([cmsgAlign(0), cmsgAlign(1), cmsgAlign(8), cmsgAlign(12)], [0, 8, 8, 16]);
  assertEquals(cmsgSpace(4), 24);
  assertEquals(cmsgSpace(12), 32);
  const pk = encodeInPktinfo({
    ifindex: 3,
    specDst: new Uint8Array([10, 0, 0, 2]),
    addr: new Uint8Array([224, 0, 0, 18]),
  });
  const msgs = [
    { level: SOL_IP, type: IP_PKTINFO, data: pk },
    { level: SOL_IP, type: IP_TTL, data: encodeInt(255) },
  ];
  const b = encodeCmsgs(msgs);
  assertEquals(b.byteLength, 32 + 24);
  assertEquals(
    hex(b.subarray(0, 32)),
    "1c00000000000000" + "00000000" + "08000000" + hex(pk) + "00000000",
  );
  assertEquals(decodeCmsgs(b), msgs);
  // The kernel reports controllen without the last padding.
  assertEquals(decodeCmsgs(b, 32 + 20), msgs);
  assertEquals(decodeCmsgs(b, 40), [msgs[0]!]);
  assertEquals(decodeCmsgs(new Uint8Array(0)), []);
  const bad = b.slice();
  bad[0] = 3; // cmsg_len shorter than the header
  assertEquals(decodeCmsgs(bad), []);
  for (let i = 0; i < 200; i++) {
    const m = b.slice();
    m[Math.floor(Math.random() * m.length)] = Math.floor(Math.random() * 256);
    decodeCmsgs(m);
  }
  assertEquals(decodeInt(msgs[1]!.data), 255);
});

Deno.test("structs: in_pktinfo and in6_pktinfo round trip", () => {
  const p4 = {
    ifindex: 5,
    specDst: new Uint8Array([10, 0, 0, 2]),
    addr: new Uint8Array([224, 0, 0, 18]),
  };
  assertEquals(decodeInPktinfo(encodeInPktinfo(p4)), p4);
  const p6 = { addr: unhex("ff020000000000000000000000000012"), ifindex: 0x10203 };
  const b = encodeIn6Pktinfo(p6);
  assertEquals(hex(b.subarray(16)), "03020100");
  assertEquals(decodeIn6Pktinfo(b), p6);
  assertThrows(() => decodeIn6Pktinfo(b.subarray(0, 19)), RangeError);
});

Deno.test("structs: epoll_event is packed (12 bytes)", () => {
  const b = encodeEpollEvent({ events: 0x19, data: 0x0102030405060708n });
  assertEquals(hex(b), "19000000" + "0807060504030201");
  const arr = new Uint8Array(24);
  arr.set(b, 12);
  assertEquals(decodeEpollEvent(arr, 1), { events: 0x19, data: 0x0102030405060708n });
  assertThrows(() => decodeEpollEvent(arr, 2), RangeError);
});

Deno.test("structs: family constants sit at offset 0 in host order", () => {
  assertEquals(encodeSockaddrIn({ addr: new Uint8Array(4), port: 0 })[0], AF_INET);
  assertEquals(
    encodeSockaddrIn6({ addr: new Uint8Array(16), port: 0, flowinfo: 0, scopeId: 0 })[0],
    AF_INET6,
  );
  assertEquals(
    encodeSockaddrLl({ protocol: 0, ifindex: 0, hatype: 0, pkttype: 0, addr: new Uint8Array() })[0],
    AF_PACKET,
  );
});

const cc = (() => {
  try {
    return new Deno.Command("cc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "structs: SIZEOF and OFFSET agree with the C compiler (glibc headers)",
  ignore: !cc,
  fn: async () => {
    const fields: Array<[string, string, string]> = [];
    const cName: Record<string, Record<string, string>> = {
      sockaddr_in: { family: "sin_family", port: "sin_port", addr: "sin_addr" },
      sockaddr_in6: {
        family: "sin6_family",
        port: "sin6_port",
        flowinfo: "sin6_flowinfo",
        addr: "sin6_addr",
        scopeId: "sin6_scope_id",
      },
      sockaddr_ll: {
        family: "sll_family",
        protocol: "sll_protocol",
        ifindex: "sll_ifindex",
        hatype: "sll_hatype",
        pkttype: "sll_pkttype",
        halen: "sll_halen",
        addr: "sll_addr",
      },
      sockaddr_nl: { family: "nl_family", pid: "nl_pid", groups: "nl_groups" },
      ip_mreqn: { multiaddr: "imr_multiaddr", address: "imr_address", ifindex: "imr_ifindex" },
      ipv6_mreq: { multiaddr: "ipv6mr_multiaddr", ifindex: "ipv6mr_interface" },
      ifreq: {
        name: "ifr_name",
        ifindex: "ifr_ifindex",
        flags: "ifr_flags",
        mtu: "ifr_mtu",
        hwaddrFamily: "ifr_hwaddr.sa_family",
        hwaddrData: "ifr_hwaddr.sa_data",
      },
      iovec: { base: "iov_base", len: "iov_len" },
      msghdr: {
        name: "msg_name",
        namelen: "msg_namelen",
        iov: "msg_iov",
        iovlen: "msg_iovlen",
        control: "msg_control",
        controllen: "msg_controllen",
        flags: "msg_flags",
      },
      cmsghdr: { len: "cmsg_len", level: "cmsg_level", type: "cmsg_type", data: "__cmsg_data" },
      in_pktinfo: { ifindex: "ipi_ifindex", specDst: "ipi_spec_dst", addr: "ipi_addr" },
      in6_pktinfo: { addr: "ipi6_addr", ifindex: "ipi6_ifindex" },
      epoll_event: { events: "events", data: "data" },
      sockaddr_un: { family: "sun_family", path: "sun_path" },
    };
    for (const [struct, offs] of Object.entries(OFFSET)) {
      for (const field of Object.keys(offs)) {
        fields.push([struct, field, cName[struct]![field]!]);
      }
    }
    const src = `#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/uio.h>
#include <sys/epoll.h>
#include <sys/un.h>
int main(void) {
  printf("{\\"sizes\\":{");
${
      Object.keys(SIZEOF).map((s, i) =>
        `  printf("%s\\"${s}\\":%zu", ${i ? '","' : '""'}, sizeof(struct ${s}));`
      ).join("\n")
    }
  printf("},\\"offsets\\":[");
${
      fields.map(([s, f, c], i) =>
        `  printf("%s[\\"${s}\\",\\"${f}\\",%zu]", ${
          i ? '","' : '""'
        }, offsetof(struct ${s}, ${c}));`
      ).join("\n")
    }
  printf("]}\\n");
  return 0;
}
`;
    const dir = await Deno.makeTempDir({ prefix: "haagent-structs-" });
    try {
      await Deno.writeTextFile(`${dir}/s.c`, src);
      const build = await new Deno.Command("cc", {
        args: ["-o", `${dir}/s`, `${dir}/s.c`],
        stderr: "piped",
      }).output();
      assert(build.success, new TextDecoder().decode(build.stderr));
      const out = await new Deno.Command(`${dir}/s`, { stdout: "piped" }).output();
      const got = JSON.parse(new TextDecoder().decode(out.stdout)) as {
        sizes: Record<string, number>;
        offsets: Array<[string, string, number]>;
      };
      assertEquals(got.sizes, { ...SIZEOF });
      for (const [s, f, off] of got.offsets) {
        assertEquals((OFFSET as Record<string, Record<string, number>>)[s]![f], off, `${s}.${f}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("structs: sockaddr_un for a file name and for an abstract name", () => {
  // sun_family AF_UNIX (1, little-endian), the path, its NUL: addrlen 2 + 9 + 1.
  assertEquals(hex(encodeSockaddrUn("/run/sock")), "0100" + hex(te("/run/sock")) + "00");
  // Abstract: a leading NUL, the name without "@", no trailing NUL (systemd's own rule).
  assertEquals(hex(encodeSockaddrUn("@notify")), "0100" + "00" + hex(te("notify")));
  const longest = "/" + "x".repeat(SIZEOF.sockaddr_un - OFFSET.sockaddr_un.path - 2);
  assertEquals(encodeSockaddrUn(longest).byteLength, SIZEOF.sockaddr_un);
  assertEquals(encodeSockaddrUn("@" + "y".repeat(107)).byteLength, SIZEOF.sockaddr_un);
  for (const bad of ["", "@", longest + "x", "@" + "y".repeat(108), "/a\0b"]) {
    assertThrows(() => encodeSockaddrUn(bad), RangeError);
  }
});
