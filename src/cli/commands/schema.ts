import type { Command } from 'commander';
import { policyJsonSchema } from '../../policy/schema.js';
import { out } from '../output.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema (draft 2020-12) of the policy file, for editor completion and checks')
    .addHelpText(
      'after',
      `
Examples:
  $ tenantctl schema > policies.schema.json
  then start policies.yaml with:  # yaml-language-server: $schema=./policies.schema.json`,
    )
    .action(() => {
      out(JSON.stringify(policyJsonSchema(), null, 2));
    });
}
