/**
 * The one description of the configuration file: every key with its type, default, range,
 * allowed values, documentation and keepalived equivalent. The validator (load.ts) and the
 * JSON Schema (json_schema.ts) are both derived from the table `CONFIG` below.
 *
 * @module
 */

/** Facts every node of the schema carries. */
export interface SpecBase {
  /** One or two sentences for the reference and the JSON Schema. */
  doc: string;
  /**
   * keepalived.conf keyword of the same setting, in the keepalived block that matches the
   * section; aliases are separated by " / " and a note may follow a keyword in parentheses
   * (`"nopreempt (false)"`). The importer maps each such keyword to this key
   * (keepalived/mapping.ts). Text that is not keywords (`"virtual_server IP PORT"`, a
   * command-line flag) only documents, and its conversion is written as code.
   */
  keepalived?: string;
  /** Name in the normalized Config; default: camelCase of the key, `Ms` added for durations. */
  out?: string;
  /** The key must be present. */
  required?: boolean;
  /** Value used when the key is absent, written as in YAML (`"5s"`, `100`). */
  default?: unknown;
  /** Default that depends on other settings, in words. */
  defaultDoc?: string;
  /** The loader always fills this key from other settings (defaults.ts): the Config has it. */
  filled?: true;
  /**
   * Accepted for compatibility and ignored, because keepalived ignores it too: why, in words.
   * `haagent check` warns at the key's line; the schema-walk test lets such a key be unread.
   */
  ignored?: string;
  /** Composite scalars (addresses) spread their parts into the parent object. */
  flatten?: boolean;
}

/** A text value. */
export interface StringSpec extends SpecBase {
  kind: "string";
  minLength?: number;
  maxLength?: number;
  /** Anchored regular expression source the text must match. */
  pattern?: string;
  /** What the pattern means, for messages. */
  patternHint?: string;
  /**
   * A command line, split into words as keepalived does. keepalived reads it as one word (a
   * quoted string for a command with arguments): with `script` the words after it are ignored,
   * with `notify` they name the user and group it runs as (the importer warns about both).
   */
  command?: "script" | "notify";
}
/** An integer in a closed range. */
export interface IntSpec extends SpecBase {
  kind: "int";
  min: number;
  max: number;
}
/** `true` or `false`. */
export interface BoolSpec extends SpecBase {
  kind: "bool";
}
/** A duration (`"1s"`, `"100ms"`, a bare number of seconds), normalized to milliseconds. */
export interface DurationSpec extends SpecBase {
  kind: "duration";
  minMs?: number;
  maxMs?: number;
}
/** One of a fixed list of values. */
export interface EnumSpec extends SpecBase {
  kind: "enum";
  values: readonly (string | number)[];
}
/** An IP address without prefix, normalized to canonical text. */
export interface IpSpec extends SpecBase {
  kind: "ip";
  family?: "ipv4" | "ipv6";
  multicast?: boolean;
}
/** `ADDR[/PREFIX]`, normalized to `{ address, prefix, family }` (full-length prefix if absent). */
export interface CidrSpec extends SpecBase {
  kind: "cidr";
}
/** `ADDR:PORT` or `[V6ADDR]:PORT`, normalized to `{ address, port, family }`. */
export interface EndpointSpec extends SpecBase {
  kind: "endpoint";
  /** Without a port the endpoint gets port 0 (the caller decides what that means). */
  portOptional?: boolean;
}
/** `A.B.C.D-E` or `ADDR-ADDR`, normalized to `{ from, to, family }`. */
export interface IpRangeSpec extends SpecBase {
  kind: "iprange";
}
/** An HTTP status code or a `"200-299"` range, normalized to `{ from, to }`. */
export interface StatusSpec extends SpecBase {
  kind: "status";
}
/** A YAML sequence. */
export interface ListSpec extends SpecBase {
  kind: "list";
  of: Spec;
  minItems?: number;
}
/** A YAML mapping from user-chosen names to values. */
export interface MapSpec extends SpecBase {
  kind: "map";
  of: Spec;
  /** Output an array of the values with `name` set, in file order, instead of a record. */
  asList?: boolean;
}
/** A YAML mapping with fixed keys. */
export interface ObjectSpec extends SpecBase {
  kind: "object";
  /** Name of the section in the docs and in the JSON Schema definitions. */
  title: string;
  fields: Record<string, Spec>;
  /** A plain scalar may stand for the whole object: it becomes this field. */
  shorthand?: string;
}
/** A mapping whose allowed keys depend on the value of one key (`type`). */
export interface TaggedSpec extends SpecBase {
  kind: "tagged";
  title: string;
  tag: string;
  variants: Record<string, Record<string, Spec>>;
}

/** Any node of the schema. */
export type Spec =
  | StringSpec
  | IntSpec
  | BoolSpec
  | DurationSpec
  | EnumSpec
  | IpSpec
  | CidrSpec
  | EndpointSpec
  | IpRangeSpec
  | StatusSpec
  | ListSpec
  | MapSpec
  | ObjectSpec
  | TaggedSpec;

type Opts<S> = Omit<S, "kind" | "doc">;

// The helpers keep the literal type of what they are given (`const` type parameters), so that
// `typeof CONFIG` describes every key and the Config types are derived from it (spec_types.ts).
// `NoInfer` stops a helper called inside `obj(...)` from taking its options' type from the
// context (Spec) instead of its arguments; `{} as O` names the empty options when none are given.
type Made<Base, O> = Base & NoInfer<O>;
type None = Record<never, never>;
const str = <const O extends Opts<StringSpec> = None>(
  doc: string,
  o: O = {} as O,
): Made<{ kind: "string"; doc: string }, O> => ({ kind: "string", doc, ...o });
const int = <const O extends Omit<Opts<IntSpec>, "min" | "max"> = None>(
  doc: string,
  min: number,
  max: number,
  o: O = {} as O,
): Made<{ kind: "int"; doc: string; min: number; max: number }, O> => ({
  kind: "int",
  doc,
  min,
  max,
  ...o,
});
const bool = <const O extends Opts<BoolSpec> = None>(
  doc: string,
  o: O = {} as O,
): Made<{ kind: "bool"; doc: string }, O> => ({ kind: "bool", doc, ...o });
const dur = <const O extends Opts<DurationSpec> = None>(
  doc: string,
  o: O = {} as O,
): Made<{ kind: "duration"; doc: string }, O> => ({ kind: "duration", doc, ...o });
const oneOf = <
  const V extends readonly (string | number)[],
  const O extends Omit<Opts<EnumSpec>, "values"> = None,
