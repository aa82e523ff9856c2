/**
 * Every execution as a table in the main area: the columns the sidebar's one-line
 * rows leave out (id, launch plan, project, end), sortable by any column, with
 * the same filters and live updates as the sidebar list (`ExecutionPages`).
 */
import * as React from 'react';

import type { ExecutionSummary as Execution, PlaitClient } from '../api/client';
import { formatDuration, formatTime, shortName } from '../format';
import { phaseClass } from '../phases';
import { rowTooltip } from './executions';
import { ExecutionFilters, useLiveExecutions } from './liveExecutions';

type Key = 'name' | 'phase' | 'started' | 'duration' | 'launch_plan' | 'id' | 'project';

const COLUMNS: { key: Key; label: string }[] = [
  { key: 'name', label: 'Workflow or task' },
  { key: 'phase', label: 'Phase' },
  { key: 'started', label: 'Started' },
  { key: 'duration', label: 'Duration' },
  { key: 'launch_plan', label: 'Launch plan' },
  { key: 'id', label: 'Execution' },
  { key: 'project', label: 'Project' }
];

/** The value a column sorts by; missing values sort last whatever the direction. */
export function sortValue(e: Execution, key: Key): string | number | null {
  switch (key) {
    case 'name':
      return shortName(e.entity.name).toLowerCase();
    case 'phase':
      return e.phase;
    case 'started':
      return Date.parse(e.started_at ?? e.created_at);
    case 'duration':
      return e.duration_s ?? null;
    case 'launch_plan':
      return e.launch_plan ? shortName(e.launch_plan.name).toLowerCase() : null;
    case 'id':
      return e.id;
    case 'project':
      return `${e.project}/${e.domain}`;
  }
}

export function sortRows(rows: readonly Execution[], key: Key, ascending: boolean): Execution[] {
  const sign = ascending ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) {
      return x === y ? 0 : x === null ? 1 : -1;
    }
    return (x < y ? -1 : x > y ? 1 : 0) * sign;
  });
}

export interface ExecutionTableProps {
  client: PlaitClient;
  onOpen: (id: string) => void;
}

export function ExecutionTable(props: ExecutionTableProps): JSX.Element {
  const root = React.useRef<HTMLDivElement>(null);
  const live = useLiveExecutions(props.client, root, 'plait:executions-table');
  const { pages } = live;
  const [sort, setSort] = React.useState<{ key: Key; ascending: boolean }>({ key: 'started', ascending: false });

  const rows = React.useMemo(
    () => sortRows(pages.rows, sort.key, sort.ascending),
    [pages.rows, sort.key, sort.ascending]
  );
  const order = (key: Key) =>
    setSort(s => (s.key === key ? { key, ascending: !s.ascending } : { key, ascending: key !== 'started' && key !== 'duration' }));

  return (
    <div className="plait-ExecutionTable" ref={root}>
      <ExecutionFilters live={live}>
        <span className="plait-Muted" role="status">
          {rows.length} {pages.complete ? '' : 'loaded '}execution{rows.length === 1 ? '' : 's'}
        </span>
      </ExecutionFilters>
      {pages.error && (
        <div role="alert" className="plait-Error">
          {pages.error}
        </div>
      )}
      <table className="plait-Table" aria-label="Executions">
        <thead>
          <tr>
            {COLUMNS.map(c => (
              <th
                key={c.key}
                scope="col"
                aria-sort={sort.key === c.key ? (sort.ascending ? 'ascending' : 'descending') : 'none'}
              >
                <button type="button" className="plait-SortButton" onClick={() => order(c.key)}>
                  {c.label}
                  <span aria-hidden="true">{sort.key === c.key ? (sort.ascending ? ' ▲' : ' ▼') : ''}</span>
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map(e => (
            <tr key={e.id} title={rowTooltip(e)}>
              <td>
                <button type="button" className="plait-Link" onClick={() => props.onOpen(e.id)}>
                  {shortName(e.entity.name)}
                </button>
              </td>
              <td>
                <span className={`plait-Badge ${phaseClass(e.phase)}`}>{e.phase}</span>
              </td>
              <td>{formatTime(e.started_at ?? e.created_at)}</td>
              <td>{formatDuration(e.duration_s)}</td>
              <td>{e.launch_plan ? shortName(e.launch_plan.name) : '—'}</td>
              <td className="plait-Mono">{e.id}</td>
              <td>
                {e.project}/{e.domain}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!pages.complete && (
        <button type="button" className="jp-Button jp-mod-styled plait-LoadMore" onClick={() => void pages.loadMore()}>
          Load more
        </button>
      )}
      {pages.complete && rows.length === 0 && (
        <p className="plait-Muted" role="status">
          {pages.filtered ? 'No executions match the filter.' : 'No executions yet.'}
        </p>
      )}
    </div>
  );
}
