// The server-version check over version numbers: below each major's fixed minor it warns, at or above it does not.
import { describe, expect, it } from 'vitest';
import { checkServerVersion } from '../../../src/lint/checks.js';
import { cvesFor, splitVersion } from '../../../src/lint/cve.js';
import type { LintFacts } from '../../../src/lint/types.js';
import { catalog } from '../helpers/catalog.js';

const ids = (num: number): string[] => cvesFor(num).map((h) => `${h.cve.id}${h.fixedIn ? `<${h.fixedIn}` : ' (no fix)'}`);

describe('cvesFor', () => {
  it('splits server_version_num', () => {
    expect(splitVersion(150018)).toEqual({ major: 15, minor: 18 });
    expect(splitVersion(180004)).toEqual({ major: 18, minor: 4 });
    expect(splitVersion(90624)).toEqual({ major: 9, minor: 24 });
  });

  it('the servers the tests run on (15.18, 18.4) have none', () => {
    expect(cvesFor(150018)).toEqual([]);
    expect(cvesFor(180004)).toEqual([]);
    expect(cvesFor(180000)).toEqual([]);
  });

  it('reports exactly the CVEs whose fixed minor is above the running one', () => {
    expect(ids(150002)).toEqual(['CVE-2023-2455<15.3', 'CVE-2024-10976<15.9', 'CVE-2024-10978<15.9', 'CVE-2025-8713<15.14']);
    expect(ids(150003)).toEqual(['CVE-2024-10976<15.9', 'CVE-2024-10978<15.9', 'CVE-2025-8713<15.14']);
    expect(ids(150009)).toEqual(['CVE-2025-8713<15.14']);
    expect(ids(150013)).toEqual(['CVE-2025-8713<15.14']);
    expect(ids(150014)).toEqual([]);
    expect(ids(160004)).toEqual(['CVE-2024-10976<16.5', 'CVE-2024-10978<16.5', 'CVE-2025-8713<16.10']);
    expect(ids(160010)).toEqual([]);
    expect(ids(170000)).toEqual(['CVE-2024-10976<17.1', 'CVE-2024-10978<17.1', 'CVE-2025-8713<17.6']);
    expect(ids(170005)).toEqual(['CVE-2025-8713<17.6']);
    expect(ids(170006)).toEqual([]);
    expect(ids(140018)).toEqual(['CVE-2025-8713<14.19']);
    expect(ids(140019)).toEqual([]);
    expect(ids(130021)).toEqual(['CVE-2025-8713<13.22']);
    expect(ids(130022)).toEqual([]);
  });

  it('majors past end of life without a fix are always reported', () => {
    expect(ids(120022)).toEqual(['CVE-2025-8713 (no fix)']);
    expect(ids(110022)).toEqual(['CVE-2024-10976 (no fix)', 'CVE-2024-10978 (no fix)', 'CVE-2025-8713 (no fix)']);
  });
});

describe('checkServerVersion', () => {
  const facts = (v: string): LintFacts => ({ governedSchemas: ['public'], governedFrom: 'catalog', serverVersion: v, databasePublic: [], indexes: [], securityDefinerFunctions: [], schemaAcls: [], adminOnlyMemberships: [] });

  it('one warning naming the CVEs and the minor to upgrade to', () => {
    const findings = checkServerVersion({ catalog: { ...catalog(), serverVersionNum: 160004 }, facts: facts('16.4') });
    expect(findings).toEqual([
      {
        level: 'warning',
        check: 'server-version-cve',
        object: 'server 16.4',
        why:
          'this minor release has known row-security vulnerabilities: CVE-2024-10976 (row security below subqueries disregards user ID changes, fixed in 16.5); CVE-2024-10978 (SET ROLE / SET SESSION AUTHORIZATION reset to the wrong user ID, fixed in 16.5); CVE-2025-8713 (optimizer statistics expose sampled rows of views, partitions and child tables, fixed in 16.10)',
        fix: 'upgrade to the latest 16.x minor release (at least 16.10); minor upgrades need no dump/restore',
      },
    ]);
  });

  it('an end-of-life major is told to upgrade the major; a fixed server gets nothing', () => {
    expect(checkServerVersion({ catalog: { ...catalog(), serverVersionNum: 120020 }, facts: facts('12.20') })[0]?.fix).toBe(
      'upgrade to a supported major version (PostgreSQL 12 gets no more fixes)',
    );
    expect(checkServerVersion({ catalog: catalog(), facts: facts('15.18') })).toEqual([]);
  });
});