>(
  doc: string,
  values: V,
  o: O = {} as O,
): Made<{ kind: "enum"; doc: string; values: NoInfer<V> }, O> => ({
  kind: "enum",
  doc,
  values,
  ...o,
});
const ip = <const O extends Opts<IpSpec> = None>(
  doc: string,
  o: O = {} as O,
): Made<{ kind: "ip"; doc: string }, O> => ({ kind: "ip", doc, ...o });
const endpoint = <const O extends Opts<EndpointSpec> = None>(
  doc: string,
  o: O = {} as O,
): Made<{ kind: "endpoint"; doc: string }, O> => ({ kind: "endpoint", doc, ...o });
const list = <S extends Spec, const O extends Omit<Opts<ListSpec>, "of"> = None>(
  doc: string,
  of: S,
  o: O = {} as O,
): Made<{ kind: "list"; doc: string; of: NoInfer<S>; default: never[] }, O> => ({
  kind: "list",
  doc,
  of,
  default: [],
  ...o,
});
const obj = <
  const F extends Record<string, Spec>,
  const O extends Omit<Opts<ObjectSpec>, "title" | "fields"> = None,
>(
  title: string,
  doc: string,
  fields: F,
  o: O = {} as O,
): Made<{ kind: "object"; title: string; doc: string; fields: NoInfer<F> }, O> => ({
  kind: "object",
  title,
  doc,
  fields,
  ...o,
});
const script = <const K extends string>(doc: string, keepalived: K) =>
  str(`${doc} Split into words as keepalived does (quotes group words; no shell).`, {
    keepalived,
    minLength: 1,
    command: "notify",
  });

/** IPVS schedulers the kernel provides (keepalived lb_algo / lvs_sched). */
export const SCHEDULERS = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
  "twos",
] as const;

/** Scheduler flags; the sh-* ones need scheduler sh, the mh-* ones mh. */
export const SCHEDULER_FLAGS = [
  "sh-fallback",
  "sh-port",
  "mh-fallback",
  "mh-port",
  "flag-1",
  "flag-2",
  "flag-3",
] as const;

const family = <const O extends Omit<Opts<EnumSpec>, "values"> = None>(
  doc: string,
  o: O = {} as O,
) => oneOf(doc, ["ipv4", "ipv6"], o);

// ---- global -------------------------------------------------------------------------------

