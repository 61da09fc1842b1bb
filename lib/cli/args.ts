/**
 * Flag parsing shared by the subcommands, on `node:util` parseArgs, turning its errors into
 * `UsageError`s.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./exit.ts";

/** A flag definition for parseArgs. */
export type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/** Parsed flags and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Parses `args` against `flags` (always with `--help`/`-h`); throws UsageError on bad input. */
export function parseFlags(args: string[], flags: FlagSpec, maxPositionals = 0): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...flags, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > maxPositionals && values.help !== true) {
      throw new UsageError(`unexpected argument "${positionals[maxPositionals]}"`);
    }
    return { values: values as Parsed["values"], positionals };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      e instanceof Error ? e.message.replace(/\. To specify.*$/s, "") : String(e),
    );
  }
}

/** The string value of a flag, or undefined. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
}
