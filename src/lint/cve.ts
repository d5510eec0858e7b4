// PostgreSQL minor releases with known row-security holes. A server below the fixed minor of its major is reported.
//
// Fixed versions, per the PostgreSQL security announcements and release notes:
// - CVE-2023-2455 "Row security policies disregard user ID changes after inlining": fixed in 15.3, 14.8, 13.11,
//   12.15, 11.20 (release of 2023-05-11; https://www.postgresql.org/support/security/CVE-2023-2455/,
//   https://osv.dev/vulnerability/BIT-postgresql-2023-2455). 16 and later were released fixed.
// - CVE-2024-10976 "PostgreSQL row security below e.g. subqueries disregards user ID changes" and
// - CVE-2024-10978 "PostgreSQL SET ROLE, SET SESSION AUTHORIZATION reset to the wrong user ID": both fixed in 17.1,
//   16.5, 15.9, 14.14, 13.17, 12.21 (release of 2024-11-14; https://www.postgresql.org/support/security/CVE-2024-10976/,
//   https://www.postgresql.org/support/security/CVE-2024-10978/).
// - CVE-2025-8713 "PostgreSQL optimizer statistics can expose sampled data within a view, partition, or child table":
//   fixed in 17.6, 16.10, 15.14, 14.19, 13.22 (release of 2025-08-14; "Versions before PostgreSQL 17.6, 16.10,
//   15.14, 14.19, and 13.22 are affected", https://www.postgresql.org/support/security/CVE-2025-8713/,
//   https://osv.dev/vulnerability/BIT-postgresql-2025-8713). 12 and older got no fix (end of life); 18 was released fixed.

export interface RlsCve {
  readonly id: string;
  readonly title: string;
  /** major -> first fixed minor. A major below `firstAffectedMajor`.. not listed and below `fixedFromMajor` has no fix. */
  readonly fixed: Readonly<Record<number, number>>;
  /** The first major released with the fix (every minor of it and of later majors is safe). */
  readonly fixedFromMajor: number;
}

export const RLS_CVES: readonly RlsCve[] = [
  { id: 'CVE-2023-2455', title: 'row security policies disregard user ID changes after inlining', fixed: { 11: 20, 12: 15, 13: 11, 14: 8, 15: 3 }, fixedFromMajor: 16 },
  { id: 'CVE-2024-10976', title: 'row security below subqueries disregards user ID changes', fixed: { 12: 21, 13: 17, 14: 14, 15: 9, 16: 5, 17: 1 }, fixedFromMajor: 18 },
  { id: 'CVE-2024-10978', title: 'SET ROLE / SET SESSION AUTHORIZATION reset to the wrong user ID', fixed: { 12: 21, 13: 17, 14: 14, 15: 9, 16: 5, 17: 1 }, fixedFromMajor: 18 },
  { id: 'CVE-2025-8713', title: 'optimizer statistics expose sampled rows of views, partitions and child tables', fixed: { 13: 22, 14: 19, 15: 14, 16: 10, 17: 6 }, fixedFromMajor: 18 },
];

/** server_version_num (e.g. 150018) -> [major, minor]; for 9.x, major 9. */
export function splitVersion(num: number): { major: number; minor: number } {
  if (num >= 100000) return { major: Math.floor(num / 10000), minor: num % 10000 };
  return { major: Math.floor(num / 10000), minor: num % 100 };
}

/** The CVEs that a server of this server_version_num is exposed to, each with the minor that fixes it (if any). */
export function cvesFor(num: number): { cve: RlsCve; fixedIn?: string }[] {
  const { major, minor } = splitVersion(num);
  const out: { cve: RlsCve; fixedIn?: string }[] = [];
  for (const cve of RLS_CVES) {
    if (major >= cve.fixedFromMajor) continue;
    const fixedMinor = cve.fixed[major];
    if (fixedMinor === undefined) {
      out.push({ cve });
    } else if (minor < fixedMinor) {
      out.push({ cve, fixedIn: `${major}.${fixedMinor}` });
    }
  }
  return out;
}
