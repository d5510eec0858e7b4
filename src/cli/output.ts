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

export function err(line: string): void {
  process.stderr.write(line + '\n');
}
