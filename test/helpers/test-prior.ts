/** A small, hand-picked population prior for detector unit tests (round numbers to compute by hand). */
import type { PopulationPrior } from '../../agent/timing-detector/baseline-model';

export const TEST_PRIOR: PopulationPrior = {
  coincidence: { center: 0, spread: 0.02 },
  bunching: { center: 0.05, spread: 0.03 },
  bunchRuns: { center: 0, spread: 0.01 },
  compressedHolds: { center: 0, spread: 0.01 },
  dwellSpread: { center: 5, spread: 0.5 },
  shortHolds: { center: -1, spread: 0.2 },
  moveRate: { center: 7, spread: 1 },
  stepSize: { center: 1, spread: 1 },
  moveInterval: { center: 2, spread: 1 },
  pointerSpeed: { center: 20, spread: 1 },
  pointerCoincidence: { center: 0, spread: 0.02 },
  coalescedSteps: { center: 0, spread: 0.05 },
};