const GLOBAL = obj("global", "Settings for the whole agent (keepalived global_defs).", {
  router_id: str("Name of this node in logs, notifications and status.", {
    keepalived: "router_id",
    defaultDoc: "the host name",
  }),
  control: str("Path of the control socket used by `haagent status`.", {
    default: "/run/haagent/haagent.sock",
  }),
  pid_file: str("Path of the pid file.", {
    default: "/run/haagent/haagent.pid",
    keepalived: "-p",
  }),
  log_level: oneOf("Least severe level logged.", ["error", "warn", "info", "debug"], {
    default: "info",
  }),
  log_format: oneOf("Log line format.", ["text", "json"], { default: "text" }),
  vrrp_version: oneOf("VRRP version of instances that do not set `version`.", [2, 3], {
    default: 2,
    keepalived: "vrrp_version",
  }),
  vrrp_mcast_group4: ip("IPv4 multicast group of VRRP adverts.", {
    family: "ipv4",
    multicast: true,
    default: "224.0.0.18",
    keepalived: "vrrp_mcast_group4",
  }),
  vrrp_mcast_group6: ip("IPv6 multicast group of VRRP adverts.", {
    family: "ipv6",
    multicast: true,
    default: "ff02::12",
    keepalived: "vrrp_mcast_group6",
  }),
  v3_checksum: oneOf(
    "VRRPv3 IPv4 checksum: `keepalived` includes the IPv4 pseudo-header (keepalived, FRR, " +
      "RFC 5798), `rfc9568` leaves it out.",
    ["keepalived", "rfc9568"],
    { default: "keepalived" },
  ),
  garp_master_delay: dur(
    "Delay of the second gratuitous ARP / NA burst after becoming master (0 = no second burst).",
    { default: "5s", keepalived: "vrrp_garp_master_delay" },
  ),
  garp_master_repeat: int("Gratuitous ARPs / NAs sent per burst.", 1, 255, {
    default: 5,
    keepalived: "vrrp_garp_master_repeat",
  }),
  garp_master_refresh: dur("Period of gratuitous ARP / NA refreshes while master (0 = off).", {
    default: "0s",
    keepalived: "vrrp_garp_master_refresh",
  }),
  garp_master_refresh_repeat: int("Gratuitous ARPs / NAs per refresh.", 1, 255, {
    default: 1,
    keepalived: "vrrp_garp_master_refresh_repeat",
  }),
  garp_interval: dur("Gap between gratuitous ARPs within a burst.", {
    default: "0s",
    keepalived: "vrrp_garp_interval",
  }),
  garp_lower_prio_repeat: int(
    "Gratuitous ARPs / NAs a master sends when it hears a lower-priority advert (0 = none).",
    0,
    255,
    {
      defaultDoc: "garp_master_repeat (0 under vrrp_strict)",
      keepalived: "vrrp_garp_lower_prio_repeat",
    },
  ),
  garp_lower_prio_delay: dur(
    "Delay of a second such burst after a lower-priority advert (0 = none).",
    {
      defaultDoc: "garp_master_delay (0 under vrrp_strict)",
      keepalived: "vrrp_garp_lower_prio_delay",
    },
  ),
  lower_prio_no_advert: bool(
    "A master does not answer a lower-priority advert with an advert of its own (RFC 9568 says to answer).",
    { defaultDoc: "false (true under vrrp_strict)", keepalived: "vrrp_lower_prio_no_advert" },
  ),
  higher_prio_send_advert: bool(
    "A master that hears a higher-priority advert sends one more advert before becoming backup.",
    { defaultDoc: "false", keepalived: "vrrp_higher_prio_send_advert" },
  ),
  skip_check_adv_addr: bool(
    "Do not compare the address list of adverts from the master already accepted (saves work with many VIPs).",
    { default: false, keepalived: "vrrp_skip_check_adv_addr (flag)" },
  ),
  check_unicast_src: bool(
    "Unicast instances drop adverts whose source is not one of their unicast_peers, and " +
      "check the peers' min_ttl / max_ttl. keepalived's default is off (any source is " +
      "accepted); import-keepalived writes `check_unicast_src: false` where keepalived would run " +
      "without the check.",
    { default: true, keepalived: "vrrp_check_unicast_src (flag)" },
  ),
  vrrp_strict: bool(
    "Strict RFC compliance (keepalived vrrp_strict): refuses unicast peers and instances " +
      "without VIPs, ignores authentication, preempt_delay and vmac_xmit_base, makes " +
      "non-owners no_accept (firewall rules drop traffic to their VIPs while master), and " +
      "sends no advert or gratuitous ARP in answer to a lower-priority advert.",
    { default: false, keepalived: "vrrp_strict (flag)" },
  ),
  gna_interval: dur("Gap between unsolicited neighbour adverts within a burst.", {
    default: "0s",
    keepalived: "vrrp_gna_interval",
  }),
  script_user: str("User (`name` or `name:group`) that runs scripts which do not name one.", {
    keepalived: "script_user",
    defaultDoc: "keepalived_script when that user exists, else root (said at start)",
  }),
  enable_script_security: bool(
    "Refuse to run a script run as root that a non-root user could modify (the file, or a " +
      "directory above it without the sticky bit); the refusal names the path and the " +
      "permission. Also refuses scripts without a user when no default user can be set.",
    { default: false, keepalived: "enable_script_security (flag)" },
  ),
  notification_email: list("Addresses that receive notification mail.", str("An e-mail address."), {
    keepalived: "notification_email",
  }),
  notification_email_from: str("Sender of notification mail.", {
    keepalived: "notification_email_from",
    defaultDoc: "haagent@<router_id>",
  }),
  smtp_server: str("SMTP relay as `HOST[:PORT]` (port 25 if absent).", {
    keepalived: "smtp_server",
    pattern: "^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$",
    patternHint: "HOST or HOST:PORT, IPv6 in brackets",
  }),
  smtp_connect_timeout: dur("Time allowed to connect to the SMTP relay (and for each reply).", {
    default: "30s",
    keepalived: "smtp_connect_timeout",
  }),
  smtp_alert: bool(
    "Send an e-mail on every state change (instances, groups, real and virtual servers) " +
      "unless an object or smtp_alert_vrrp / smtp_alert_checker says otherwise. Needs " +
      "smtp_server and notification_email.",
    { defaultDoc: "false", keepalived: "smtp_alert" },
  ),
  smtp_alert_vrrp: bool("E-mail on VRRP instance and sync group state changes.", {
    defaultDoc: "smtp_alert",
    keepalived: "smtp_alert_vrrp",
  }),
  smtp_alert_checker: bool("E-mail on real server up / down and quorum changes.", {
    defaultDoc: "smtp_alert",
    keepalived: "smtp_alert_checker",
  }),
  no_email_faults: bool("No e-mail when an instance or group enters FAULT.", {
    default: false,
    keepalived: "no_email_faults (flag)",
  }),
  realtime_priority: int(
    "Run the agent's VRRP side with SCHED_RR at this priority (1-99), so adverts keep time on a " +
      "busy machine; off when absent. The checkers' thread stays in the normal scheduler. " +
      "Needs root (CAP_SYS_NICE).",
    1,
    99,
    { keepalived: "vrrp_rt_priority" },
  ),
  checker_nice: int(
    "Nice value (-20..19) of the threads doing bulk work: the health checkers' thread and V8's " +
      "garbage-collector and compiler threads. Above the VRRP thread's 0, the VRRP thread takes a " +
      "core as soon as an advert is due, even while thousands of checks run; checks stay bounded " +
      "by their own timeouts. Negative values need root.",
    -20,
    19,
    { default: 10, keepalived: "checker_priority" },
  ),
  ipvs_on_stop: oneOf(
    "What a stop (SIGTERM, SIGINT, `haagent stop`) does to the IPVS services the agent " +
      "programmed: `remove` them (keepalived's way; a stopped agent checks nothing, so nothing " +
      "is left to send traffic to failed real servers), or `keep` them as they are, with the " +
      "sync daemon, for a restart in place (upgrades, `systemctl restart`): the next agent " +
      "reconciles the kernel's rules without removing them first, starting from the real " +
      "servers' last states, so no connection breaks and no new one fails. `haagent stop " +
      "--keep-ipvs` / `--remove-ipvs` chooses for one stop. VRRP instances stop as always.",
    ["remove", "keep"],
    { default: "remove" },
  ),
  lvs_sync_daemon: obj(
    "lvs_sync_daemon",
    "The kernel's IPVS connection sync daemon, master while `instance` is MASTER and backup " +
      "otherwise, so that connections survive a failover (ipvsadm --start-daemon).",
    {
      interface: str("Interface the sync multicast uses.", { required: true, minLength: 1 }),
      instance: str("The vrrp_instance whose state sets the daemon's role.", {
        required: true,
        minLength: 1,
      }),
      sync_id: int("Sync id shared by the peers.", 0, 255, {
        defaultDoc: "the instance's vrid",
        keepalived: "id",
      }),
      max_len: int("UDP payload size of sync messages.", 1, 65507, {
        defaultDoc: "from the interface MTU",
        keepalived: "maxlen",
      }),
      port: int("UDP port.", 1, 65535, { defaultDoc: "8848", keepalived: "port" }),
      ttl: int("Multicast TTL.", 1, 255, { defaultDoc: "1", keepalived: "ttl" }),
      group: ip("IPv4 multicast group.", {
        family: "ipv4",
        multicast: true,
        defaultDoc: "224.0.0.81",
        keepalived: "group",
      }),
    },
    { keepalived: "lvs_sync_daemon" },
  ),
  process_scan_interval: dur(
    "How often /proc is read for tracked processes (keepalived hears of them from the kernel's " +
      "process connector at once).",
    { default: "1s", minMs: 50 },
  ),
  metrics: obj("metrics", "Optional Prometheus metrics endpoint (off when absent).", {
    listen: endpoint("Address and port to serve /metrics on.", { required: true }),
  }),
  announce: obj(
    "announce",
    "Where instances and virtual servers with `announce: true` publish their addresses: host " +
      "routes in a dedicated kernel table, with a protocol number a BGP speaker (BIRD, FRR) " +
      "filters on and advertises (docs/bgp.md).",
    {
      table: int(
        "Kernel routing table of the routes; not 0, 253, 254 or 255 (unspec, default, main, local).",
        0,
        4294967295,
        { default: 198 },
      ),
      protocol: int(
        "Protocol number stamped on the routes; not one the kernel or a routing daemon reserves " +
          "(0-4 and those in /etc/iproute2/rt_protos).",
        0,
        255,
        { default: 248 },
      ),
    },
    { default: {} },
  ),
}, { default: {} });

// ---- vrrp_track_process ---------------------------------------------------------------------

const PROCESS = obj(
  "process",
  "Processes whose presence moves instances (vrrp_track_process).",
  {
    process: str(
      "Process name as in /proc/PID/comm (the kernel keeps 15 characters; a longer name is " +
        "compared on its first 15), or the command's path (argv[0]) with full_command.",
      { required: true, minLength: 1, keepalived: "process" },
    ),
    parameters: str("Arguments the process must have, space-separated (absent: any).", {
      keepalived: "process NAME PARAMETERS",
    }),
    param_match: oneOf(
      "How `parameters` match the arguments: exact (the same), initial (the arguments start " +
        "with them, whole words), partial (the arguments contain them).",
      ["exact", "initial", "partial"],
      { default: "exact", keepalived: "param_match" },
    ),
    full_command: bool("Match `process` against argv[0] instead of the process name.", {
      default: false,
      keepalived: "full_command (flag)",
    }),
    quorum: int("Matching processes needed for the process to count as up.", 1, 65535, {
      default: 1,
      keepalived: "quorum",
    }),
    quorum_max: int("More matching processes than this count as down.", 1, 65535, {
      defaultDoc: "no limit",
      keepalived: "quorum_max",
    }),
    weight: int(
      "Priority change while up (positive) or down (negative); 0 puts tracking instances in " +
        "FAULT while down.",
      -253,
      253,
      { default: 0, keepalived: "weight" },
    ),
    fork_delay: dur("How long the count must be in quorum before the process counts as up.", {
      default: "0s",
      keepalived: "fork_delay",
    }),
    terminate_delay: dur(
      "How long the count must be out of quorum before the process counts as down.",
      { default: "0s", keepalived: "terminate_delay" },
    ),
  },
);

