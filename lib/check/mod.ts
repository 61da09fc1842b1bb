/**
 * Health checkers: one file per kind (TCP, HTTP/SSL, MISC, SMTP, DNS, UDP, PING, FILE), the
 * rise/fall reducer and the scheduler that runs them with keepalived's retry semantics.
 *
 * @module
 */
export * from "./types.ts";
export * from "./make_checker.ts";
export * from "./scheduler.ts";
export * from "./rise_fall.ts";
export { IcmpService } from "./icmp.ts";
export { md5Hex } from "./http.ts";
