/** A plausible stored TimingWindow: owned by lab/collector/sample-window.ts, re-exported for the tests. */
export { sampleWindow } from '../../lab/collector/sample-window';
