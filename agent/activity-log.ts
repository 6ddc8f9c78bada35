/**
 * The log lines a person watching the agent wants, from the event bus: each finding opened or closed
 * with its severity, and each change of the device verdict. Findings carry no key identity, text or
 * coordinates (common/findings.ts), and only their kind, severity, key and title are logged.
 */
import type { Finding, RiskLevel } from '../common/findings';
import type { AgentContext, AgentService } from './context';
import type { InputCaptureService } from './input/input-capture-service';

/** Subscribe; returns the function that unsubscribes. */
export function logActivity(ctx: Pick<AgentContext, 'events' | 'logger'>): () => void {
  let verdict: RiskLevel = 'none';
  const fields = (finding: Finding) => ({ kind: finding.kind, severity: finding.severity, key: finding.key, title: finding.title });
  return ctx.events.on('findingsChanged', ({ opened, closed, updated }) => {
    for (const finding of opened) if (finding.kind !== 'device-verdict') ctx.logger.log(finding.severity === 'high' ? 'warn' : 'info', 'Finding opened', fields(finding));
    for (const finding of closed) if (finding.kind !== 'device-verdict') ctx.logger.log('info', 'Finding closed', fields(finding));
    const current = [...opened, ...updated].find((finding) => finding.kind === 'device-verdict');
    const level = current?.severity ?? (closed.some((finding) => finding.kind === 'device-verdict') ? 'none' : verdict);
    if (level !== verdict) {
      ctx.logger.log(level === 'high' ? 'warn' : 'info', 'Verdict changed', { from: verdict, to: level, title: current?.title ?? 'No sign of remote control' });
      verdict = level;
    }
  });
}

/**
 * The fields of the "Agent running" line: the services that run, input capture only when it
 * captures, and capture's state with the reason when it does not.
 */
export function runningFields(services: readonly AgentService[]): Record<string, string> {
  const capture = services.find((service): service is InputCaptureService => service.name === 'input-capture');
  const status = capture?.status() ?? { state: 'off', detail: 'Input timing capture is turned off (--no-input).' };
  return {
    services: services
      .filter((service) => service !== capture || status.state === 'running')
      .map((service) => service.name)
      .join(','),
    inputCapture: status.state,
    inputCaptureDetail: status.detail,
  };
}
