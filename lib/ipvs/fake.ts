/**
 * A fake IPVS kernel for unit tests: the generic netlink family resolves (or not), services and
 * destinations live in maps and are answered as the real kernel answers (EEXIST, ENOENT, dumps),
 * on a `FakeNetlink`. The real kernel is tested in the qemu guest (tests/vm/guest/).
 *
 * @module
 */
import { SyscallError } from "../../ffi/errno.ts";
import { AttributeEncoder } from "../netlink/attrs.ts";
import type { NlMessage } from "../netlink/message.ts";
import { decodeGenl, GENL_ID_CTRL, genlHeader } from "../netlink/genl.ts";
import { decodeDest, decodeService, IpvsCmd } from "./codec.ts";
import { destinationName, serviceName } from "./types.ts";

const IPVS_ID = 32;
const ENOENT = 2;
const EEXIST = 17;

function genlMsg(type: number, cmd: number, attrs: Uint8Array): NlMessage {
  const payload = new Uint8Array(4 + attrs.length);
  payload.set(genlHeader(cmd, 1));
  payload.set(attrs, 4);
  return { type, flags: 0, seq: 0, pid: 0, payload };
}

/** A fake IPVS kernel: keeps services in a map, answers as the real one does. */
export class FakeIpvs {
  readonly services = new Map<string, { attrs: Uint8Array; dests: Map<string, Uint8Array> }>();
  readonly commands: number[] = [];
  hasIpvs = true;

  handle = (req: NlMessage): NlMessage[] | SyscallError => {
    if (req.type === GENL_ID_CTRL) {
      if (!this.hasIpvs) return new SyscallError("genl", ENOENT, "family");
      const a = new AttributeEncoder().u16(1, IPVS_ID).string(2, "IPVS").u32(3, 1).u32(4, 0)
        .finish();
      return [genlMsg(GENL_ID_CTRL, 1, a)];
    }
    const g = decodeGenl(req);
    if (!g.ok) return new SyscallError("genl", 22, "bad request");
    const { cmd, attrs } = g.value;
    this.commands.push(cmd);
    const svc = decodeService(attrs);
    const name = svc.ok ? serviceName(svc.value.key) : "";
    const entry = this.services.get(name);
    switch (cmd) {
      case IpvsCmd.GET_SERVICE:
        return [...this.services.values()].map((s) =>
          genlMsg(IPVS_ID, IpvsCmd.NEW_SERVICE, s.attrs)
        );
      case IpvsCmd.GET_DEST:
        if (entry === undefined) return new SyscallError("genl", ENOENT, "svc");
        return [...entry.dests.values()].map((d) => genlMsg(IPVS_ID, IpvsCmd.NEW_DEST, d));
      case IpvsCmd.NEW_SERVICE:
        if (entry !== undefined) return new SyscallError("genl", EEXIST, "svc");
        this.services.set(name, { attrs, dests: new Map() });
        return [];
      case IpvsCmd.SET_SERVICE:
        if (entry === undefined) return new SyscallError("genl", ENOENT, "svc");
        entry.attrs = attrs;
        return [];
      case IpvsCmd.DEL_SERVICE:
        if (!this.services.delete(name)) return new SyscallError("genl", ENOENT, "svc");
        return [];
      case IpvsCmd.NEW_DEST:
      case IpvsCmd.SET_DEST:
      case IpvsCmd.DEL_DEST: {
        if (entry === undefined || !svc.ok) return new SyscallError("genl", ENOENT, "svc");
        const d = decodeDest(attrs, svc.value.key.family);
        if (!d.ok) return new SyscallError("genl", 22, "bad destination");
        const dn = destinationName(d.value);
        const has = entry.dests.has(dn);
        if (cmd === IpvsCmd.NEW_DEST && has) return new SyscallError("genl", EEXIST, "dest");
        if (cmd !== IpvsCmd.NEW_DEST && !has) return new SyscallError("genl", ENOENT, "dest");
        if (cmd === IpvsCmd.DEL_DEST) entry.dests.delete(dn);
        else entry.dests.set(dn, attrs);
        return [];
      }
      case IpvsCmd.FLUSH:
        this.services.clear();
        return [];
    }
    return new SyscallError("genl", 95, "cmd");
  };
}
