// How a policy diff is shown: text (grouped by subject), json (stable, documented in docs/ci.md) and markdown
// (a pull-request comment). Pure: colour is the caller's business.
import type { Change, DiffResult } from './diff.js';

export type DiffFormat = 'text' | 'json' | 'markdown';

export interface DiffSides {
  readonly old: string;
  readonly new: string;
}

export function diffSummaryLine(result: DiffResult): string {
  const s = result.summary;
  if (s.changes === 0) return 'No changes in access.';
  return `Diff: ${s.changes} change${s.changes === 1 ? '' : 's'}: ${s.widens} widens, ${s.narrows} narrows, ${s.review} to review, ${s.neutral} neutral.`;
}

const LABEL: Record<Change['effect'], string> = { widens: 'widens', narrows: 'narrows', review: 'review', neutral: 'neutral' };

function groups(changes: readonly Change[]): Map<string, Change[]> {
  const bySubject = new Map<string, Change[]>();
  for (const c of changes) bySubject.set(c.subject, [...(bySubject.get(c.subject) ?? []), c]);
  return bySubject;
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderDiff(result: DiffResult, format: DiffFormat, sides: DiffSides): string {
  switch (format) {
    case 'json':
      return JSON.stringify(
        {
          format_version: 1,
          old: sides.old,
          new: sides.new,
          summary: result.summary,
          changes: result.changes.map((c) => ({ subject: c.subject, ...(c.table === undefined ? {} : { table: c.table }), aspect: c.aspect, effect: c.effect, detail: c.detail })),
        },
        null,
        2,
      );
    case 'markdown': {
      const head = `### tenantctl diff: \`${sides.old}\` → \`${sides.new}\``;
      if (result.changes.length === 0) return `${head}\n\n**No changes in access.**`;
      const rows = result.changes.map((c) => `| ${c.effect === 'widens' ? '**widens**' : c.effect === 'review' ? '*review*' : LABEL[c.effect]} | ${escapeCell(c.subject)} | ${c.table === undefined ? '' : `\`${c.table}\``} | ${escapeCell(c.detail)} |`);
      return [head, '', `**${diffSummaryLine(result)}**`, '', '| effect | who | table | change |', '|---|---|---|---|', ...rows].join('\n');
    }
    case 'text': {
      if (result.changes.length === 0) return 'No changes in access.';
      const lines: string[] = [];
      for (const [subject, changes] of groups(result.changes)) {
        lines.push(subject);
        for (const c of changes) lines.push(`  [${LABEL[c.effect]}] ${c.table === undefined ? '' : `${c.table}: `}${c.detail}`);
      }
      lines.push('', diffSummaryLine(result));
      return lines.join('\n');
    }
  }
}
