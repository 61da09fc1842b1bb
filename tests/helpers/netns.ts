/**
 * Namespace labs for integration tests: re-exported from lib/demo/lab.ts, which the demo uses
 * too.
 *
 * @module
 */
export * from "../../lib/demo/lab.ts";
