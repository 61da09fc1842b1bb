/**
 * The configuration: schema (the single source of keys, types and defaults), YAML loading with
 * positions and cross-field rules, JSON Schema for editors, and the normalized Config types.
 *
 * @module
 */
export { loadConfigFile, loadConfigText, type LoadOptions, type LoadResult } from "./load.ts";
export { type ConfigIssue, formatIssue, type SourcePos } from "./errors.ts";
export { jsonSchema, markdownReference } from "./json_schema.ts";
export { formatDuration, parseDuration } from "./duration.ts";
export { CONFIG, SCHEDULER_FLAGS, SCHEDULERS, type Spec } from "./schema.ts";
export type * from "./types.ts";
