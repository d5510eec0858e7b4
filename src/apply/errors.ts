// The errors of plan and apply that the CLI reports as plain messages (exit 1), in a module that loads nothing
// heavy: the CLI imports it before it has loaded the database side (which it loads while the file is checked).
import { describeServerError, type ServerErrorFields } from '../pg/errors.js';

/** The tenant registry's migrations have not run in the database. */
export class RegistryMissingError extends Error {
  override name = 'RegistryMissingError';
}

/** Every attempt of apply found a table lock held longer than --lock-timeout. */
export class LockTimeoutRetriesExhausted extends Error {
  override name = 'LockTimeoutRetriesExhausted';
}

/** A statement of the plan failed: which object, which statement (secrets redacted), the server's error. */
export class StatementError extends Error {
  override name = 'StatementError';
  constructor(
    readonly object: string,
    readonly statement: string,
    readonly serverError: Error & ServerErrorFields,
  ) {
    const shown = statement.length > 300 ? `${statement.slice(0, 300)}...` : statement;
    super(`${object}: ${describeServerError(serverError)}\nstatement: ${shown}\nnothing was applied`);
  }
}
