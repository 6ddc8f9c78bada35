/**
 * The transparency view's top line: am I flagged, why, what to do, what IT did about it, and
 * whether IT sees any of this. Built from the open findings, the policy's support settings and the
 * verified audit entries; the words come from common/plain-words.ts.
 */
import type { AuditEntry } from '../../common/audit';
import { SEVERITY_RANK, type Finding } from '../../common/findings';
import type { ReportingState, TopLine } from '../../common/ipc-contract';
import { findingAdvice, findingWhy, isAuditRead, itResponseWords, sameThingKey } from '../../common/plain-words';
import type { ResolvedPolicy } from '../../common/policy';

/** How far the collector's clock may be behind ours when matching IT's response to a finding. */
const RESPONSE_CLOCK_SLACK_MS = 60_000;

/** Findings that flag the laptop: medium or high, and not an approved tool. */
export function isConcerning(finding: Finding): boolean {
  return (finding.severity === 'medium' || finding.severity === 'high') && finding.kind !== 'approved-tool';
}

/**
 * Concerning findings, the one to name first: the device verdict only when nothing more specific
 * is open (its title is a summary, "Overall risk ... high", not a reason), then by severity, then
 * the most recently seen.
 */
export function rankConcerning(open: readonly Finding[]): Finding[] {
  return open
    .filter(isConcerning)
    .sort(
      (a, b) =>
        Number(a.kind === 'device-verdict') - Number(b.kind === 'device-verdict') ||
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        b.lastSeenAt - a.lastSeenAt,
    );
}

export interface TopLineInput {
  readonly open: readonly Finding[];
  readonly policy: ResolvedPolicy;
  readonly reporting: ReportingState;
  /** Verified audit entries, newest first (a recent tail is enough). */
  readonly audit: readonly AuditEntry[];
}

export function topLineOf(input: TopLineInput): TopLine {
  const ranked = rankConcerning(input.open);
  const first = ranked[0];
  // IT's reads are listed in their own section; the top line names IT's latest response, and when
  // flagged only one given since the named finding appeared: last month's "resolved" must not read
  // as an answer to today's finding. (Audit times are the collector's clock: a minute's slack.)
  const since = first === undefined ? -Infinity : first.firstSeenAt - RESPONSE_CLOCK_SLACK_MS;
  const response = input.audit.find((entry) => itResponseWords(entry.action) !== null && entry.at >= since);
  const lastRead = input.audit.find((entry) => isAuditRead(entry.action));
  const common = {
    contact: input.policy.support.contact,
    itResponse: response ? { action: response.action, words: itResponseWords(response.action)!, actor: response.actor, at: response.at, detail: response.detail } : null,
    lastItRead: lastRead?.at ?? null,
    reporting: input.reporting,
  };
  if (first === undefined) {
    return {
      flagged: false,
      headline: 'Nothing suggests anyone else is controlling this laptop.',
      why: null,
      alsoOpen: 0,
      whatToDo: null,
      ...common,
    };
  }
  const tool = typeof first.evidence.tool === 'string' ? first.evidence.tool : null;
  const advice = [findingAdvice(first.kind, tool), input.policy.support.advice].filter((text): text is string => text !== null);
  return {
    flagged: true,
    headline: first.title.replace(/\.$/, ''),
    why: findingWhy(first.kind),
    // Counted as the list below shows them (one card for a tool listening on IPv4 and IPv6).
    alsoOpen: new Set(ranked.map(sameThingKey)).size - 1,
    whatToDo: advice.length > 0 ? advice.join(' ') : null,
    ...common,
  };
}
