/**
 * A TimingWindow flattened into log fields (numbers only), for the CLI's one line per window.
 */
import type { Distribution, TimingWindow } from '../../common/timing';

export function windowLogFields(window: TimingWindow): Record<string, number | null> {
  return {
    startedAt: window.startedAt,
    endedAt: window.endedAt,
    hookStart: window.hookStart,
    hookEnd: window.hookEnd,
    keystrokes: window.keys.keystrokes,
    keyDowns: window.keys.keyDowns,
    ...distributionFields('dwell', window.keys.dwell),
    ...distributionFields('flight', window.keys.flight),
    nearSimultaneous5: window.keys.nearSimultaneous5,
    nearSimultaneous15: window.keys.nearSimultaneous15,
    rolloverRate: window.keys.rolloverRate,
    keyEvents: window.keys.keyEvents ?? null,
    coincidentEvents: window.keys.coincidentEvents ?? null,
    shortGaps: window.keys.shortGaps ?? null,
    fineGaps: window.keys.fineGaps ?? null,
    oneMsGaps: window.keys.oneMsGaps ?? null,
    moves: window.mouse.moves,
    clicks: window.mouse.clicks,
    wheels: window.mouse.wheels,
    moveRateHz: window.mouse.moveRateHz,
    ...distributionFields('step', window.mouse.step),
    ...distributionFields('interval', window.mouse.interval),
    intervalCv: window.mouse.intervalCv,
    coincidentMoves: window.mouse.coincidentMoves ?? null,
    fastMoves: window.mouse.fastMoves ?? null,
  };
}

function distributionFields(prefix: string, distribution: Distribution | null): Record<string, number | null> {
  return {
    [`${prefix}N`]: distribution?.n ?? 0,
    [`${prefix}Median`]: distribution?.median ?? null,
    [`${prefix}Iqr`]: distribution?.iqr ?? null,
    [`${prefix}P5`]: distribution?.p5 ?? null,
    [`${prefix}P95`]: distribution?.p95 ?? null,
  };
}
