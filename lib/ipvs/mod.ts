/**
 * IPVS: kernel-level types, the generic netlink codec, the pure diff, keepalived's mapping of
 * virtual servers to IPVS state, and the manager that reconciles the kernel.
 *
 * @module
 */

export * from "./types.ts";
export * from "./codec.ts";
export * from "./diff.ts";
export * from "./manager.ts";
