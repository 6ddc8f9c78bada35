/**
 * What a row group is: a named set of rows measured together (they share child processes or a
 * setup such as Xvfb), with the rows it promises so a group that cannot run still prints them.
 */
import type { BenchOptions, GroupName } from './options';
import type { Row } from './summary';

export interface RowSpec {
  readonly name: string;
  readonly targetText: string;
}

export interface GroupContext {
  readonly options: BenchOptions;
  /** Progress line on stderr (the table goes to stdout). */
  log(message: string): void;
  /** Scale a measurement window: full length normally, shorter with --quick. */
  seconds(full: number, quick: number): number;
}

export interface Group {
  readonly name: GroupName;
  /** Rows in table order, also used when the whole group is missing or fails. */
  readonly rows: readonly RowSpec[];
  run(context: GroupContext): Promise<Row[]>;
}

/** A row that could not be measured: `reason` is "missing: ..." or "failed: ...". */
export function unavailable(group: string, spec: RowSpec, reason: string): Row {
  return { status: 'missing', group, name: spec.name, reason, targetText: spec.targetText };
}
