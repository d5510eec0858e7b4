import { describeConnectionError, describeServerError, isServerError } from '../pg/errors.js';

/** An error the user caused or can fix: printed as one message, no stack trace, with an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** The text printed for any error that reaches the top level. */
export function formatError(e: unknown, debug: boolean): string {
  let text: string;
  if (e instanceof CliError) text = e.message;
  else if (isServerError(e)) text = describeServerError(e);
  else text = describeConnectionError(e) ?? (e instanceof Error ? e.message : String(e));
  if (debug && e instanceof Error && e.stack) text += '\n' + e.stack;
  return text;
}
