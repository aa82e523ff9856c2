/** Horizontal bars per node on a time axis, coloured by phase; running bars grow to now. Rows are named
 * by task (the node's path beside it, muted). */
import * as React from 'react';

import type { Execution } from '../api/client';
import { phaseClass } from '../phases';
import { formatTick, timeline, TreeRow } from './model';

export interface TimelineProps {
  execution: Execution;
  rows: readonly TreeRow[];
  now: number;
  selected: string | null;
  onSelect: (path: string) => void;
}

const pct = (x: number, span: number) => `${(100 * x) / span}%`;

export function Timeline(props: TimelineProps): JSX.Element {
  const { rows, span, ticks } = timeline(props.execution, props.rows, props.now);
  if (rows.length === 0) {
    return <p className="plait-ExecutionView-muted">No node has started yet.</p>;
  }
  return (
    <div className="plait-ExecutionView-timeline">
      <div className="plait-ExecutionView-timeline-row plait-ExecutionView-axis" aria-hidden="true">
        <span className="plait-ExecutionView-timeline-label" />
        <span className="plait-ExecutionView-timeline-track">
          {ticks.map(t => (
            <span key={t} className="plait-ExecutionView-tick" style={{ left: pct(t, span) }}>
              {formatTick(t)}
            </span>
          ))}
        </span>
      </div>
      <ul aria-label="Timeline" className="plait-ExecutionView-timeline-bars">
        {rows.map(row => (
          <li key={row.path} className="plait-ExecutionView-timeline-row">
            <span
              className="plait-ExecutionView-timeline-label"
              style={{ paddingLeft: `${row.depth * 12}px` }}
              title={row.title === row.path ? row.path : `${row.title} (node ${row.path})`}
              aria-hidden="true"
            >
              {row.title}
              {row.title !== row.path && <span className="plait-ExecutionView-timeline-path"> {row.path}</span>}
            </span>
            <span className="plait-ExecutionView-timeline-track">
              {ticks.map(t => (
                <span key={t} className="plait-ExecutionView-gridline" style={{ left: pct(t, span) }} />
              ))}
              <button
                type="button"
                className={
                  `plait-ExecutionView-bar ${phaseClass(row.phase)}` +
                  (row.running ? ' plait-ExecutionView-bar-running' : '') +
                  (row.start === null ? ' plait-ExecutionView-bar-pending' : '') +
                  (props.selected === row.path ? ' plait-ExecutionView-bar-selected' : '')
                }
                style={{
                  left: pct(row.start ?? 0, span),
                  width: row.start === null ? undefined : pct(Math.max(0, (row.end ?? row.start) - row.start), span)
                }}
                aria-label={row.label}
                title={row.label}
                data-path={row.path}
                onClick={() => props.onSelect(row.path)}
              />
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
