/**
 * Netlink: message and attribute codecs (pure), connections (real and fake), rtnetlink
 * (links, addresses, routes, events) and generic netlink (family resolution).
 *
 * @module
 */

export * from "./message.ts";
export * from "./attrs.ts";
export * from "./client.ts";
export * from "./fake.ts";
export * from "./rtnl.ts";
export * from "./rule.ts";
export * from "./genl.ts";