// ---- vrrp_script ----------------------------------------------------------------------------

const SCRIPT = obj("script", "A check command whose exit status moves instances (vrrp_script).", {
  command: str(
    "Command line, split into words as keepalived does (no shell); exit status 0 means success.",
    {
      required: true,
      minLength: 1,
      command: "script",
      keepalived: "script",
    },
  ),
  interval: dur("Time between runs.", { default: "1s", minMs: 10, keepalived: "interval" }),
  timeout: dur("A run taking longer counts as a failure.", {
    defaultDoc: "interval",
    filled: true,
    minMs: 10,
    keepalived: "timeout",
  }),
  weight: int(
    "Priority change while the script fails (negative) or succeeds (positive); " +
      "0 puts tracking instances in FAULT while it fails.",
    -253,
    253,
    { default: 0, keepalived: "weight" },
  ),
  rise: int("Successes in a row before the script counts as up.", 1, 1000, {
    default: 1,
    keepalived: "rise",
  }),
  fall: int("Failures in a row before the script counts as down.", 1, 1000, {
    default: 1,
    keepalived: "fall",
  }),
  user: str("User to run the command as.", {
    defaultDoc: "global.script_user",
    keepalived: "user",
  }),
  init_fail: bool("Start in the failed state.", {
    default: false,
    keepalived: "init_fail (flag)",
  }),
});

// ---- vrrp_instance ----------------------------------------------------------------------------

const VIP = obj("vip", "A virtual address: `ADDR[/PREFIX]` or a mapping with options.", {
  address: {
    kind: "cidr",
    doc: "Address with prefix; without a prefix /32 (IPv4) or /128 (IPv6), as keepalived does.",
    required: true,
    flatten: true,
  },
  device: str("Interface to add the address to.", {
    defaultDoc: "the instance's interface",
    filled: true,
    keepalived: "dev",
  }),
  label: str("Address label (`eth0:vip`), IPv4 only.", { maxLength: 15, keepalived: "label" }),
  scope: oneOf("Address scope.", ["global", "site", "link", "host", "nowhere"], {
    default: "global",
    keepalived: "scope",
  }),
}, { shorthand: "address" });

const ROUTE = obj("route", "A route (virtual_routes while master; static_routes always).", {
  to: { kind: "cidr", doc: "Destination prefix.", required: true },
  via: ip("Gateway.", { keepalived: "via" }),
  src: ip("Preferred source address.", { keepalived: "src" }),
  device: str("Outgoing interface.", { keepalived: "dev" }),
  table: int("Routing table.", 1, 4294967295, { defaultDoc: "main (254)", keepalived: "table" }),
  metric: int("Route metric.", 0, 4294967295, { keepalived: "metric" }),
  type: oneOf(
    "Route type: unreachable, prohibit and throw routes, like blackhole, take no via or device.",
    ["unicast", "blackhole", "unreachable", "prohibit", "throw"],
    { default: "unicast", keepalived: "TYPE before the destination" },
  ),
  blackhole: bool("Add a blackhole route (the same as `type: blackhole`).", { default: false }),
  scope: oneOf("Route scope (keepalived's default is global, also for routes without via).", [
    "global",
    "site",
    "link",
    "host",
    "nowhere",
  ], { default: "global", keepalived: "scope" }),
  onlink: bool("The gateway is on the link even if no prefix of the device covers it.", {
    default: false,
    keepalived: "onlink",
  }),
});

const PORT_RANGE = "^[0-9]{1,5}(-[0-9]{1,5})?$";

const RULE = obj(
  "rule",
  "A policy routing rule (virtual_rules while master; static_rules always).",
  {
    from: { kind: "cidr", doc: "Source prefix (`all` when absent).", keepalived: "from" },
    to: { kind: "cidr", doc: "Destination prefix.", keepalived: "to" },
    family: family("Address family of a rule without from / to.", {
      defaultDoc: "the family of from / to, else ipv4",
      filled: true,
      keepalived: "inet / inet6",
    }),
    action: oneOf(
      "What a matching packet gets: a table lookup, a goto, nothing (nop), or dropped.",
      ["table", "goto", "nop", "blackhole", "unreachable", "prohibit"],
      {
        defaultDoc: "table",
        filled: true,
        keepalived: "table / goto / nop / blackhole / unreachable / prohibit",
      },
    ),
    table: int("Table to look up (needed by action table).", 1, 4294967295, {
      keepalived: "table / lookup",
    }),
    goto: int(
      "Preference of the rule to go to (needed by action goto; above priority).",
      0,
      4294967295,
      {
        keepalived: "goto",
      },
    ),
    priority: int("Rule preference; rules are tried from low to high.", 0, 4294967295, {
      defaultDoc: "16384 for the first rule without one, then 16383, ... per family (keepalived)",
      filled: true,
      keepalived: "preference / priority / order",
    }),
    invert: bool("Match packets the selectors do not match.", {
      default: false,
      keepalived: "not",
    }),
    tos: int("Type of service to match.", 0, 255, { keepalived: "tos / dsfield" }),
    fwmark: int("Firewall mark to match.", 0, 4294967295, { keepalived: "fwmark" }),
    fwmask: int("Mask of the firewall mark.", 0, 4294967295, { keepalived: "fwmark MARK/MASK" }),
    iif: str("Incoming interface to match.", {
      minLength: 1,
      maxLength: 15,
      keepalived: "iif / dev",
    }),
    oif: str("Outgoing interface to match.", { minLength: 1, maxLength: 15, keepalived: "oif" }),
    uid_range: str("User ids to match, `FIRST-LAST`.", {
      pattern: "^[0-9]{1,10}-[0-9]{1,10}$",
      patternHint: "FIRST-LAST",
      keepalived: "uidrange",
    }),
    ip_proto: int("IP protocol number to match (6 tcp, 17 udp).", 0, 255, {
      keepalived: "ipproto",
    }),
    sport: str("Source port or `FIRST-LAST` range to match.", {
      pattern: PORT_RANGE,
      patternHint: "PORT or FIRST-LAST",
      keepalived: "sport",
    }),
    dport: str("Destination port or `FIRST-LAST` range to match.", {
      pattern: PORT_RANGE,
      patternHint: "PORT or FIRST-LAST",
      keepalived: "dport",
    }),
    suppress_prefixlength: int(
      "Ignore the table's answer when its prefix is this long or shorter.",
      0,
      128,
      { keepalived: "suppress_prefixlength" },
    ),
  },
);

const STATIC_ADDRESS = obj(
  "static_address",
  "An address added at start and removed at stop (static_ipaddress).",
  {
    address: {
      kind: "cidr",
      doc: "Address with prefix; without a prefix /32 (IPv4) or /128 (IPv6).",
      required: true,
      flatten: true,
    },
    device: str("Interface to add the address to.", {
      required: true,
      minLength: 1,
      maxLength: 15,
      keepalived: "dev",
    }),
    label: str("Address label (`eth0:static`), IPv4 only.", { maxLength: 15, keepalived: "label" }),
    scope: oneOf("Address scope.", ["global", "site", "link", "host", "nowhere"], {
      default: "global",
      keepalived: "scope",
    }),
  },
);

