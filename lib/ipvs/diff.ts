/**
 * Desired IPVS state against the kernel's, pure: the fewest operations that make the kernel
 * match, in a fixed order (destination deletes, then service deletes, then per desired service
 * its add or edit followed by its destinations' adds and edits).
 *
 * @module
 */

import {
  canonicalAddress,
  type DesiredService,
  type Destination,
  destinationName,
  type Service,
  type ServiceFlags,
  type ServiceKey,
  serviceName,
} from "./types.ts";

/** One change to apply to the kernel. */
export type Op =
  | { op: "add-service"; service: Service }
  | { op: "edit-service"; service: Service }
  | { op: "delete-service"; key: ServiceKey }
  | { op: "add-dest"; key: ServiceKey; dest: Destination }
  | { op: "edit-dest"; key: ServiceKey; dest: Destination }
  | { op: "delete-dest"; key: ServiceKey; dest: Destination };

/** A one-line description of an op for logs: `add-dest TCP 10.0.0.50:80 -> 10.0.0.11:80`. */
export function describeOp(op: Op): string {
  switch (op.op) {
    case "add-service":
    case "edit-service":
      return `${op.op} ${serviceName(op.service.key)}`;
    case "delete-service":
      return `${op.op} ${serviceName(op.key)}`;
    case "add-dest":
    case "edit-dest":
    case "delete-dest":
      return `${op.op} ${serviceName(op.key)} -> ${destinationName(op.dest)}`;
  }
}

function flagBits(f: ServiceFlags): string {
  // sh-* and mh-* are the same kernel bits (IP_VS_SVC_F_SCHED1/2).
  const sched1 = f.shFallback === true || f.mhFallback === true;
  const sched2 = f.shPort === true || f.mhPort === true;
  return `${f.persistent === true}/${f.onePacket === true}/${sched1}/${sched2}`;
}

/** Whether the kernel-visible settings of two services (same key) are equal. */
export function sameServiceSettings(a: Service, b: Service): boolean {
  return a.scheduler === b.scheduler && flagBits(a.flags) === flagBits(b.flags) &&
    a.timeoutS === b.timeoutS && canonicalAddress(a.netmask) === canonicalAddress(b.netmask);
}

/** Whether a destination as found in the kernel already has the desired settings. */
export function sameDestSettings(desired: Destination, actual: Destination): boolean {
  // The kernel turns the forwarding of a local address into "local" whatever was asked.
  if (actual.forwarding !== "local" && desired.forwarding !== actual.forwarding) return false;
  if (desired.forwarding === "tun" && actual.forwarding === "tun") {
    if ((desired.tunnelType ?? "ipip") !== (actual.tunnelType ?? "ipip")) return false;
    if ((desired.tunnelPort ?? 0) !== (actual.tunnelPort ?? 0)) return false;
  }
  return desired.weight === actual.weight && desired.upperThreshold === actual.upperThreshold &&
    desired.lowerThreshold === actual.lowerThreshold;
}

function byName<T>(items: readonly T[], name: (t: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const t of items) {
    const n = name(t);
    if (!m.has(n)) m.set(n, t);
  }
  return m;
}

function serviceOnly(s: DesiredService): Service {
  const { destinations: _, stats: __, ...rest } = s;
  return rest;
}

function destOnly(d: Destination): Destination {
  const { stats: _, activeConns: __, inactiveConns: ___, ...rest } = d;
  return rest;
}

/** Whether `w` and `h[at]` name the same address text and port, with the desired settings. */
function matches(w: Destination, h: Destination | undefined): boolean {
  return h !== undefined && w.address === h.address && w.port === h.port &&
    sameDestSettings(w, h);
}

/**
 * A shortcut for the common case, with the same answer as the full comparison: every desired
 * destination found with its settings at the same place, in order or reversed (the kernel lists
 * the newest first), and nothing else. Exact text matches only; anything else takes the long way.
 */
function alreadyEqual(want: readonly Destination[], have: readonly Destination[]): boolean {
  const n = want.length;
  if (n !== have.length) return false;
  let forward = true;
  for (let i = 0; i < n && forward; i++) forward = matches(want[i]!, have[i]);
  if (forward) return true;
  for (let i = 0; i < n; i++) if (!matches(want[i]!, have[n - 1 - i])) return false;
  return true;
}

/**
 * The operations that turn `actual` into `desired`. Services in `actual` but not in `desired`
 * are deleted only when `owned(key)`; destinations of desired services are always made exact.
 * The first of duplicate services or destinations wins.
 */
export function diff(
  desired: readonly DesiredService[],
  actual: readonly DesiredService[],
  owned: (k: ServiceKey) => boolean,
): Op[] {
  const want = byName(desired, (s) => serviceName(s.key));
  const have = byName(actual, (s) => serviceName(s.key));
  const destDeletes: Op[] = [];
  const serviceDeletes: Op[] = [];
  const adds: Op[] = [];

  for (const [name, a] of have) {
    if (!want.has(name) && owned(a.key)) serviceDeletes.push({ op: "delete-service", key: a.key });
  }
  for (const [name, d] of want) {
    const a = have.get(name);
    if (a === undefined) {
      adds.push({ op: "add-service", service: serviceOnly(d) });
      for (const dest of byName(d.destinations, destinationName).values()) {
        adds.push({ op: "add-dest", key: d.key, dest: destOnly(dest) });
      }
      continue;
    }
    if (!sameServiceSettings(d, a)) adds.push({ op: "edit-service", service: serviceOnly(d) });
    if (alreadyEqual(d.destinations, a.destinations)) continue;
    const wantDests = byName(d.destinations, destinationName);
    const haveDests = byName(a.destinations, destinationName);
    for (const [dn, ad] of haveDests) {
      if (!wantDests.has(dn)) {
        destDeletes.push({ op: "delete-dest", key: a.key, dest: destOnly(ad) });
      }
    }
    for (const [dn, wd] of wantDests) {
      const ad = haveDests.get(dn);
      if (ad === undefined) adds.push({ op: "add-dest", key: d.key, dest: destOnly(wd) });
      else if (!sameDestSettings(wd, ad)) {
        adds.push({ op: "edit-dest", key: d.key, dest: destOnly(wd) });
      }
    }
  }
  return [...destDeletes, ...serviceDeletes, ...adds];
}
