/** Test devices and sample findings: owned by lab/collector/make-reports.ts, re-exported for the tests. */
export { enrollAndMakeReports, sampleFinding, TestDevice, type TestDeviceOptions } from '../../../lab/collector/make-reports';
