/**
 * Every execution, newest first: virtualized, paged on scroll, updated live.
 *
 * A row is one line that fits the default sidebar width: phase, the workflow's
 * (or task's) short name first, then when it started and how long it ran; the
 * id, the full names and a failed run's error are in its tooltip. While the list
 * is scrolled, rows arriving on top do not move the rows in view. The list
 * polls every 1.5 s while it is visible (`useLiveExecutions`), so a run launched anywhere (the CLI, a
 * notebook, a schedule) shows within 2 s, and stops while it is hidden.
 */
import { tableRowsIcon } from '@jupyterlab/ui-components';
import { useVirtualizer } from '@tanstack/react-virtual';
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { ago, formatDuration, formatTime, shortName } from '../format';
import { phaseClass } from '../phases';
import { rowTooltip } from './executions';
import { ExecutionFilters, useLiveExecutions } from './liveExecutions';

const ROW_HEIGHT = 28;

export interface ExecutionListProps {
  client: PlaitClient;
  generation: number;
  onOpen: (id: string) => void;
  /** Open every execution as a sortable table in the main area. */
  onOpenTable?: () => void;
}

export function ExecutionList(props: ExecutionListProps): JSX.Element {
  const scroller = React.useRef<HTMLDivElement>(null);
  const live = useLiveExecutions(props.client, scroller, 'plait:executions');
  const { pages } = live;
  const name = live.search.trim();
  const { phase } = live;

  React.useEffect(() => {
    if (props.generation) {
      void pages.refresh();
    }
  }, [pages, props.generation]);

  const rows = pages.rows;
  // Rows that arrive on top while the list is scrolled keep the rows in view where they are.
  const firstId = React.useRef<string | undefined>(undefined);
  React.useLayoutEffect(() => {
    const el = scroller.current;
    const before = firstId.current;
    firstId.current = rows[0]?.id;
    if (!el || !before || el.scrollTop <= 0) {
      return;
    }
    const added = rows.findIndex(e => e.id === before);
    if (added > 0) {
      el.scrollTop += added * ROW_HEIGHT;
    }
  }, [rows]);
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  const focusRow = (index: number) => {
    const target = Math.max(0, Math.min(rows.length - 1, index));
    virtualizer.scrollToIndex(target);
    requestAnimationFrame(() =>
      scroller.current?.querySelector<HTMLButtonElement>(`[data-plait-index="${target}"]`)?.focus()
    );
  };
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
      <ExecutionFilters live={live}>
        {props.onOpenTable && (
          <button
            type="button"
            className="plait-IconButton"
            aria-label="Open as a table"
            title="Open every execution as a sortable table"
            onClick={props.onOpenTable}
          >
            <tableRowsIcon.react tag="span" className="plait-IconButton-icon" />
          </button>
        )}
      </ExecutionFilters>
      {pages.error && (
        <div role="alert" className="plait-Error">
          {pages.error}
        </div>
      )}
      {pages.complete && rows.length === 0 && (
        <div className="plait-Muted" role="status">
          {pages.filtered
            ? `No executions match${name ? ` “${name}”` : ''}${phase ? ` with status ${phase}` : ''}.`
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
                    className="plait-RowMain plait-ExecRow-line"
                    aria-label={`Open execution ${e.id}, ${e.phase}: ${shortName(e.entity.name)}`}
                    title={rowTooltip(e)}
                    data-plait-execution={e.id}
                    data-plait-index={item.index}
                    onClick={() => props.onOpen(e.id)}
                    onKeyDown={ev => {
                      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
                        ev.preventDefault();
                        focusRow(item.index + (ev.key === 'ArrowDown' ? 1 : -1));
                      } else if (ev.key === 'Home' || ev.key === 'End') {
                        ev.preventDefault();
                        focusRow(ev.key === 'Home' ? 0 : rows.length - 1);
                      }
                    }}
                  >
                    <span className={`plait-Badge plait-ExecRow-phase ${phaseClass(e.phase)}`}>{e.phase}</span>
                    <span className="plait-ExecRow-name">{shortName(e.entity.name)}</span>
                    <span className="plait-ExecRow-when" title={formatTime(e.started_at ?? e.created_at)}>
                      {ago(e.started_at ?? e.created_at, now)}
                    </span>
                    <span className="plait-ExecRow-duration">{formatDuration(e.duration_s)}</span>
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
