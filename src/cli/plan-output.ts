// How a plan is shown: text (grouped by object, with effects), json (stable, for machines), sql, markdown.
import { summarize, type Plan, type Step } from '../plan/types.js';
import { colour } from './output.js';

export type PlanFormat = 'text' | 'json' | 'sql' | 'markdown';

const SIGN: Record<Step['action'], string> = { create: '+', update: '~', replace: '-/+', drop: '-' };

/** Does the plan give anyone access (for `--fail-on widening`)? `review` counts unless allowed. */
export function planWidens(plan: Plan, allowReview: boolean): boolean {
  return plan.steps.some((s) => s.effect === 'widens' || (s.effect === 'review' && !allowReview));
}

function effectCounts(plan: Plan): Record<Step['effect'] | 'drift', number> {
  const n = (e: Step['effect']): number => plan.steps.filter((s) => s.effect === e).length;
  return { widens: n('widens'), narrows: n('narrows'), review: n('review'), neutral: n('neutral'), drift: plan.steps.filter((s) => s.reason?.startsWith('drift:')).length };
}

export function summaryLine(plan: Plan): string {
  const s = summarize(plan);
  return `Plan: ${s.add} to add, ${s.change} to change, ${s.remove} to remove.`;
}

export function renderPlan(plan: Plan, format: PlanFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(
        {
          format_version: 1,
          summary: { ...summarize(plan), ...effectCounts(plan) },
          changes: plan.steps.map((s) => ({ object: s.object, action: s.action, effect: s.effect, drift: s.reason?.startsWith('drift:') ?? false, ...(s.reason ? { reason: s.reason } : {}), sql: s.display })),
          notes: plan.notes,
        },
        null,
        2,
      );
    case 'sql':
      return plan.steps.length === 0 ? '-- No changes.' : ['BEGIN;', ...plan.steps.flatMap((s) => [`-- ${s.action} ${s.object} (${s.effect})`, ...s.display.map((q) => `${q.replace(/;\s*$/, '')};`)]), 'COMMIT;'].join('\n');
    case 'markdown': {
      if (plan.steps.length === 0) return '**No changes.**';
      const rows = plan.steps.map((s) => `| ${s.action} | \`${s.object}\` | ${s.effect} | ${s.reason ?? ''} |`);
      return [`**${summaryLine(plan)}**`, '', '| action | object | effect | why |', '|---|---|---|---|', ...rows, '', '<details><summary>SQL</summary>', '', '```sql', ...plan.steps.flatMap((s) => s.display.map((q) => `${q.replace(/;\s*$/, '')};`)), '```', '</details>'].join('\n');
    }
    case 'text': {
      if (plan.steps.length === 0) return 'No changes.';
      const lines: string[] = [];
      for (const s of plan.steps) {
        const paint = s.action === 'create' ? colour.green : s.action === 'drop' ? colour.red : colour.yellow;
        const effect = s.effect === 'widens' ? colour.yellow('widens access') : s.effect === 'narrows' ? colour.cyan('narrows access') : s.effect === 'review' ? colour.magenta('review: effect depends on the data') : 'neutral';
        lines.push(paint(`${SIGN[s.action]} ${s.action} ${s.object}`) + `  (${effect}${s.reason ? `; ${s.reason}` : ''})`);
        for (const q of s.display) lines.push(...indent(q));
      }
      lines.push('', summaryLine(plan));
      return lines.join('\n');
    }
  }
}

function indent(statement: string): string[] {
  const text = statement.length > 400 && statement.includes('\n') ? statement.split('\n').slice(0, 3).join('\n') + '\n...' : statement;
  return text.split('\n').map((l) => `    ${l}`);
}
