/**
 * The validated, normalized configuration: plain data with every default filled in, durations
 * in milliseconds (`...Ms`) and addresses as canonical text. It carries no source positions;
 * the loader returns those in a side map keyed by field path.
 *
 * Every type here is computed from the schema table (schema.ts) by spec_types.ts: a key added
 * to the schema appears here with its type. What the loader adds beyond the schema (a derived
 * value, a resolved shape) is written out below, each with its reason.
 *
 * @module
 */
import type { CONFIG } from "./schema.ts";
import type { Stage, Value } from "./spec_types.ts";

export type { Cidr, Endpoint, Family, IpRange, StatusRange } from "./spec_types.ts";
import type { Family } from "./spec_types.ts";

type Sections = typeof CONFIG["fields"];
type InstanceSpec = Sections["vrrp_instances"]["of"];
type VsSpec = Sections["virtual_servers"]["of"];

/** The walker's output for the whole file, before defaults.ts (see spec_types.ts). */
export type WalkedConfig = Value<typeof CONFIG, "walked">;

/** The output of a schema node at a stage. */
type Out<S, St extends Stage = "resolved"> = Value<S, St>;

/** The whole configuration. */
export type Config =
  & Omit<Out<typeof CONFIG>, "vrrpInstances" | "virtualServerGroups" | "virtualServers">
  & {
    vrrpInstances: VrrpInstanceConfig[];
    /** Entries resolved to one of three shapes (defaults.ts). */
    virtualServerGroups: Record<string, VsGroupEntry[]>;
    virtualServers: VirtualServerConfig[];
  };

/** Agent-wide settings (keepalived global_defs). routerId absent: the host name at start. */
export type GlobalConfig = Config["global"];

/** The IPVS connection sync daemon (keepalived lvs_sync_daemon). */
export type LvsSyncDaemonConfig = NonNullable<GlobalConfig["lvsSyncDaemon"]>;

/** A tracked check script (vrrp_script). */
export type VrrpScriptConfig = Config["scripts"][string];

/** A tracked process definition (vrrp_track_process). */
export type ProcessConfig = Config["processes"][string];

/** One virtual router (vrrp_instance). */
export type VrrpInstanceConfig = { name: string } & Out<InstanceSpec> & {
  /** advertIntervalMs / 10, as carried in VRRPv3 adverts (v2 carries whole seconds). */
  advertIntervalCs: number;
};

/** A virtual address. */
export type VipConfig = VrrpInstanceConfig["vips"][number];

/** A route installed while master (virtual_routes) or from start to stop (static_routes). */
export type RouteConfig = VrrpInstanceConfig["routes"][number];

/** A policy routing rule (virtual_rules while master, static_rules from start to stop). */
export type RuleConfig = VrrpInstanceConfig["rules"][number];

/** An address installed from start to stop (static_ipaddress). */
export type StaticAddressConfig = Config["staticAddresses"][number];

/** A tracked interface. */
export type TrackInterfaceConfig = VrrpInstanceConfig["trackInterfaces"][number];

/** A tracked script or process reference (the weight defaults to the script's / process's). */
export type TrackScriptConfig = VrrpInstanceConfig["trackScripts"][number];

/** A tracked file. */
export type TrackFileConfig = VrrpInstanceConfig["trackFiles"][number];

/** Instances that change state together (vrrp_sync_group). */
export type SyncGroupConfig = Config["syncGroups"][number];

/** One entry of a virtual server group, as defaults.ts resolves it. */
export type VsGroupEntry =
  | { kind: "address"; address: string; port: number; family: Family }
  | { kind: "range"; from: string; to: string; port: number; family: Family }
  | { kind: "fwmark"; fwmark: number; family: Family };

/** Forwarding method. */
export type Forwarding = VirtualServerConfig["forwarding"];

/**
 * An IPVS service (virtual_server). Exactly one of address, fwmark, group is set; `port` is 0
 * for fwmark and group services and for a persistent service without port (defaults.ts).
 */
export type VirtualServerConfig = Out<VsSpec> & { port: number };

/** A real server with its checks (port, forwarding, inhibitOnFailure resolved). */
export type RealServerConfig = Out<VsSpec>["realServers"][number];

/** A health check, discriminated on `type`. */
export type CheckConfig = RealServerConfig["checks"][number];

/** Settings every checker but FILE_CHECK has (delayLoopMs, warmupMs and alpha resolved). */
export type CheckTiming = Omit<Extract<CheckConfig, { type: "MISC_CHECK" }>, MiscOnly>;
type MiscOnly = "type" | "miscPath" | "miscTimeoutMs" | "miscDynamic" | "user";

/** Connection settings of network checkers (connectIp / connectPort resolved). */
export type CheckConnect = Omit<Extract<CheckConfig, { type: "TCP_CHECK" }>, "type">;

/** HTTP_GET and SSL_GET settings. */
export type HttpCheckFields = Omit<Extract<CheckConfig, { type: "HTTP_GET" }>, "type">;

/** One HTTP request of an HTTP_GET / SSL_GET check. */
export type UrlConfig = HttpCheckFields["urls"][number];
