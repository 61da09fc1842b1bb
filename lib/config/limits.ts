/**
 * What a configuration file may cost: the bounds checked before and after the YAML is parsed,
 * so that no file (an alias bomb, a 50 MB file, /dev/zero, 10,000 nested brackets) can take
 * more than a fraction of a second or a few hundred MB to refuse. Each bound is far above what
 * a real configuration needs (the largest published keepalived setup, 2,284 virtual servers
 * with 37,298 real servers, is about 8 MB of YAML and 600,000 nodes).
 *
 * @module
 */

/** The largest configuration file read, in bytes (16 MiB). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** The deepest nesting of mappings and lists, counted through aliases (haagent's keys use 8). */
export const MAX_DEPTH = 64;

/** The most entries one mapping or list may have. */
export const MAX_ITEMS = 100_000;

/** The most nodes (scalars, mappings, lists) the document may have with its aliases expanded. */
export const MAX_NODES = 2_000_000;

/** The most errors (and, separately, warnings) reported for one file; the rest are counted. */
export const MAX_ISSUES = 100;
