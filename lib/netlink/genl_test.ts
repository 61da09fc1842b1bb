import { assert, assertEquals, assertRejects } from "../../tests/helpers/assert.ts";
import { SyscallError } from "../../ffi/errno.ts";
import { AttributeDecoder, AttributeEncoder } from "./attrs.ts";
import { FakeNetlink } from "./fake.ts";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  decodeFamily,
  decodeGenl,
  Genl,
  GENL_ID_CTRL,
  genlHeader,
} from "./genl.ts";
import { NLM_F_DUMP, type NlMessage } from "./message.ts";

function familyReply(name: string, id: number): NlMessage {
  const attrs = new AttributeEncoder()
    .string(CTRL_ATTR_FAMILY_NAME, name)
    .u16(CTRL_ATTR_FAMILY_ID, id)
    .u32(CTRL_ATTR_VERSION, 1)
    .u32(CTRL_ATTR_HDRSIZE, 0)
    .nested(
      CTRL_ATTR_MCAST_GROUPS,
      (g) =>
        g.nested(1, (x) => x.u32(CTRL_ATTR_MCAST_GRP_ID, 7).string(CTRL_ATTR_MCAST_GRP_NAME, "mc")),
    )
    .finish();
  return {
    type: GENL_ID_CTRL,
    flags: 0,
    seq: 0,
    pid: 0,
    payload: new Uint8Array([...genlHeader(1, 2), ...attrs]),
  };
}

function kernel(): FakeNetlink {
  return new FakeNetlink((req) => {
    if (req.type === GENL_ID_CTRL) {
      const g = decodeGenl(req);
      assert(g.ok && g.value.cmd === CTRL_CMD_GETFAMILY);
      const d = new AttributeDecoder(g.value.attrs);
      let name = "";
      while (d.next()) if (d.type === CTRL_ATTR_FAMILY_NAME) name = d.string();
      return name === "IPVS" ? [familyReply("IPVS", 32)] : new SyscallError("x", 2, "");
    }
    return [];
  });
}

Deno.test("genl: header bytes", () => {
  assertEquals([...genlHeader(3, 1)], [3, 1, 0, 0]);
});

Deno.test("genl: resolves a family with its multicast groups, and caches it", async () => {
  const fake = kernel();
  const genl = new Genl(fake);
  const f = await genl.resolveFamily("IPVS");
  assertEquals(f, {
    id: 32,
    name: "IPVS",
    version: 1,
    hdrSize: 0,
    mcastGroups: new Map([["mc", 7]]),
  });
  await genl.resolveFamily("IPVS");
  assertEquals(fake.requests.length, 1);
  const req = fake.requests[0]!;
  assertEquals(req.type, GENL_ID_CTRL);
  assertEquals([...req.payload.subarray(0, 4)], [CTRL_CMD_GETFAMILY, 1, 0, 0]);
});

Deno.test("genl: an unknown family is ENOENT naming it", async () => {
  const genl = new Genl(kernel());
  const e = await assertRejects(() => genl.resolveFamily("NOPE"), SyscallError);
  assertEquals(
    e.message,
    `generic netlink family "NOPE" not found: ENOENT (No such file or directory)`,
  );
  assertEquals((e as SyscallError).syscall, "CTRL_CMD_GETFAMILY");
});

Deno.test("genl: requests carry the family id, version and user header", async () => {
  const fake = kernel();
  const genl = new Genl(fake);
  const fam = { id: 40, name: "X", version: 2, hdrSize: 4, mcastGroups: new Map() };
  await genl.request(fam, 5, Uint8Array.of(8, 0, 1, 0, 9, 9, 9, 9), NLM_F_DUMP, "Cannot list X");
  const req = fake.requests[0]!;
  assertEquals(req.type, 40);
  assertEquals([...req.payload], [5, 2, 0, 0, 0, 0, 0, 0, 8, 0, 1, 0, 9, 9, 9, 9]);
});

Deno.test("genl: malformed family replies are {ok:false}", () => {
  const good = familyReply("IPVS", 32);
  for (let cut = 0; cut < good.payload.length; cut++) {
    const r = decodeFamily({ ...good, payload: good.payload.subarray(0, cut) });
    if (r.ok) assertEquals(r.value.id, 32);
  }
  assert(!decodeFamily({ ...good, payload: Uint8Array.of(1, 1) }).ok);
});
