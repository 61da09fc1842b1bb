/**
 * Flag parsing shared by the subcommands: the rules and messages of `node:util`'s strict
 * `parseArgs` (with positionals), re-implemented so that the command line does not load
 * Deno's Node compatibility layer (its first `node:` module costs 13-30 ms of start-up here);
 * args_test.ts compares the two on every shape of argument. Errors are `UsageError`s.
 *
 * @module
 */
import { UsageError } from "./exit.ts";

/** A flag definition, as for parseArgs. */
export type FlagSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/** Parsed flags and positionals. */
export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One option as written: its long name, how it was spelled, its value and whether inline. */
interface OptionToken {
  name: string;
  rawName: string;
  value: string | undefined;
  inline: boolean;
}

/** Parses `args` against `flags` (always with `--help`/`-h`); throws UsageError on bad input. */
export function parseFlags(args: string[], flags: FlagSpec, maxPositionals = 0): Parsed {
  const { values, positionals } = parseStrict(args, {
    ...flags,
    help: { type: "boolean", short: "h" },
  });
  if (positionals.length > maxPositionals && values.help !== true) {
    throw new UsageError(`unexpected argument "${positionals[maxPositionals]}"`);
  }
  return { values, positionals };
}

/**
 * parseArgs({ args, options, strict: true, allowPositionals: true }), its error messages
 * without the hint on positionals that start with a dash.
 */
export function parseStrict(args: readonly string[], options: FlagSpec): Parsed {
  const own = (name: string) => Object.hasOwn(options, name) ? options[name] : undefined;
  const longOf = (short: string) =>
    Object.keys(options).find((k) => options[k]!.short === short) ?? short;
  const isString = (name: string) => own(name)?.type === "string";
  const values: Parsed["values"] = Object.create(null);
  const positionals: string[] = [];
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg === "--") {
      positionals.push(...rest);
      break;
    }
    let token: OptionToken;
    if (arg.length === 2 && arg[0] === "-" && arg[1] !== "-") {
      // -f [VALUE]
      const name = longOf(arg[1]!);
      const value = isString(name) && rest.length > 0 ? rest.shift() : undefined;
      token = { name, rawName: arg, value, inline: false };
    } else if (arg.length > 2 && arg[0] === "-" && arg[1] !== "-") {
      const name = longOf(arg[1]!);
      if (isString(name)) {
        // -fVALUE
        token = { name, rawName: `-${arg[1]}`, value: arg.slice(2), inline: true };
      } else {
        // -abc, -abfVALUE: one flag per letter, a string flag takes the rest.
        const expanded: string[] = [];
        for (let i = 1; i < arg.length; i++) {
          if (!isString(longOf(arg[i]!)) || i === arg.length - 1) {
            expanded.push(`-${arg[i]}`);
          } else {
            expanded.push(`-${arg.slice(i)}`);
            break;
          }
        }
        rest.unshift(...expanded);
        continue;
      }
    } else if (arg.length > 2 && arg.startsWith("--")) {
      const eq = arg.indexOf("=", 3);
      if (eq === -1) {
        // --name [VALUE]
        const name = arg.slice(2);
        const value = isString(name) && rest.length > 0 ? rest.shift() : undefined;
        token = { name, rawName: arg, value, inline: false };
      } else {
        // --name=VALUE
        const name = arg.slice(2, eq);
        token = { name, rawName: `--${name}`, value: arg.slice(eq + 1), inline: true };
      }
    } else {
      positionals.push(arg);
      continue;
    }
    check(token, own(token.name));
    if (token.name === "__proto__") continue;
    const v = token.value ?? true;
    if (own(token.name)?.multiple) {
      const list = (values[token.name] ?? []) as unknown as (string | boolean)[];
      list.push(v);
      values[token.name] = list as unknown as string;
    } else {
      values[token.name] = v;
    }
  }
  return { values, positionals };
}

function check(t: OptionToken, spec: FlagSpec[string] | undefined): void {
  if (spec === undefined) throw new UsageError(`Unknown option '${t.rawName}'`);
  const names = `${spec.short ? `-${spec.short}, ` : ""}--${t.name}`;
  if (spec.type === "string" && t.value === undefined) {
    throw new UsageError(`Option '${names} <value>' argument missing`);
  }
  if (spec.type === "boolean" && t.value !== undefined) {
    throw new UsageError(`Option '${names}' does not take an argument`);
  }
  if (!t.inline && t.value !== undefined && t.value.length > 1 && t.value[0] === "-") {
    const example = t.rawName.startsWith("--")
      ? `'${t.rawName}=-XYZ'`
      : `'--${t.name}=-XYZ' or '${t.rawName}-XYZ'`;
    throw new UsageError(
      `Option '${t.rawName}' argument is ambiguous.\n` +
        `Did you forget to specify the option argument for '${t.rawName}'?\n` +
        `To specify an option argument starting with a dash use ${example}.`,
    );
  }
}

/** The string value of a flag, or undefined. */
export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === "string" ? v : undefined;
}