const TRACK_IF = obj("track_interface", "An interface whose state moves the instance.", {
  name: str("Interface name.", { required: true, minLength: 1 }),
  weight: int("Priority change while the interface is down (0 = FAULT).", -253, 253, {
    default: 0,
  }),
  reverse: bool("Reverse the direction of the priority change.", { default: false }),
}, { shorthand: "name" });

const TRACK_SCRIPT = obj(
  "track_script",
  "A script (from `scripts`) whose result moves the instance.",
  {
    name: str("Name of an entry of `scripts`.", { required: true, minLength: 1 }),
    weight: int("Overrides the script's weight.", -253, 253, {
      defaultDoc: "the script's weight",
      filled: true,
    }),
    reverse: bool("Reverse the direction of the priority change.", { default: false }),
  },
  { shorthand: "name" },
);

const TRACK_PROCESS = obj(
  "track_process",
  "A process (from `processes`) whose presence moves the instance.",
  {
    name: str("Name of an entry of `processes`.", { required: true, minLength: 1 }),
    weight: int("Overrides the process's weight.", -253, 253, {
      defaultDoc: "the process's weight",
      filled: true,
    }),
    reverse: bool("Reverse the direction of the priority change.", { default: false }),
  },
  { shorthand: "name" },
);

const TRACK_FILE = obj("track_file", "A file holding a number that is added to the priority.", {
  path: str(
    "File to read: its first 127 bytes each second, as C strtol reads a number (0x1f hex, 010 octal).",
    { required: true, minLength: 1 },
  ),
  weight: int("Multiplier of the number read (0 = FAULT while the number is not 0).", -254, 254, {
    default: 1,
  }),
});

const PEER = obj("unicast_peer", "A unicast peer: `ADDR`, or a mapping with TTL limits.", {
  address: ip("Address of the peer.", { required: true }),
  min_ttl: int(
    "Lowest TTL / hop limit accepted from this peer; setting it turns check_unicast_src on.",
    0,
    255,
    { default: 0, keepalived: "min_ttl" },
  ),
  max_ttl: int(
    "Highest TTL / hop limit accepted from this peer; setting it turns check_unicast_src on.",
    0,
    255,
    { default: 255, keepalived: "max_ttl" },
  ),
}, { shorthand: "address" });

const INSTANCE = obj("vrrp_instance", "One virtual router (vrrp_instance).", {
  interface: str("Interface the adverts are sent and received on.", {
    required: true,
    minLength: 1,
    maxLength: 15,
    keepalived: "interface",
  }),
  vrid: int("Virtual router id, the same on every router of this group.", 1, 255, {
    required: true,
    keepalived: "virtual_router_id",
  }),
  priority: int("Election priority; 255 means this router owns the addresses.", 1, 255, {
    default: 100,
    keepalived: "priority",
  }),
  version: oneOf("VRRP version.", [2, 3], {
    defaultDoc: "global.vrrp_version; 3 for IPv6",
    filled: true,
    keepalived: "version",
  }),
  family: family("Address family of the instance.", {
    defaultDoc: "the family of the first virtual address (ipv4 if none)",
    filled: true,
  }),
  advert_interval: dur(
    "Time between adverts: whole seconds 1s-255s for v2, 10ms-40.95s in 10 ms steps for v3.",
    { default: "1s", keepalived: "advert_int" },
  ),
  state: oneOf("Initial state.", ["BACKUP", "MASTER"], { default: "BACKUP", keepalived: "state" }),
  preempt: bool("Take over from a lower-priority master; false needs state BACKUP.", {
    default: true,
    keepalived: "nopreempt (false) / preempt (flag)",
  }),
  preempt_delay: dur("Delay before preempting after start or after seeing a lower master.", {
    default: "0s",
    maxMs: 1_000_000,
    keepalived: "preempt_delay",
  }),
  authentication: obj("authentication", "VRRPv2 authentication (deprecated by RFC 3768).", {
    type: oneOf("Authentication type.", ["PASS", "AH"], {
      required: true,
      keepalived: "auth_type",
    }),
    password: str("Shared password; at most 8 characters are sent.", {
      required: true,
      minLength: 1,
      maxLength: 8,
      keepalived: "auth_pass",
    }),
  }, { keepalived: "authentication" }),
  unicast_src_ip: ip("Source address of adverts (unicast and multicast).", {
    keepalived: "unicast_src_ip / mcast_src_ip",
  }),
  unicast_peers: list(
    "Send adverts to these addresses instead of the multicast group.",
    PEER,
    { keepalived: "unicast_peer" },
  ),
  unicast_ttl: int("TTL / hop limit of unicast adverts.", 1, 255, {
    default: 255,
    keepalived: "unicast_ttl",
  }),
  check_unicast_src: bool(
    "Drop adverts whose source is not one of unicast_peers, and check the peers' TTL limits.",
    {
      defaultDoc: "global.check_unicast_src; on when a peer sets min_ttl or max_ttl",
      keepalived: "check_unicast_src",
      filled: true,
    },
  ),
  mcast_dst_ip: ip("Multicast group of this instance's adverts.", {
    multicast: true,
    defaultDoc: "global.vrrp_mcast_group4 or vrrp_mcast_group6",
    keepalived: "mcast_dst_ip",
  }),
  use_vmac: bool(
    "Hold the VIPs on a macvlan with the virtual router MAC 00:00:5e:00:01:VRID " +
      "(IPv6 00:00:5e:00:02:VRID), created at start and removed at stop, so a failover moves " +
      "no MAC in the clients' neighbour tables. Adverts and gratuitous ARPs carry that MAC.",
    { default: false, keepalived: "use_vmac" },
  ),
  vmac_name: str("Name of the VMAC interface (use_vmac).", {
    defaultDoc: "vrrp.VRID",
    minLength: 1,
    maxLength: 15,
    pattern: "^[^/:\\s]+$",
    patternHint: "an interface name without '/', ':' or spaces",
    keepalived: "use_vmac NAME",
    filled: true,
  }),
  vmac_xmit_base: bool(
    "With use_vmac: send and receive adverts on the base interface (its own MAC) instead of " +
      "the VMAC; the VIPs stay on the VMAC.",
    { default: false, keepalived: "vmac_xmit_base (flag)" },
  ),
  strict_mode: bool("Strict RFC compliance for this instance (see global.vrrp_strict).", {
    defaultDoc: "global.vrrp_strict",
    keepalived: "strict_mode",
    filled: true,
  }),
  dont_track_primary: bool(
    "Stay out of FAULT when the instance's interface goes down (cross-connected routers).",
    { default: false, keepalived: "dont_track_primary (flag)" },
  ),
  skip_check_adv_addr: bool(
    "Do not compare the address list of adverts from the master already accepted.",
    { defaultDoc: "global.skip_check_adv_addr", keepalived: "skip_check_adv_addr", filled: true },
  ),
  virtual_ipaddresses: list("Addresses held by the master.", VIP, {
    out: "vips",
    keepalived: "virtual_ipaddress",
  }),
  virtual_ipaddresses_excluded: list("Addresses held by the master but not sent in adverts.", VIP, {
    out: "excludedVips",
    keepalived: "virtual_ipaddress_excluded",
  }),
  virtual_routes: list("Routes added while master.", ROUTE, {
    out: "routes",
    keepalived: "virtual_routes",
  }),
  virtual_rules: list("Policy routing rules added while master.", RULE, {
    out: "rules",
    keepalived: "virtual_rules",
  }),
  track_interfaces: list("Interfaces whose state moves the instance.", TRACK_IF, {
    keepalived: "track_interface",
  }),
  track_scripts: list("Scripts whose result moves the instance.", TRACK_SCRIPT, {
    keepalived: "track_script",
  }),
  track_files: list("Files whose number moves the instance.", TRACK_FILE, {
    keepalived: "track_file",
  }),
  track_processes: list("Processes whose presence moves the instance.", TRACK_PROCESS, {
    keepalived: "track_process",
  }),
  garp_master_delay: dur("Overrides global.garp_master_delay.", {
    defaultDoc: "global.garp_master_delay",
    filled: true,
    keepalived: "garp_master_delay",
  }),
  garp_master_repeat: int("Overrides global.garp_master_repeat.", 1, 255, {
    defaultDoc: "global.garp_master_repeat",
    filled: true,
    keepalived: "garp_master_repeat",
  }),
  garp_master_refresh: dur("Overrides global.garp_master_refresh.", {
    defaultDoc: "global.garp_master_refresh",
    filled: true,
    keepalived: "garp_master_refresh",
  }),
  garp_master_refresh_repeat: int("Overrides global.garp_master_refresh_repeat.", 1, 255, {
    defaultDoc: "global.garp_master_refresh_repeat",
    keepalived: "garp_master_refresh_repeat",
    filled: true,
  }),
  garp_lower_prio_repeat: int("Overrides global.garp_lower_prio_repeat.", 0, 255, {
    defaultDoc: "global.garp_lower_prio_repeat (0 under strict mode)",
    keepalived: "garp_lower_prio_repeat",
    filled: true,
  }),
  garp_lower_prio_delay: dur("Overrides global.garp_lower_prio_delay.", {
    defaultDoc: "global.garp_lower_prio_delay (0 under strict mode)",
    keepalived: "garp_lower_prio_delay",
    filled: true,
  }),
  lower_prio_no_advert: bool("Overrides global.lower_prio_no_advert.", {
    defaultDoc: "global.lower_prio_no_advert (true under strict mode)",
    keepalived: "lower_prio_no_advert",
    filled: true,
  }),
  higher_prio_send_advert: bool("Overrides global.higher_prio_send_advert.", {
    defaultDoc: "global.higher_prio_send_advert (false under strict mode)",
    keepalived: "higher_prio_send_advert",
    filled: true,
  }),
  accept: bool(
    "Accept packets sent to the virtual addresses while master when not the address owner. " +
      "false (RFC 5798 Accept_Mode off): firewall rules (nftables table `haagent`) drop traffic " +
      "to and from the VIPs while this router is a non-owner master, as keepalived does.",
    {
      defaultDoc: "true; false under strict mode unless priority is 255",
      keepalived: "accept (flag) / no_accept (false)",
      filled: true,
    },
  ),
  notify_master: script("Run on becoming master.", "notify_master"),
  notify_backup: script("Run on becoming backup.", "notify_backup"),
  notify_fault: script("Run on entering FAULT.", "notify_fault"),
  notify_stop: script("Run when the instance stops.", "notify_stop"),
  notify: script(
    "Run on every transition with arguments INSTANCE name state priority.",
    "notify",
  ),
  notify_fifo: str("FIFO that receives one line per transition.", { keepalived: "notify_fifo" }),
  smtp_alert: bool("E-mail on this instance's state changes.", {
    defaultDoc: "global smtp_alert_vrrp, else smtp_alert",
    keepalived: "smtp_alert",
  }),
  announce: bool(
    "While MASTER, every virtual address (excluded ones too) is a host route in " +
      "global.announce's table, for BGP (docs/bgp.md).",
    { default: false },
  ),
});

