/**
 * The validated, normalized configuration: plain data with every default filled in, durations
 * in milliseconds (`...Ms`) and addresses as canonical text. It carries no source positions;
 * the loader returns those in a side map keyed by field path.
 *
 * @module
 */

/** An address family. */
export type Family = "ipv4" | "ipv6";

/** The whole configuration. */
export interface Config {
  global: GlobalConfig;
  scripts: Record<string, VrrpScriptConfig>;
  processes: Record<string, ProcessConfig>;
  vrrpInstances: VrrpInstanceConfig[];
  syncGroups: SyncGroupConfig[];
  virtualServerGroups: Record<string, VsGroupEntry[]>;
  virtualServers: VirtualServerConfig[];
  /** static_ipaddress: added at start, removed at stop. */
  staticAddresses: StaticAddressConfig[];
  staticRoutes: RouteConfig[];
  staticRules: RuleConfig[];
}

/** Agent-wide settings (keepalived global_defs). */
export interface GlobalConfig {
  /** Absent means the host name (resolved when the agent starts). */
  routerId?: string;
  control: string;
  pidFile: string;
  logLevel: "error" | "warn" | "info" | "debug";
  logFormat: "text" | "json";
  vrrpVersion: 2 | 3;
  vrrpMcastGroup4: string;
  vrrpMcastGroup6: string;
  v3Checksum: "keepalived" | "rfc9568";
  garpMasterDelayMs: number;
  garpMasterRepeat: number;
  garpMasterRefreshMs: number;
  garpMasterRefreshRepeat: number;
  garpIntervalMs: number;
  gnaIntervalMs: number;
  /** Absent: keepalived_script when it exists, else root (decided at start). */
  scriptUser?: string;
  enableScriptSecurity: boolean;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: string;
  smtpAlert?: boolean;
  smtpAlertVrrp?: boolean;
  smtpAlertChecker?: boolean;
  noEmailFaults: boolean;
  smtpConnectTimeoutMs: number;
  /** SCHED_RR priority of the agent's threads (keepalived vrrp_rt_priority); unset = off. */
  realtimePriority?: number;
  /** Nice value of the checker and V8 helper threads (keepalived checker_process_priority). */
  checkerNice: number;
  processScanIntervalMs: number;
  lvsSyncDaemon?: LvsSyncDaemonConfig;
  metrics?: { listen: Endpoint };
}

/** An address and port. */
export interface Endpoint {
  address: string;
  port: number;
  family: Family;
}

/** An address with prefix length. */
export interface Cidr {
  address: string;
  prefix: number;
  family: Family;
}

/** A tracked check script (vrrp_script). */
export interface VrrpScriptConfig {
  name: string;
  command: string;
  intervalMs: number;
  /** Defaults to intervalMs. */
  timeoutMs: number;
  weight: number;
  rise: number;
  fall: number;
  /** Defaults to global.scriptUser; absent: the default script user. */
  user?: string;
  initFail: boolean;
}

