/**
 * The shape of `haagent status --json` (what the control socket's `status` returns).
 *
 * @module
 */

/** One VRRP instance. */
export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: "ipv4" | "ipv6";
  state: string;
  /** Why the last transition happened. */
  reason: string;
  /** ISO time of the last transition. */
  since: string;
  priority: number;
  effectivePriority: number;
  advertIntervalMs: number;
  masterAdverIntervalMs: number;
  masterAddress: string | null;
  /** Whether a higher priority takes over from a master (nopreempt: false). */
  preempt: boolean;
  preemptDelayMs: number;
  /** Unicast peers; empty when adverts go to the multicast group. */
  unicastPeers: string[];
  /** The VMAC interface holding the VIPs (use_vmac), or null. */
  vmac?: string | null;
  /** Accept_Mode: false means drop rules while a non-owner master (no_accept). */
  accept?: boolean;
  vips: string[];
  faults: string[];
  stats: Record<string, number>;
  drops: Record<string, number>;
}

/** One real server. */
export interface RealServerStatus {
  address: string;
  up: boolean;
  weight: number;
  reason: string;
  checks: { type: string; up: boolean; last: string }[];
}

/** One virtual server. */
export interface VirtualServerStatus {
  name: string;
  quorumUp: boolean;
  realServers: RealServerStatus[];
}

/** A tracked script, process or file (what moves instances). */
export interface TrackedStatus {
  kind: "script" | "process" | "file";
  name: string;
  up: boolean;
  /** The last result: `exit 0`, `2 running (quorum 1)`, `holds 5`. */
  detail: string;
}

/** E-mail alerts so far (both threads). */
export interface MailStatus {
  sent: number;
  failed: number;
  dropped: number;
}

/** One address of the announce table. */
export interface AnnouncedRouteStatus {
  /** `192.0.2.10/32`. */
  prefix: string;
  /** The interface the route points at. */
  device: string;
  /** Whether the route is in the table (announced by the BGP speaker). */
  announced: boolean;
  /** Why: `VI_1 MASTER`, `TCP 198.51.100.60:53 quorum up, 2/2 real servers up (...)`. */
  reasons: string[];
  /** Every source (instance, virtual server) and whether it holds the address now. */
  sources: { name: string; holds: boolean }[];
  /** The last failure to add the route, or null. */
  error: string | null;
}

/** Routes published for BGP (global.announce), or null when nothing announces. */
export interface AnnounceStatus {
  table: number;
  protocol: number;
  routes: AnnouncedRouteStatus[];
  /** Routes added and withdrawn since the agent started. */
  adds: number;
  withdrawals: number;
}

/** Memory and file descriptors of the agent's process. */
export interface ProcessStatus {
  /** Resident set size of the whole process (both threads' heaps, the runtime, libc). */
  rssBytes: number;
  /** The VRRP thread's JavaScript heap in use (Deno.memoryUsage). */
  heapUsedBytes: number;
  /** Memory of objects outside the JavaScript heap (buffers) on the VRRP thread. */
  externalBytes: number;
  /** Open file descriptors (/proc/self/fd), or -1 when /proc cannot be read. */
  openFds: number;
  /**
   * The VRRP thread's event loop: waits on the thread itself, waits on a helper thread (while
   * the runtime had work of its own), and the waits on the thread that ended for the runtime.
   */
  waits: { onThread: number; onHelper: number; forRuntime: number };
}

/** The whole agent. */
export interface AgentStatus {
  version: string;
  pid: number;
  routerId: string;
  configFile: string;
  startedAt: string;
  uptimeS: number;
  reloads: number;
  lastReload: { at: string; ok: boolean; message: string } | null;
  /** The process's footprint, for watching a long-running agent (the soak, Prometheus). */
  process: ProcessStatus;
  instances: InstanceStatus[];
  syncGroups: { name: string; members: string[]; state: string }[];
  ipvs: {
    available: boolean;
    reason: string;
    services: number;
    lastOps: number;
    errors: number;
    /** `master on eth1, sync id 51`, or null when no sync daemon is configured. */
    syncDaemon: string | null;
  };
  virtualServers: VirtualServerStatus[];
  tracked: TrackedStatus[];
  /** Null when the file sends no e-mail. */
  mail: MailStatus | null;
  /** Null when no instance or virtual server announces. */
  announce: AnnounceStatus | null;
  drops: Record<string, number>;
}
