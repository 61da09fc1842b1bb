/**
 * The agent's plan: a validated Config turned into what the runtime needs, in kernel units.
 * Plans are plain data, so a reload compares old and new instance plans with JSON equality.
 *
 * @module
 */
import type { StaticPlan } from "./routing.ts";
import type { InstanceSpec } from "../vrrp/runner.ts";
import type { MailSettings } from "../runtime/mail.ts";
import type { ProcessConfig } from "../config/types.ts";
import type { AnnouncePlan } from "../announce/plan.ts";

/** A vrrp_script. */
export interface TrackScriptPlan {
  name: string;
  command: string;
  intervalMs: number;
  timeoutMs: number;
  weight: number;
  rise: number;
  fall: number;
  user: string | null;
  initFail: boolean;
}

/** A vrrp_track_process definition (the loaded configuration's, as is). */
export type ProcessPlan = ProcessConfig;

/** Notify hooks of an instance or a sync group. */
export interface NotifyPlan {
  master: string | null;
  backup: string | null;
  fault: string | null;
  stop: string | null;
  any: string | null;
  fifo: string | null;
}

/** One VRRP instance with what moves it and whom it tells. */
export interface InstancePlan {
  spec: InstanceSpec;
  trackInterfaces: { name: string; weight: number; reverse: boolean }[];
  trackScripts: { name: string; weight: number; reverse: boolean }[];
  trackFiles: { path: string; weight: number }[];
  trackProcesses: { name: string; weight: number; reverse: boolean }[];
  notify: NotifyPlan;
  /** E-mail on this instance's transitions (smtp_alert). */
  smtpAlert: boolean;
}

/** A sync group. */
export interface SyncGroupPlan {
  name: string;
  members: string[];
  notify: NotifyPlan;
  smtpAlert: boolean;
}

/** Everything the agent runs. */
export interface Plan {
  routerId: string;
  control: string;
  pidFile: string;
  logLevel: "error" | "warn" | "info" | "debug";
  logFormat: "text" | "json";
  /** global script_user, or null for the default (keepalived_script, else root). */
  scriptUser: string | null;
  /** enable_script_security. */
  scriptSecurity: boolean;
  mcastGroup4: string;
  mcastGroup6: string;
  scripts: Record<string, TrackScriptPlan>;
  /** Tracked process definitions by name. */
  processes: Record<string, ProcessPlan>;
  /** How often /proc is scanned when a process is tracked. */
  processScanIntervalMs: number;
  instances: InstancePlan[];
  syncGroups: SyncGroupPlan[];
  metricsListen: { address: string; port: number } | null;
  /** SCHED_RR priority for the agent's threads, or null. */
  realtimePriority: number | null;
  /** Nice value of the helper threads (checks, V8 GC and compiler). */
  checkerNice: number;
  /** The instance whose state sets the IPVS sync daemon's role (lvs_sync_daemon), or null. */
  syncInstance: string | null;
  /** Where e-mail alerts go, or null when none can be sent. */
  mail: MailSettings | null;
  /** No e-mail for FAULT transitions. */
  noEmailFaults: boolean;
  /** The file has virtual servers (the load-balancer side is loaded only then). */
  hasVirtualServers: boolean;
  /** static_ipaddress, static_routes, static_rules: installed from start to stop. */
  statics: StaticPlan;
  /** What is announced to BGP through the announce table. */
  announce: AnnouncePlan;
}
