/**
 * Instance specs for tests: one VRRPv3 IPv4 instance "VI_1", VRID 51, priority 100 on eth0 with
 * the VIPs 10.0.0.100 and .101; override what a test needs.
 *
 * @module
 */
import type { InstanceSpec, VipSpec } from "../../lib/vrrp/runner.ts";

/** A VIP /24 on the instance's interface (or `device`). */
export function vip(address: string, device: string | null = null): VipSpec {
  return { family: "ipv4", address, prefix: 24, device, label: null, scope: null, excluded: false };
}

/** The test instance's spec with `over` applied. */
export function instanceSpec(over: Partial<InstanceSpec> = {}): InstanceSpec {
  return {
    name: "VI_1",
    interface: "eth0",
    vrid: 51,
    version: 3,
    family: "ipv4",
    priority: 100,
    advertIntervalCs: 100,
    initialState: "BACKUP",
    preempt: true,
    preemptDelayMs: 0,
    authPassword: null,
    unicastSrc: null,
    unicastPeers: [],
    vips: [vip("10.0.0.100"), vip("10.0.0.101")],
    routes: [],
    rules: [],
    v3Checksum: "rfc9568",
    announce: { repeat: 2, delayMs: 0, refreshMs: 0, intervalMs: 0 },
    ...over,
  };
}
