/** Workflows, tasks or launch plans: search by name, archived filter, last runs. */
import * as React from 'react';

import type { EntityKind, EntityListItem, PlaitClient } from '../api/client';
import { ago, shortName } from '../format';
import { phaseClass } from '../phases';

const PLURAL: Record<EntityKind, 'workflows' | 'tasks' | 'launch_plans'> = {
  workflow: 'workflows',
  task: 'tasks',
  launch_plan: 'launch_plans'
};
export const KIND_LABEL: Record<EntityKind, string> = {
  workflow: 'Workflows',
  task: 'Tasks',
  launch_plan: 'Launch plans'
};

/** What an entity row shows beyond the summary (added by the backend for the lab). */
interface RecentRun {
  id: string;
  phase: string;
  created_at: string;
  duration_s?: number | null;
}
type Row = EntityListItem & { recent?: RecentRun[]; last_execution_at?: string | null };

export interface EntityListProps {
  client: PlaitClient;
  kind: EntityKind;
  /** Bumped by the sidebar to reload (after a launch, on refresh). */
  generation: number;
  onOpen: (kind: EntityKind, name: string) => void;
  onOpenExecution: (id: string) => void;
}

export function EntityList(props: EntityListProps): JSX.Element {
  const { client, kind } = props;
  const [search, setSearch] = React.useState('');
  const [archived, setArchived] = React.useState(false);
  const [rows, setRows] = React.useState<Row[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const label = KIND_LABEL[kind].toLowerCase();

  React.useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      client
        .request('get', PLURAL[kind], {
          query: { name_contains: search || undefined, archived, limit: 500 },
          signal: controller.signal
        })
        .then(page => {
          setRows(page.items as Row[]);
          setError(null);
        })
        .catch((e: Error) => {
          if (e.name !== 'AbortError') {
            setError(e.message);
          }
        });
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [client, kind, search, archived, props.generation]);

  return (
    <div className="plait-EntityList">
      <div className="plait-ListControls">
        <input
          type="search"
          className="plait-Search"
          placeholder={`Search ${label}`}
          aria-label={`Search ${label}`}
          value={search}
          onChange={e => setSearch(e.target.value)}
        />
        <label className="plait-Check">
          <input type="checkbox" checked={archived} onChange={e => setArchived(e.target.checked)} />
          Archived
        </label>
      </div>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {rows === null && !error && <div className="plait-Muted">Loading {label}…</div>}
      {rows !== null && rows.length === 0 && (
        <div className="plait-Muted">
          {search ? `No ${label} match “${search}”.` : `No ${label} registered yet: run \`plait register\`.`}
        </div>
      )}
      <ul className="plait-Rows" aria-label={KIND_LABEL[kind]}>
        {rows?.map(row => (
          <li key={row.name} className="plait-Row">
            <button
              className="plait-RowMain"
              aria-label={`Open ${label.replace(/s$/, '')} ${row.name}`}
              title={row.description || row.name}
              onClick={() => props.onOpen(kind, row.name)}
            >
              <span className="plait-RowName">{shortName(row.name)}</span>
              <span className="plait-RowMeta">
                {row.name} · {row.version_count} version{row.version_count === 1 ? '' : 's'} · last run{' '}
                {ago(row.last_execution_at ?? row.recent?.[0]?.created_at)}
                {row.archived ? ' · archived' : ''}
              </span>
            </button>
            <StatusStrip runs={row.recent ?? []} onOpen={props.onOpenExecution} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The last ten runs, oldest left, as coloured cells that open the run. */
export function StatusStrip(props: { runs: RecentRun[]; onOpen: (id: string) => void }): JSX.Element {
  const runs = [...props.runs].slice(0, 10).reverse();
  return (
    <span className="plait-Strip" role="list" aria-label="Last runs">
      {runs.map(r => (
        <button
          key={r.id}
          role="listitem"
          className={`plait-StripCell ${phaseClass(r.phase)}`}
          aria-label={`Execution ${r.id}: ${r.phase}`}
          title={`${r.id}: ${r.phase}, ${ago(r.created_at)}`}
          onClick={() => props.onOpen(r.id)}
        />
      ))}
    </span>
  );
}
