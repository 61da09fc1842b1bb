/**
 * The parts of the `yaml` package (npm:yaml, pinned in deno.json) that reading a configuration
 * needs, loaded from its ES module build (`browser/`, the same sources as its CommonJS `dist/`).
 * Deno resolves the package's `node` export, the CommonJS build, whose loading goes through
 * Deno's Node compatibility layer: 75-95 ms of start-up here against 12-17 ms for the ES
 * module build, on the path from exec to the first advert. The builds differ in two places
 * only: warnings go to console.warn instead of process.emitWarning, and `!!binary` decodes with
 * atob instead of Buffer; the debugging variables LOG_STREAM / LOG_TOKENS are not read. When the
 * ES module build cannot be loaded (a packaging that leaves it out), the package's own entry
 * is used. Types come from "yaml" itself (type-only imports load nothing).
 *
 * @module
 */
import type * as Yaml from "yaml";

/** The package loaded from its ES module build, or from its own entry when that fails. */
export async function loadYaml(): Promise<typeof Yaml> {
  try {
    const pkg = import.meta.resolve("yaml/package.json");
    return await import(new URL("browser/index.js", pkg).href) as typeof Yaml;
  } catch {
    return await import("yaml");
  }
}

const yaml = await loadYaml();

/** yaml's isAlias. */
export const isAlias: typeof Yaml.isAlias = yaml.isAlias;
/** yaml's isMap. */
export const isMap: typeof Yaml.isMap = yaml.isMap;
/** yaml's isPair. */
export const isPair: typeof Yaml.isPair = yaml.isPair;
/** yaml's isScalar. */
export const isScalar: typeof Yaml.isScalar = yaml.isScalar;
/** yaml's isSeq. */
export const isSeq: typeof Yaml.isSeq = yaml.isSeq;
/** yaml's parseDocument. */
export const parseDocument: typeof Yaml.parseDocument = yaml.parseDocument;
/** yaml's LineCounter. */
export const LineCounter: typeof Yaml.LineCounter = yaml.LineCounter;
