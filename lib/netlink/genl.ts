/**
 * Generic netlink on a `NetlinkConn`: the 4-byte genl header, family resolution through the
 * "nlctrl" controller, and requests to a resolved family.
 *
 * @module
 */

import { AttributeDecoder, AttributeEncoder } from "./attrs.ts";
import {
  type BatchFailure,
  type BatchRequest,
  type DumpVisitor,
  type NetlinkConn,
  NetlinkError,
  requestBatch,
} from "./client.ts";
import { type Decoded, NLM_F_DUMP, type NlMessage } from "./message.ts";

/** The controller family's fixed id. */
export const GENL_ID_CTRL = 0x10;
/** Size of `struct genlmsghdr`. */
export const GENL_HDRLEN = 4;
/** Controller command: get a family. */
export const CTRL_CMD_GETFAMILY = 3;
/** Controller attribute: family id, u16. */
export const CTRL_ATTR_FAMILY_ID = 1;
/** Controller attribute: family name, string. */
export const CTRL_ATTR_FAMILY_NAME = 2;
/** Controller attribute: version, u32. */
export const CTRL_ATTR_VERSION = 3;
/** Controller attribute: user header size, u32. */
export const CTRL_ATTR_HDRSIZE = 4;
/** Controller attribute: max attribute, u32. */
export const CTRL_ATTR_MAXATTR = 5;
/** Controller attribute: nested multicast groups. */
export const CTRL_ATTR_MCAST_GROUPS = 7;
/** Multicast group attribute: name, string. */
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
/** Multicast group attribute: id, u32. */
export const CTRL_ATTR_MCAST_GRP_ID = 2;

/** A resolved generic netlink family. */
export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  /** Size of the family's own header after the genl header. */
  hdrSize: number;
  mcastGroups: Map<string, number>;
}

/** Encodes `struct genlmsghdr` { cmd u8, version u8, reserved u16 }. */
export function genlHeader(cmd: number, version: number): Uint8Array {
  return Uint8Array.of(cmd & 0xff, version & 0xff, 0, 0);
}

/** Splits a genl message payload into its command, version and attribute bytes. */
export function decodeGenl(
  m: NlMessage,
  hdrSize = 0,
): Decoded<{ cmd: number; version: number; attrs: Uint8Array }> {
  const p = m.payload;
  if (p.length < GENL_HDRLEN + hdrSize) {
    return { ok: false, reason: `generic netlink payload of ${p.length} bytes` };
  }
  return {
    ok: true,
    value: { cmd: p[0]!, version: p[1]!, attrs: p.subarray(GENL_HDRLEN + hdrSize) },
  };
}

/** Decodes a CTRL_CMD_NEWFAMILY reply. */
export function decodeFamily(m: NlMessage): Decoded<GenlFamily> {
  const g = decodeGenl(m);
  if (!g.ok) return g;
  const f: GenlFamily = { id: 0, name: "", version: 0, hdrSize: 0, mcastGroups: new Map() };
  const d = new AttributeDecoder(g.value.attrs);
  while (d.next()) {
    switch (d.type) {
      case CTRL_ATTR_FAMILY_ID:
        f.id = d.u16();
        break;
      case CTRL_ATTR_FAMILY_NAME:
        f.name = d.string();
        break;
      case CTRL_ATTR_VERSION:
        f.version = d.u32();
        break;
      case CTRL_ATTR_HDRSIZE:
        f.hdrSize = d.u32();
        break;
      case CTRL_ATTR_MCAST_GROUPS:
        d.nested((groups) => {
          while (groups.next()) {
            let name = "";
            let id = -1;
            groups.nested((grp) => {
              while (grp.next()) {
                if (grp.type === CTRL_ATTR_MCAST_GRP_NAME) name = grp.string();
                else if (grp.type === CTRL_ATTR_MCAST_GRP_ID) id = grp.u32();
              }
            });
            if (name !== "" && id >= 0) f.mcastGroups.set(name, id);
          }
        });
        break;
    }
  }
  const err = d.err();
  if (err !== null) return { ok: false, reason: err.message };
  if (f.id === 0) return { ok: false, reason: "family reply without CTRL_ATTR_FAMILY_ID" };
  return { ok: true, value: f };
}

const opNames = new WeakMap<GenlFamily, string[]>();

