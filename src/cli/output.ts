import { Chalk } from 'chalk';

/** Colour only on a TTY and never with NO_COLOR (cli.md, "Output"). */
export function useColour(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && process.env['NO_COLOR'] === undefined;
}

export const colour = new Chalk({ level: useColour() ? 1 : 0 });
export const errColour = new Chalk({ level: useColour(process.stderr) ? 1 : 0 });

export function out(line = ''): void {
  process.stdout.write(line + '\n');
}

/**
 * `out()` for a line that must arrive: resolves once it is written, rejects when stdout fails (a reader that
 * went away, a full disk). Text output is dropped quietly when its reader has gone (bin/tenantctl); a secret
 * shown only once is not, so its command can roll back instead of keeping what nobody received.
 */
export function deliver(line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(line + '\n', (e) => (e ? reject(e) : resolve()));
  });
}

export function err(line: string): void {
  process.stderr.write(line + '\n');
}
