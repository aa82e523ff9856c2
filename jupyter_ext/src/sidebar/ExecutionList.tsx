/** Every execution, newest first: virtualized, paged on scroll, updated live. */
import { Poll } from '@lumino/polling';
import { useVirtualizer } from '@tanstack/react-virtual';
import * as React from 'react';

import type { ExecutionPhase, PlaitClient } from '../api/client';
import { formatDuration, formatTime, shortName } from '../format';
import { EXECUTION_PHASES, isTerminal, phaseClass } from '../phases';
import { ExecutionPages } from './executions';

const ROW_HEIGHT = 44;

export interface ExecutionListProps {
  client: PlaitClient;
  generation: number;
  onOpen: (id: string) => void;
}

export function ExecutionList(props: ExecutionListProps): JSX.Element {
  const pages = React.useMemo(() => new ExecutionPages(props.client), [props.client]);
  const [, setVersion] = React.useState(0);
  const [phase, setPhase] = React.useState<ExecutionPhase | ''>('');
  const [name, setName] = React.useState('');
  const scroller = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => pages.subscribe(() => setVersion(v => v + 1)), [pages]);
  React.useEffect(() => {
    const t = setTimeout(() => pages.setFilter({ search: name.trim() || undefined, phase: phase ? [phase] : [] }), 200);
    return () => clearTimeout(t);
  }, [pages, phase, name]);

  // Live updates: refresh the newest page; back off while nothing changes, stop when hidden.
  React.useEffect(() => {
    const poll = new Poll({
      factory: async () => {
        const changed = await pages.refresh();
        const active = pages.rows.slice(0, 50).some(e => !isTerminal(e.phase));
        if (!changed && !active) {
          throw new Error('unchanged'); // lets Poll back off
        }
      },
      frequency: { interval: 2000, backoff: true, max: 30000 },
      standby: 'when-hidden',
      name: 'plait:executions'
    });
    return () => poll.dispose();
  }, [pages]);
  React.useEffect(() => {
    if (props.generation) {
      void pages.refresh();
    }
  }, [pages, props.generation]);

  const rows = pages.rows;
  const virtualizer = useVirtualizer({
    count: rows.length + (pages.complete ? 0 : 1),
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10
  });
  const items = virtualizer.getVirtualItems();
  const last = items[items.length - 1];
  React.useEffect(() => {
    if (last && last.index >= rows.length - 1 && !pages.complete) {
      void pages.loadMore();
    }
  }, [last?.index, rows.length, pages]);

  return (
    <div className="plait-ExecutionList">
      <div className="plait-ListControls">
        <input
          type="search"
          className="plait-Search"
          placeholder="Filter by name or id"
          aria-label="Filter executions by name"
          value={name}
          onChange={e => setName(e.target.value)}
        />
        <select aria-label="Filter executions by status" value={phase} onChange={e => setPhase(e.target.value as ExecutionPhase | '')}>
          <option value="">All statuses</option>
          {EXECUTION_PHASES.map(p => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </div>
      {pages.error && (
        <div role="alert" className="plait-Error">
          {pages.error}
        </div>
      )}
      {pages.complete && rows.length === 0 && (
        <div className="plait-Muted" role="status">
          {pages.filtered
            ? `No executions match${name.trim() ? ` “${name.trim()}”` : ''}${phase ? ` with status ${phase}` : ''}.`
            : 'No executions yet: launch one with %plait launch in a notebook, or Launch on a workflow.'}
        </div>
      )}
      <div
        ref={scroller}
        className="plait-VirtualScroll"
        role="list"
        aria-label="Executions"
        aria-busy={!pages.complete}
        data-loaded={rows.length}
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {items.map(item => {
            const e = rows[item.index];
            return (
              <div
                key={item.key}
                role="listitem"
                className="plait-ExecRow"
                style={{ position: 'absolute', top: 0, left: 0, right: 0, height: item.size, transform: `translateY(${item.start}px)` }}
              >
                {e ? (
                  <button
                    className="plait-RowMain"
                    aria-label={`Open execution ${e.id}, ${e.phase}`}
                    data-plait-execution={e.id}
                    onClick={() => props.onOpen(e.id)}
                  >
                    <span className="plait-RowName">
                      <span className={`plait-Badge ${phaseClass(e.phase)}`}>{e.phase}</span> {e.id}
                    </span>
                    <span className="plait-RowMeta" title={`${e.entity.kind} ${e.entity.name} version ${e.entity.version}`}>
                      {shortName(e.entity.name)} · {e.entity.version.slice(0, 10)}
                      {e.launch_plan ? ` · ${shortName(e.launch_plan.name)}` : ''} · {formatTime(e.started_at ?? e.created_at)} ·{' '}
                      {formatDuration(e.duration_s)}
                    </span>
                  </button>
                ) : (
                  <span className="plait-Muted">Loading more…</span>
                )}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
