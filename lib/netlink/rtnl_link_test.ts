import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { netlinkSeqs, parseLabelledHex } from "../../tests/helpers/hexdump.ts";
import { AttributeEncoder } from "./attrs.ts";
import { encodeMessage, IFLA_LINKINFO, NLM_F_ACK, NLM_F_REQUEST } from "./message.ts";
import {
  addrGenModeNoneRequest,
  createMacvlanRequest,
  deleteLinkRequest,
  DEVCONF,
  devconfRequest,
  IFLA_AF_SPEC,
  linkDetails,
  type LinkRequest,
  linkUpRequest,
  MACVLAN_MODE_PRIVATE,
} from "./rtnl_link.ts";

const golden = new Map(
  parseLabelledHex(
    Deno.readTextFileSync(
      new URL("../../tests/vectors/keepalived-2.2.7/vmac-ipv4.hex", import.meta.url),
    ),
  ).map((b) => [b.label, b.bytes]),
);

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Our request framed with keepalived's sequence number. */
function framed(label: string, r: LinkRequest): [string, string] {
  const want = golden.get(label)!;
  const seq = netlinkSeqs(want)[0]!;
  const got = encodeMessage({
    type: r.type,
    flags: r.flags | NLM_F_REQUEST | NLM_F_ACK,
    seq,
    pid: 0,
    payload: r.payload,
  });
  return [hex(got), hex(want)];
}

Deno.test("rtnl link: the VMAC requests are keepalived 2.2.7's, byte for byte", () => {
  const vmac = 4;
  const base = 3;
  assertEquals(
    ...framed(
      "create",
      createMacvlanRequest({
        name: "vrrp.51",
        parentIfindex: base,
        mac: Uint8Array.of(0, 0, 0x5e, 0, 1, 51),
        mode: MACVLAN_MODE_PRIVATE,
      }),
    ),
  );
  assertEquals(
    ...framed(
      "vmac-devconf",
      devconfRequest(vmac, [
        ["arp_ignore", 1],
        ["accept_local", 1],
        ["rp_filter", 0],
        ["promote_secondaries", 1],
      ]),
    ),
  );
  assertEquals(
    ...framed("base-devconf", devconfRequest(base, [["arp_ignore", 1], ["arp_filter", 1]])),
  );
  assertEquals(...framed("addr-gen-mode", addrGenModeNoneRequest(vmac)));
  assertEquals(...framed("link-up", linkUpRequest(vmac)));
  assertEquals(...framed("dellink", deleteLinkRequest(vmac)));
});

Deno.test("rtnl link: bad macvlan names and MACs are refused", () => {
  const mac = Uint8Array.of(0, 0, 0x5e, 0, 1, 1);
  assertThrows(
    () => createMacvlanRequest({ name: "", parentIfindex: 1, mac, mode: 1 }),
    RangeError,
  );
  assertThrows(
    () => createMacvlanRequest({ name: "a234567890123456", parentIfindex: 1, mac, mode: 1 }),
    RangeError,
  );
  assertThrows(
    () => createMacvlanRequest({ name: "x", parentIfindex: 1, mac: new Uint8Array(5), mode: 1 }),
    RangeError,
  );
});

Deno.test("rtnl link: kind, macvlan mode, parent and the kernel's devconf array are read", () => {
  const conf = new Uint8Array(4 * 32);
  const v = new DataView(conf.buffer);
  v.setUint32((DEVCONF.arp_ignore - 1) * 4, 2, true);
  v.setUint32((DEVCONF.rp_filter - 1) * 4, 1, true);
  const attrs = new AttributeEncoder()
    .u32(5, 3)
    .nested(IFLA_LINKINFO, (li) => {
      li.string(1, "macvlan");
      li.nested(2, (d) => d.u32(1, MACVLAN_MODE_PRIVATE));
    })
    .nested(IFLA_AF_SPEC, (s) => s.nested(2, (inet) => inet.bytes(1, conf)))
    .finish();
  const d = linkDetails(attrs);
  assertEquals(d.kind, "macvlan");
  assertEquals(d.macvlanMode, MACVLAN_MODE_PRIVATE);
  assertEquals(d.parentIndex, 3);
  assertEquals(d.ipv4Conf.get(DEVCONF.arp_ignore), 2);
  assertEquals(d.ipv4Conf.get(DEVCONF.rp_filter), 1);
  assertEquals(d.ipv4Conf.get(DEVCONF.arp_filter), 0);
});

Deno.test("rtnl link: truncated details never throw", () => {
  const attrs = new AttributeEncoder()
    .nested(IFLA_LINKINFO, (li) => li.string(1, "veth"))
    .u32(5, 9)
    .finish();
  for (let n = 0; n <= attrs.length; n++) linkDetails(attrs.subarray(0, n));
  assertEquals(linkDetails(attrs).kind, "veth");
});