const SYNC_GROUP = obj("sync_group", "Instances that change state together (vrrp_sync_group).", {
  members: list("Names of vrrp_instances; each may be in one group only.", str("Instance name."), {
    required: true,
    minItems: 1,
    keepalived: "group",
  }),
  notify_master: script("Run when the group becomes master.", "notify_master"),
  notify_backup: script("Run when the group becomes backup.", "notify_backup"),
  notify_fault: script("Run when the group enters FAULT.", "notify_fault"),
  notify_stop: script("Run when the group stops.", "notify_stop"),
  notify: script("Run on every transition with arguments GROUP name state priority.", "notify"),
  smtp_alert: bool("E-mail on this group's state changes.", {
    defaultDoc: "global smtp_alert_vrrp, else smtp_alert",
    keepalived: "smtp_alert",
  }),
});

// ---- LVS ----------------------------------------------------------------------------

const VS_GROUP_ENTRY = obj(
  "virtual_server_group_entry",
  "`ADDR:PORT`, or a mapping with one of address, range or fwmark.",
  {
    address: endpoint("A virtual address and port (no port or 0: persistent services only).", {
      flatten: false,
      portOptional: true,
      out: "endpoint",
    }),
    range: {
      kind: "iprange",
      doc: "`A.B.C.D-E` or `ADDR-ADDR`: every address between, both included.",
    },
    port: int("Port of the range.", 0, 65535, { default: 0 }),
    fwmark: int("Firewall mark.", 1, 4294967295),
    family: family("Address family of a fwmark entry.", { defaultDoc: "ipv4" }),
  },
  { shorthand: "address" },
);

const TUNNEL_TYPES = ["ipip", "gue", "gre"] as const;
const FORWARDING = ["NAT", "DR", "TUN"] as const;

function checkCommon(retry: number, delayBeforeRetry: string | null) {
  return {
    connect_ip: ip("Address to check.", {
      defaultDoc: "the real server's address",
      filled: true,
      keepalived: "connect_ip",
    }),
    connect_port: int("Port to check.", 1, 65535, {
      defaultDoc: "the real server's port",
      filled: true,
      keepalived: "connect_port",
    }),
    bindto: ip("Source address of the check.", { keepalived: "bindto" }),
    bind_port: int("Source port of the check (with bindto, or any address).", 1, 65535, {
      keepalived: "bind_port",
    }),
    bind_if: str("Interface the check socket is bound to (SO_BINDTODEVICE); TCP_CHECK only.", {
      minLength: 1,
      maxLength: 15,
      keepalived: "bind_if",
    }),
    fwmark: int("Firewall mark on the check's packets (SO_MARK); TCP_CHECK only.", 1, 4294967295, {
      keepalived: "fwmark",
    }),
    connect_timeout: dur("Time allowed for the check.", {
      default: "5s",
      minMs: 1,
      keepalived: "connect_timeout",
    }),
    retry: int("Extra attempts before the server is marked down.", 0, 1000, {
      default: retry,
      keepalived: "retry",
    }),
    delay_before_retry: delayBeforeRetry === null
      ? dur("Delay before an extra attempt.", {
        defaultDoc: "delay_loop",
        filled: true,
        keepalived: "delay_before_retry",
      })
      : dur("Delay before an extra attempt.", {
        default: delayBeforeRetry,
        keepalived: "delay_before_retry",
      }),
    ...checkTiming(),
  };
}

