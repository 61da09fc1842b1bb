/**
 * A kernel with routing tables for unit tests of route writers: replace, delete by protocol,
 * dumps, as rtnetlink answers them, with every operation recorded and failures on demand.
 *
 * @module
 */
import { SyscallError } from "../../ffi/errno.ts";
import type { Route, RouteSpec } from "../../lib/netlink/rtnl.ts";
import type { RouteWriter } from "../../lib/announce/table.ts";

/** A kernel with routing tables, answering like rtnetlink (replace, delete by protocol, dump). */
export class FakeKernel implements RouteWriter {
  readonly routes = new Map<string, Route>();
  readonly ops: string[] = [];
  failAdds: SyscallError | null = null;

  /** The key of a route in `routes`. */
  static key(table: number, to: string, prefix: number): string {
    return `${table} ${to}/${prefix}`;
  }

  /** Puts a route in, as another program would. */
  put(r: Partial<Route> & { to: string; table: number; protocol: number }): void {
    const full: Route = {
      family: r.to.includes(":") ? "ipv6" : "ipv4",
      prefix: r.to.includes(":") ? 128 : 32,
      scope: 253,
      type: 1,
      ifindex: 1,
      via: null,
      metric: null,
      ...r,
    };
    this.routes.set(FakeKernel.key(full.table, full.to, full.prefix), full);
  }

  replaceRoute(s: RouteSpec): Promise<void> {
    this.ops.push(`replace ${s.to}/${s.prefix} #${s.ifindex} t${s.table} p${s.protocol}`);
    if (this.failAdds !== null) return Promise.reject(this.failAdds);
    this.put({
      to: s.to,
      prefix: s.prefix,
      table: s.table!,
      protocol: s.protocol!,
      ifindex: s.ifindex ?? null,
    });
    return Promise.resolve();
  }

  deleteRoute(s: RouteSpec): Promise<void> {
    this.ops.push(`delete ${s.to}/${s.prefix} t${s.table} p${s.protocol}`);
    const k = FakeKernel.key(s.table!, s.to, s.prefix);
    const r = this.routes.get(k);
    if (r === undefined || (s.protocol !== undefined && s.protocol !== r.protocol)) {
      return Promise.reject(new SyscallError("sendto", 3, `Cannot delete route ${s.to}`));
    }
    this.routes.delete(k);
    return Promise.resolve();
  }

  listRoutes(family?: "ipv4" | "ipv6", table?: number): Promise<Route[]> {
    return Promise.resolve(
      [...this.routes.values()].filter((r) =>
        (family === undefined || r.family === family) && (table === undefined || r.table === table)
      ),
    );
  }

  /** Table `n` as sorted `ADDRESS/PREFIX #IFINDEX pPROTO` lines. */
  table(n: number): string[] {
    return [...this.routes.values()].filter((r) => r.table === n)
      .map((r) => `${r.to}/${r.prefix} #${r.ifindex} p${r.protocol}`).sort();
  }
}