/** `"IPVS cmd 8"`: how errors name a family's command (cached per family). */
function opName(family: GenlFamily, cmd: number): string {
  let names = opNames.get(family);
  if (names === undefined) opNames.set(family, names = []);
  return names[cmd & 0xff] ??= `${family.name} cmd ${cmd}`;
}

/** Generic netlink requests on one connection (which it owns). */
export class Genl implements Disposable {
  readonly #conn: NetlinkConn;
  readonly #families = new Map<string, GenlFamily>();

  /** Wraps a NETLINK_GENERIC connection. */
  constructor(conn: NetlinkConn) {
    this.#conn = conn;
  }

  /** Looks a family up by name (cached); ENOENT rejects with an error naming the family. */
  async resolveFamily(name: string): Promise<GenlFamily> {
    const cached = this.#families.get(name);
    if (cached !== undefined) return cached;
    const payload = new Uint8Array([
      ...genlHeader(CTRL_CMD_GETFAMILY, 1),
      ...new AttributeEncoder().string(CTRL_ATTR_FAMILY_NAME, name).finish(),
    ]);
    const what = `generic netlink family "${name}" not found`;
    const msgs = await this.#conn.request(GENL_ID_CTRL, 0, payload, what, "CTRL_CMD_GETFAMILY");
    for (const m of msgs) {
      const f = decodeFamily(m);
      if (f.ok) {
        this.#families.set(name, f.value);
        return f.value;
      }
    }
    throw new NetlinkError("CTRL_CMD_GETFAMILY", 71, `${what} (bad reply)`, null);
  }

  /** Sends `cmd` with `attrs` to `family`; resolves with the reply messages. */
  request(
    family: GenlFamily,
    cmd: number,
    attrs: Uint8Array,
    flags: number,
    what: string,
  ): Promise<NlMessage[]> {
    const payload = new Uint8Array(GENL_HDRLEN + family.hdrSize + attrs.length);
    payload[0] = cmd & 0xff;
    payload[1] = family.version & 0xff;
    payload.set(attrs, GENL_HDRLEN + family.hdrSize);
    return this.#conn.request(family.id, flags, payload, what, opName(family, cmd));
  }

  /**
   * Dumps `cmd` of `family`, handing each reply's genl payload to `each` in place (see
   * `DumpVisitor`): at once on a connection with `dumpNow` (nothing returned), else through
   * `request` (a promise). Errors as `request`.
   */
  dump(
    family: GenlFamily,
    cmd: number,
    attrs: Uint8Array,
    what: string,
    each: DumpVisitor,
  ): Promise<void> | void {
    const hdr = GENL_HDRLEN + family.hdrSize;
    const payload = new Uint8Array(hdr + attrs.length);
    payload[0] = cmd & 0xff;
    payload[1] = family.version & 0xff;
    payload.set(attrs, hdr);
    const op = opName(family, cmd);
    if (this.#conn.dumpNow !== undefined) {
      return this.#conn.dumpNow(family.id, NLM_F_DUMP, payload, what, op, each);
    }
    return this.#conn.request(family.id, NLM_F_DUMP, payload, what, op).then((msgs) => {
      for (const m of msgs) each(m.payload, 0, m.payload.length);
    });
  }

  /**
   * Sends many non-dump commands to `family` packed into few datagrams (see `requestBatch`);
   * resolves with one entry per command, null when the kernel accepted it.
   */
  requestBatch(
    family: GenlFamily,
    cmds: readonly { cmd: number; attrs: Uint8Array; flags?: number }[],
  ): Promise<BatchFailure[]> {
    const hdr = GENL_HDRLEN + family.hdrSize;
    const reqs: BatchRequest[] = new Array(cmds.length);
    for (let i = 0; i < cmds.length; i++) {
      const c = cmds[i]!;
      const payload = new Uint8Array(hdr + c.attrs.length);
      payload[0] = c.cmd & 0xff;
      payload[1] = family.version & 0xff;
      payload.set(c.attrs, hdr);
      reqs[i] = { type: family.id, flags: c.flags ?? 0, payload };
    }
    return requestBatch(this.#conn, reqs);
  }

  /** Closes the connection. */
  [Symbol.dispose](): void {
    this.#conn[Symbol.dispose]();
  }
}