function checkTiming() {
  return {
    delay_loop: dur("Time between checks.", {
      defaultDoc: "the virtual server's delay_loop",
      filled: true,
      minMs: 1,
      keepalived: "delay_loop",
    }),
    warmup: dur("The first check starts after a random delay up to this long (0 = at once).", {
      defaultDoc: "delay_loop",
      filled: true,
      keepalived: "warmup",
    }),
    alpha: bool("Start with the server considered down.", {
      defaultDoc: "the virtual server's alpha",
      filled: true,
      keepalived: "alpha",
    }),
    rise: int("Successes in a row before the server counts as up.", 1, 1000, { default: 1 }),
    fall: int("Failures in a row (after retries) before the server counts as down.", 1, 1000, {
      default: 1,
    }),
    log_all_failures: bool(
      "Log every failed attempt while the server is up, retries included, not only state changes.",
      { default: false, keepalived: "log_all_failures" },
    ),
  };
}

const URL = obj("url", "An HTTP request and what its answer must be.", {
  path: str("Request path.", {
    required: true,
    pattern: "^/",
    patternHint: "a path starting with /",
    keepalived: "path",
  }),
  status_code: list('Accepted status codes or ranges (`"200-299"`).', {
    kind: "status",
    doc: "A status code or range.",
  }, { out: "statusCodes", default: ["200-299"], keepalived: "status_code" }),
  digest: str("MD5 of the body (as genhash prints it).", {
    pattern: "^[0-9a-fA-F]{32}$",
    patternHint: "32 hexadecimal digits",
    keepalived: "digest",
  }),
  regex: str("Regular expression the body must match.", { keepalived: "regex" }),
  regex_no_match: bool("Fail when the regex matches instead.", {
    default: false,
    keepalived: "regex_no_match (flag)",
  }),
  virtualhost: str("Host header.", {
    defaultDoc: "the check's virtualhost",
    keepalived: "virtualhost",
  }),
});

const HTTP_FIELDS = {
  ...checkCommon(1, "3s"),
  urls: list("Requests to make; all must pass.", URL, {
    required: true,
    minItems: 1,
    keepalived: "url",
  }),
  http_protocol: oneOf("HTTP version of the request (1.0C = 1.0 with Connection: close).", [
    "1.0",
    "1.0C",
    "1.1",
  ], { default: "1.0", keepalived: "http_protocol" }),
  virtualhost: str("Host header of every URL that does not set one.", {
    keepalived: "virtualhost",
  }),
  fast_recovery: bool(
    "After the first check, and while down after a check in which no URL failed, check " +
      "again at once instead of after delay_loop (keepalived's fast_recovery).",
    { default: false, keepalived: "fast_recovery" },
  ),
} as const satisfies Record<string, Spec>;

const CHECK = {
  kind: "tagged",
  title: "check",
  doc: "A health check of a real server; `type` decides which keys apply.",
  tag: "type",
  variants: {
    TCP_CHECK: checkCommon(1, "1s"),
    HTTP_GET: HTTP_FIELDS,
    SSL_GET: {
      ...HTTP_FIELDS,
      enable_sni: bool("Send the virtualhost as TLS SNI.", {
        default: false,
        keepalived: "enable_sni",
      }),
      verify_cert: bool("Verify the server certificate.", { default: false }),
    },
    MISC_CHECK: {
      misc_path: str("Command line, split into words as keepalived does (no shell); exit 0 = up.", {
        required: true,
        minLength: 1,
        command: "script",
        keepalived: "misc_path",
      }),
      misc_timeout: dur("A run taking longer counts as a failure.", {
        defaultDoc: "delay_loop",
        filled: true,
        keepalived: "misc_timeout",
      }),
      misc_dynamic: bool("Exit status 2-255 sets the weight to status - 2.", {
        default: false,
        keepalived: "misc_dynamic (flag)",
      }),
      user: str("User to run the command as.", {
        defaultDoc: "global.script_user",
        keepalived: "user",
      }),
      retry: int("Extra attempts before the server is marked down.", 0, 1000, {
        default: 0,
        keepalived: "retry",
      }),
      delay_before_retry: dur("Delay before an extra attempt.", {
        default: "1s",
        keepalived: "delay_before_retry",
      }),
      ...checkTiming(),
    },
    SMTP_CHECK: {
      ...checkCommon(1, "1s"),
      helo_name: str("Name sent in HELO.", {
        defaultDoc: "the host name",
        keepalived: "helo_name",
      }),
    },
    DNS_CHECK: {
      ...checkCommon(3, null),
      dns_type: oneOf("Query type.", ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"], {
        default: "SOA",
        keepalived: "type",
      }),
      dns_name: str("Name to query.", { default: ".", keepalived: "name" }),
    },
    UDP_CHECK: {
      ...checkCommon(1, "1s"),
      payload: str("Datagram to send: text, or `hex:` and hexadecimal digits.", {
        pattern: "^(?!hex:)|^hex:([0-9a-fA-F]{2})+$",
        patternHint: "text, or hex: followed by pairs of hexadecimal digits",
        keepalived: "payload",
      }),
      require_reply: bool(
        "A reply is needed for success; without it, no ICMP error within connect_timeout is success.",
        { default: false, keepalived: "require_reply" },
      ),
      reply_data: str(
        "The reply must start with these bytes: hexadecimal digit pairs, `x` for any nibble " +
          "(implies require_reply; the reply lengths are checked only with it, as keepalived does).",
        {
          pattern: "^[ ]*([0-9a-fA-FxX]{1,2}[ ]*)+$",
          patternHint: "hexadecimal digits, x for any nibble",
          keepalived: "require_reply HEX",
        },
      ),
      min_reply_length: int("Shortest accepted reply (with reply_data).", 0, 65535, {
        default: 0,
        keepalived: "min_reply_length",
      }),
      max_reply_length: int("Longest accepted reply (with reply_data).", 0, 65535, {
        default: 255,
        keepalived: "max_reply_length",
      }),
    },
    PING_CHECK: checkCommon(1, "1s"),
    FILE_CHECK: {
      file: str("File holding a number.", {
        required: true,
        minLength: 1,
        keepalived: "track_file",
      }),
      weight_multiplier: int("The weight is the number times this.", -2147483647, 2147483647, {
        default: 1,
        keepalived: "weight",
      }),
    },
  },
} as const satisfies TaggedSpec;