/** The IPVS connection sync daemon (keepalived lvs_sync_daemon). */
export interface LvsSyncDaemonConfig {
  interface: string;
  instance: string;
  syncId?: number;
  maxLen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

/** A tracked process definition (vrrp_track_process). */
export interface ProcessConfig {
  name: string;
  process: string;
  parameters?: string;
  paramMatch: "exact" | "initial" | "partial";
  fullCommand: boolean;
  quorum: number;
  quorumMax?: number;
  weight: number;
  forkDelayMs: number;
  terminateDelayMs: number;
}

/** A virtual address. */
export interface VipConfig extends Cidr {
  /** Defaults to the instance's interface. */
  device: string;
  label?: string;
  scope: "global" | "site" | "link" | "host" | "nowhere";
}

/** An address installed from start to stop (static_ipaddress). */
export interface StaticAddressConfig extends Cidr {
  device: string;
  label?: string;
  scope: "global" | "site" | "link" | "host" | "nowhere";
}

/** A route installed while master (virtual_routes) or from start to stop (static_routes). */
export interface RouteConfig {
  to: Cidr;
  via?: string;
  src?: string;
  device?: string;
  table?: number;
  metric?: number;
  /** `blackhole: true` is folded in here by the loader. */
  type: "unicast" | "blackhole" | "unreachable" | "prohibit" | "throw";
  blackhole: boolean;
  scope: "global" | "site" | "link" | "host" | "nowhere";
  onlink: boolean;
}

/** A policy routing rule (virtual_rules while master, static_rules from start to stop). */
export interface RuleConfig {
  from?: Cidr;
  to?: Cidr;
  /** Filled by the loader from from / to (ipv4 when neither is given). */
  family: Family;
  /** Filled by the loader: table when not given. */
  action: "table" | "goto" | "nop" | "blackhole" | "unreachable" | "prohibit";
  table?: number;
  goto?: number;
  /** Filled by the loader as keepalived does when absent (16384 down, per family). */
  priority: number;
  invert: boolean;
  tos?: number;
  fwmark?: number;
  fwmask?: number;
  iif?: string;
  oif?: string;
  uidRange?: string;
  ipProto?: number;
  sport?: string;
  dport?: string;
  suppressPrefixlength?: number;
}

/** A tracked interface. */
export interface TrackInterfaceConfig {
  name: string;
  weight: number;
  reverse: boolean;
}

/** A tracked script reference. */
export interface TrackScriptConfig {
  name: string;
  /** Defaults to the script's weight. */
  weight: number;
  reverse: boolean;
}

/** A tracked file. */
export interface TrackFileConfig {
  path: string;
  weight: number;
}

/** One virtual router (vrrp_instance). */
export interface VrrpInstanceConfig {
  name: string;
  interface: string;
  vrid: number;
  priority: number;
  version: 2 | 3;
  family: Family;
  advertIntervalMs: number;
  /** advertIntervalMs / 10, as carried in VRRPv3 adverts (v2 carries whole seconds). */
  advertIntervalCs: number;
  state: "BACKUP" | "MASTER";
  preempt: boolean;
  preemptDelayMs: number;
  authentication?: { type: "PASS" | "AH"; password: string };
  unicastSrcIp?: string;
  unicastPeers: string[];
  vips: VipConfig[];
  excludedVips: VipConfig[];
  routes: RouteConfig[];
  rules: RuleConfig[];
  trackInterfaces: TrackInterfaceConfig[];
  trackScripts: TrackScriptConfig[];
  trackFiles: TrackFileConfig[];
  trackProcesses: TrackScriptConfig[];
  garpMasterDelayMs: number;
  garpMasterRepeat: number;
  garpMasterRefreshMs: number;
  accept: boolean;
  notifyMaster?: string;
  notifyBackup?: string;
  notifyFault?: string;
  notifyStop?: string;
  notify?: string;
  notifyFifo?: string;
  smtpAlert?: boolean;
}

/** Instances that change state together (vrrp_sync_group). */
export interface SyncGroupConfig {
  name: string;
  members: string[];
  notifyMaster?: string;
  notifyBackup?: string;
  notifyFault?: string;
  notifyStop?: string;
  notify?: string;
  smtpAlert?: boolean;
}

/** One entry of a virtual server group. */
export type VsGroupEntry =
  | { kind: "address"; address: string; port: number; family: Family }
  | { kind: "range"; from: string; to: string; port: number; family: Family }
  | { kind: "fwmark"; fwmark: number; family: Family };

/** Forwarding method. */
export type Forwarding = "NAT" | "DR" | "TUN";

/** An IPVS service (virtual_server). Exactly one of address, fwmark, group is set. */
export interface VirtualServerConfig {
  /** Canonical address text (address services only). */
  address?: string;
  /** Port (0 for fwmark and group services, or a persistent service without port). */
  port: number;
  fwmark?: number;
  group?: string;
  family: Family;
  protocol: "TCP" | "UDP" | "SCTP";
  scheduler: string;
  schedulerFlags: string[];
  forwarding: Forwarding;
  /** Set when forwarding is TUN (default ipip). */
  tunnelType?: "ipip" | "gue" | "gre";
  tunnelPort?: number;
  persistenceTimeoutMs: number;
  persistenceGranularity?: string;
  delayLoopMs: number;
  inhibitOnFailure: boolean;
  quorum: number;
  hysteresis: number;
  quorumUp?: string;
  smtpAlert?: boolean;
  quorumDown?: string;
  alpha: boolean;
  omega: boolean;
  ops: boolean;
  sorryServer?: Endpoint;
  realServers: RealServerConfig[];
}

/** A real server with its checks. */
export interface RealServerConfig {
  address: string;
  /** Defaults to the virtual server's port. */
  port: number;
  family: Family;
  weight: number;
  /** Defaults to the virtual server's. */
  forwarding: Forwarding;
  upperThreshold: number;
  lowerThreshold: number;
  /** Defaults to the virtual server's. */
  inhibitOnFailure: boolean;
  notifyUp?: string;
  smtpAlert?: boolean;
  notifyDown?: string;
  checks: CheckConfig[];
}

/** Settings every checker has (resolved: delayLoopMs, warmupMs and alpha are always set). */
export interface CheckTiming {
  delayLoopMs: number;
  warmupMs: number;
  alpha: boolean;
  rise: number;
  fall: number;
  logAllFailures: boolean;
  retry: number;
  delayBeforeRetryMs: number;
}

/** Connection settings of network checkers (connectIp/connectPort default to the server's). */
export interface CheckConnect extends CheckTiming {
  connectIp: string;
  connectPort: number;
  bindto?: string;
  bindPort?: number;
  bindIf?: string;
  fwmark?: number;
  connectTimeoutMs: number;
}

/** One HTTP request of an HTTP_GET / SSL_GET check. */
export interface UrlConfig {
  path: string;
  statusCodes: { from: number; to: number }[];
  digest?: string;
  regex?: string;
  regexNoMatch: boolean;
  virtualhost?: string;
}

/** HTTP_GET and SSL_GET settings. */
export interface HttpCheckFields extends CheckConnect {
  urls: UrlConfig[];
  httpProtocol: "1.0" | "1.0C" | "1.1";
  virtualhost?: string;
  fastRecovery: boolean;
}

/** A health check, discriminated on `type`. */
export type CheckConfig =
  | ({ type: "TCP_CHECK" } & CheckConnect)
  | ({ type: "PING_CHECK" } & CheckConnect)
  | ({ type: "HTTP_GET" } & HttpCheckFields)
  | ({ type: "SSL_GET"; enableSni: boolean; verifyCert: boolean } & HttpCheckFields)
  | ({ type: "SMTP_CHECK"; heloName?: string } & CheckConnect)
  | ({ type: "DNS_CHECK"; dnsType: string; dnsName: string } & CheckConnect)
  | ({
    type: "UDP_CHECK";
    payload?: string;
    requireReply: boolean;
    minReplyLength: number;
    maxReplyLength: number;
  } & CheckConnect)
  | ({
    type: "MISC_CHECK";
    miscPath: string;
    miscTimeoutMs: number;
    miscDynamic: boolean;
    /** Absent: the default script user. */
    user?: string;
  } & CheckTiming)
  | { type: "FILE_CHECK"; file: string; weightMultiplier: number; dynamic: boolean };
