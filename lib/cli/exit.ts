/**
 * Exit codes of every haagent subcommand (documented in README.md).
 *
 * @module
 */

/** Success. */
export const EXIT_OK = 0;
/** Invalid configuration, a failed conversion, or the agent failed at run time. */
export const EXIT_FAILURE = 1;
/** Wrong command-line usage (unknown flag, missing argument). */
export const EXIT_USAGE = 2;
/** `status` / `reload`: no agent answered on the control socket. */
export const EXIT_UNREACHABLE = 3;

/** A command-line usage error; printed with the command's usage line, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
