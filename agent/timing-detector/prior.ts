/**
 * The population prior, derived from human data by `npx tsx tools/derive-prior.ts` and
 * committed as population-prior.json: keys from the even-id (tuning) users of the Monaco free-text
 * set, pointer from generated minimum-jerk movements at 125-1000 Hz. Each feature's center is the
 * median over 60-second pools and its spread 1.4826 * MAD (a robust sigma across people).
 */
import type { PopulationPrior } from './baseline-model';
import prior from './population-prior.json';

export const POPULATION_PRIOR: PopulationPrior = prior.features as PopulationPrior;