const REAL_SERVER = obj("real_server", "A real server behind a virtual server.", {
  address: endpoint("`ADDR:PORT` (port defaults to the virtual server's).", {
    required: true,
    portOptional: true,
    flatten: true,
  }),
  weight: int("IPVS weight.", 0, 65535, { default: 1, keepalived: "weight" }),
  forwarding: oneOf("Forwarding method.", FORWARDING, {
    defaultDoc: "the virtual server's",
    filled: true,
    keepalived: "lvs_method / lb_kind",
  }),
  upper_threshold: int("Connection limit (0 = none).", 0, 4294967295, {
    default: 0,
    keepalived: "uthreshold",
  }),
  lower_threshold: int("Connections below which the server is used again.", 0, 4294967295, {
    default: 0,
    keepalived: "lthreshold",
  }),
  inhibit_on_failure: bool("On failure set the weight to 0 instead of removing the server.", {
    defaultDoc: "the virtual server's",
    filled: true,
    keepalived: "inhibit_on_failure",
  }),
  notify_up: script("Run when the server comes up.", "notify_up"),
  notify_down: script("Run when the server goes down.", "notify_down"),
  smtp_alert: bool("E-mail when this server goes up or down.", {
    defaultDoc: "the virtual server's",
    keepalived: "smtp_alert",
  }),
  checks: list("Health checks; the server is up while all pass.", CHECK, {
    keepalived: "TCP_CHECK, HTTP_GET, ... blocks",
  }),
});

const VIRTUAL_SERVER = obj("virtual_server", "An IPVS service with its real servers.", {
  address: endpoint("`ADDR:PORT` (`[V6]:PORT`); exactly one of address, fwmark, group.", {
    portOptional: true,
    flatten: true,
    keepalived: "virtual_server IP PORT",
  }),
  fwmark: int("Firewall mark of the service.", 1, 4294967295, {
    keepalived: "virtual_server fwmark",
  }),
  group: str("Name of an entry of virtual_server_groups.", { keepalived: "virtual_server group" }),
  family: family("Address family of a fwmark or group service.", {
    defaultDoc: "the address's family; for fwmark the real servers', else ipv4",
    filled: true,
    keepalived: "ip_family",
  }),
  protocol: oneOf("Transport protocol.", ["TCP", "UDP", "SCTP"], {
    default: "TCP",
    keepalived: "protocol",
  }),
  scheduler: oneOf("IPVS scheduler.", SCHEDULERS, {
    default: "wlc",
    keepalived: "lb_algo / lvs_sched",
  }),
  scheduler_flags: list(
    "Scheduler flags (sh-* only with sh, mh-* only with mh).",
    oneOf(
      "A flag.",
      SCHEDULER_FLAGS,
    ),
    { keepalived: "sh-port, sh-fallback, mh-port, mh-fallback, flag-N" },
  ),
  forwarding: oneOf("Forwarding method of the real servers.", FORWARDING, {
    default: "NAT",
    keepalived: "lb_kind / lvs_method",
  }),
  tunnel_type: oneOf("Tunnel encapsulation (forwarding TUN only).", TUNNEL_TYPES, {
    defaultDoc: "ipip when forwarding is TUN",
    keepalived: "lvs_method TUN type",
  }),
  tunnel_port: int("GUE destination port (tunnel_type gue only).", 1, 65535, {
    keepalived: "lvs_method TUN type gue port",
  }),
  persistence_timeout: dur("Client affinity timeout (0 = no persistence).", {
    default: "0s",
    maxMs: 4294967295000,
    keepalived: "persistence_timeout",
  }),
  persistence_granularity: str("Netmask (IPv4) or prefix length (IPv6) grouping clients.", {
    keepalived: "persistence_granularity",
  }),
  delay_loop: dur("Default time between checks of the real servers.", {
    default: "60s",
    minMs: 1,
    keepalived: "delay_loop",
  }),
  inhibit_on_failure: bool("Default of the real servers' inhibit_on_failure.", {
    default: false,
    keepalived: "inhibit_on_failure (flag)",
  }),
  quorum: int("Total weight of live servers needed for the service to be up.", 0, 4294967295, {
    default: 1,
    keepalived: "quorum",
  }),
  hysteresis: int("Weight tolerance around the quorum.", 0, 4294967295, {
    default: 0,
    keepalived: "hysteresis",
  }),
  quorum_up: script("Run when the quorum is gained.", "quorum_up"),
  quorum_down: script("Run when the quorum is lost.", "quorum_down"),
  smtp_alert: bool(
    "E-mail on quorum changes and (unless they say otherwise) real server changes.",
    {
      defaultDoc: "global smtp_alert_checker, else smtp_alert",
      keepalived: "smtp_alert",
    },
  ),
  alpha: bool("Real servers start down until their checks pass.", {
    default: false,
    keepalived: "alpha (flag)",
  }),
  omega: bool("Run quorum_down and notify_down scripts on shutdown.", {
    default: false,
    keepalived: "omega (flag)",
  }),
  ops: bool("One-packet scheduling (UDP).", { default: false, keepalived: "ops (flag)" }),
  sorry_server: endpoint("Server used while the quorum is lost.", {
    portOptional: true,
    keepalived: "sorry_server",
  }),
  real_servers: list("The real servers.", REAL_SERVER, { keepalived: "real_server" }),
  announce: bool(
    "While the quorum holds, its addresses are host routes in global.announce's table (no IPVS needed).",
    { default: false },
  ),
});

/** The whole configuration file. */
export const CONFIG = obj("config", "A haagent configuration file.", {
  global: GLOBAL,
  scripts: { kind: "map", doc: "Check scripts by name (vrrp_script).", of: SCRIPT, default: {} },
  processes: {
    kind: "map",
    doc: "Tracked processes by name (vrrp_track_process).",
    of: PROCESS,
    default: {},
  },
  vrrp_instances: {
    kind: "map",
    doc: "Virtual routers by name (vrrp_instance).",
    of: INSTANCE,
    asList: true,
    default: {},
  },
  sync_groups: {
    kind: "map",
    doc: "Sync groups by name (vrrp_sync_group).",
    of: SYNC_GROUP,
    asList: true,
    default: {},
  },
  virtual_server_groups: {
    kind: "map",
    doc: "Virtual server groups by name (virtual_server_group).",
    of: list("Entries of the group.", VS_GROUP_ENTRY, { minItems: 1 }),
    default: {},
  },
  virtual_servers: list("IPVS services (virtual_server).", VIRTUAL_SERVER),
  static_ipaddresses: list(
    "Addresses added at start whatever the VRRP state, removed at stop.",
    STATIC_ADDRESS,
    { out: "staticAddresses", keepalived: "static_ipaddress" },
  ),
  static_routes: list("Routes added at start whatever the VRRP state, removed at stop.", ROUTE, {
    keepalived: "static_routes",
  }),
  static_rules: list("Rules added at start whatever the VRRP state, removed at stop.", RULE, {
    keepalived: "static_rules",
  }),
});

/** The output name of a key: `spec.out`, else camelCase with `Ms` for durations. */
export function outName(key: string, spec: Spec): string {
  if (spec.out !== undefined) return spec.out;
  const camel = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return spec.kind === "duration" ? `${camel}Ms` : camel;
}
