/**
 * Workflows, tasks or launch plans: search by name, archived filter, last runs.
 *
 * A row's "last run" and strip count every run of the entity: launched
 * itself, and (for a task or workflow) as a node of another workflow's
 * execution, whose cell says which node. Up/Down, Home and End move between
 * rows. An empty list says how to register something.
 */
import * as React from 'react';

import type { EntityKind, EntityListItem, PlaitClient, Schemas } from '../api/client';
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

type RecentRun = Schemas['RecentExecution'];

/** A run's tooltip: its id, phase and age, and the node that ran the entity when it ran inside a workflow. */
export function runTitle(run: RecentRun, now?: number): string {
  const where = run.node_path ? ` as node ${run.node_path} of ${shortName(run.workflow ?? '')}` : '';
  return `${run.id}: ${run.phase}${where}, ${ago(run.created_at, now)}`;
}

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
  const [rows, setRows] = React.useState<EntityListItem[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const label = KIND_LABEL[kind].toLowerCase();
  const list = React.useRef<HTMLUListElement>(null);

  React.useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      client
        .request('get', PLURAL[kind], {
          query: { name_contains: search || undefined, archived, limit: 500 },
          signal: controller.signal
        })
        .then(page => {
          setRows(page.items);
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
      {rows !== null && rows.length === 0 && <EmptyState kind={kind} search={search} archived={archived} />}
      <ul className="plait-Rows" aria-label={KIND_LABEL[kind]} ref={list}>
        {rows?.map((row, index) => (
          <li key={row.name} className="plait-Row">
            <button
              className="plait-RowMain"
              aria-label={`Open ${label.replace(/s$/, '')} ${row.name}`}
              title={row.description ? `${row.name}\n${row.description}` : row.name}
              data-plait-index={index}
              onClick={() => props.onOpen(kind, row.name)}
              onKeyDown={e => {
                const target = rowKeyTarget(e.key, index, rows.length);
                if (target !== null) {
                  e.preventDefault();
                  list.current?.querySelector<HTMLButtonElement>(`[data-plait-index="${target}"]`)?.focus();
                }
              }}
            >
              <span className="plait-RowName">{shortName(row.name)}</span>
              <span className="plait-RowMeta">{rowMeta(row)}</span>
            </button>
            <StatusStrip runs={row.recent} onOpen={props.onOpenExecution} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * A row's second line, what matters first (the end is cut at narrow widths): the last run
 * (and the workflow it ran in), the versions, archived, then the module.
 */
export function rowMeta(row: EntityListItem, now?: number): string {
  const last = row.recent[0];
  const at = row.last_execution_at ?? last?.created_at;
  const where = last?.node_path ? ` in ${shortName(last.workflow ?? '')}` : '';
  const module = row.name.includes('.') ? row.name.slice(0, row.name.lastIndexOf('.')) : '';
  return [
    at ? `last run ${ago(at, now)}${where}` : 'never run',
    `${row.version_count} version${row.version_count === 1 ? '' : 's'}`,
    ...(row.archived ? ['archived'] : []),
    ...(module ? [module] : [])
  ].join(' · ');
}

/** The row a key moves the focus to from row `index` of `count`; null for other keys. */
export function rowKeyTarget(key: string, index: number, count: number): number | null {
  switch (key) {
    case 'ArrowDown':
      return Math.min(index + 1, count - 1);
    case 'ArrowUp':
      return Math.max(index - 1, 0);
    case 'Home':
      return 0;
    case 'End':
      return count - 1;
    default:
      return null;
  }
}

const EMPTY_HINT: Record<EntityKind, React.ReactNode> = {
  workflow: (
    <>
      In a notebook, define one with <code>@workflow</code> and run <code>%plait launch NAME</code>: it registers
      the workflow with what it uses and runs it. In a terminal, <code>plait register FILE</code> registers the
      workflows of a .py file, a folder or a notebook.
    </>
  ),
  task: (
    <>
      Tasks are registered with the workflows that use them, or alone: <code>%plait launch NAME</code> in a
      notebook registers and runs a <code>@task</code>; <code>plait register FILE</code> in a terminal registers
      those of a .py file, a folder or a notebook.
    </>
  ),
  launch_plan: (
    <>
      Registering a workflow adds its default launch plan. Define others with{' '}
      <code>LaunchPlan.get_or_create(...)</code> (inputs, a schedule) and register them with{' '}
      <code>plait register FILE</code>; open a workflow and press Launch to run it.
    </>
  )
};

/** What an empty list means and what to do: register something, or widen the search. */
export function EmptyState(props: { kind: EntityKind; search: string; archived: boolean }): JSX.Element {
  const label = KIND_LABEL[props.kind].toLowerCase();
  const which = props.archived ? `archived ${label}` : label;
  if (props.search) {
    return (
      <div className="plait-Empty" role="status">
        <p>
          No {which} match “{props.search}”.
        </p>
        <p>
          The search matches any part of the full name (<code>module.name</code>)
          {props.archived ? '; untick Archived for the others.' : '; archived ones show with Archived ticked.'}
        </p>
      </div>
    );
  }
  if (props.archived) {
    return (
      <div className="plait-Empty" role="status">
        <p>No archived {label}.</p>
      </div>
    );
  }
  return (
    <div className="plait-Empty" role="status">
      <p>No {label} registered yet.</p>
      <p>{EMPTY_HINT[props.kind]}</p>
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
          aria-label={`Execution ${r.id}: ${r.phase}${r.node_path ? ` (node ${r.node_path} of ${r.workflow ?? 'a workflow'})` : ''}`}
          title={runTitle(r)}
          onClick={() => props.onOpen(r.id)}
        />
      ))}
    </span>
  );
}
