import type { Command } from 'commander';
import ora from 'ora';
import {
  DEFAULT_DEMO_PORT,
  defaultDemoDir,
  demoDown,
  DemoError,
  demoLogins,
  demoUp,
  isDemoRunning,
  operatorUrl,
  QUICK_VERIFICATION,
  readDemoState,
  type DemoState,
} from '../../demo/demo.js';
import { CliError } from '../errors.js';
import { colour, out } from '../output.js';
import { positiveInteger } from '../options.js';

/** A spinner on a terminal; plain progress lines otherwise, so CI logs stay clean. */
function progress(): { step: (text: string) => void; done: (text: string) => void; fail: () => void } {
  if (process.stderr.isTTY && !process.env['CI']) {
    const spinner = ora({ stream: process.stderr }).start('demo');
    return { step: (t) => (spinner.text = t), done: (t) => spinner.succeed(t), fail: () => spinner.fail() };
  }
  return { step: (t) => process.stderr.write(`${t}\n`), done: () => {}, fail: () => {} };
}

function describe(state: DemoState): void {
  out(`Demo running: PostgreSQL (${state.provider}) at ${state.host}:${state.port}, database ${state.database}, data in ${state.dir}`);
  out('');
  out('Connect as each tenant\'s user:');
  const logins = demoLogins(state);
  const width = Math.max(...logins.map((l) => l.url.length));
  for (const l of logins) out(`  psql '${l.url}'${' '.repeat(width - l.url.length)}  # tenant ${l.tenant}`);
  out('');
  out('Then try:');
  for (const q of QUICK_VERIFICATION) out(`  ${q}`);
  out('');
  out('Operator login (runs tenantctl, reads no tenant data):');
  out(`  export DATABASE_URL='${operatorUrl(state)}'`);
  out('');
  out('Stop it and remove its data: tenantctl demo down');
}

interface DemoFlags {
  port: string;
  dir?: string;
}

export function registerDemo(program: Command): void {
  const demo = program
    .command('demo')
    .description('a local PostgreSQL with demo_ecommerce and its policies applied, for trying tenantctl')
    .addHelpText('after', '\nExamples:\n  $ tenantctl demo up\n  $ tenantctl demo status\n  $ tenantctl demo down');

  demo
    .command('up')
    .description('start the demo server (in the background) and print how to connect as alice, bob and charlie')
    .option('--port <port>', 'port on 127.0.0.1', String(DEFAULT_DEMO_PORT))
    .option('--dir <dir>', 'where the demo keeps its server and data', defaultDemoDir())
    .addHelpText('after', '\nExamples:\n  $ tenantctl demo up\n  $ tenantctl demo up --port 6543 --dir /tmp/my-demo')
    .action(async (flags: DemoFlags) => {
      const port = positiveInteger(flags.port, '--port') as number;
      const dir = flags.dir ?? defaultDemoDir();
      const p = progress();
      try {
        const result = await demoUp({ port, dir, log: p.step });
        if (result.kind === 'already-running') {
          p.done('the demo is already running; nothing was changed');
          out(colour.yellow('The demo is already running; nothing was changed.'));
        } else p.done('demo ready');
        describe(result.state);
      } catch (e) {
        p.fail();
        if (e instanceof DemoError) throw new CliError(e.message);
        throw e;
      }
    });

  demo
    .command('status')
    .description('say where the demo runs; exit 1 when it does not')
    .option('--dir <dir>', 'the demo directory', defaultDemoDir())
    .addHelpText('after', '\nExample:\n  $ tenantctl demo status')
    .action((flags: { dir: string }) => {
      const state = readDemoState(flags.dir);
      if (!state || !isDemoRunning(state)) {
        out(`No demo is running (${flags.dir}).`);
        process.exitCode = 1;
        return;
      }
      describe(state);
    });

  demo
    .command('down')
    .description('stop the demo server and remove its data')
    .option('--dir <dir>', 'the demo directory', defaultDemoDir())
    .addHelpText('after', '\nExample:\n  $ tenantctl demo down')
    .action((flags: { dir: string }) => {
      out(demoDown(flags.dir) ? `Demo stopped; ${flags.dir} removed.` : `No demo in ${flags.dir}; nothing to do.`);
    });
}
