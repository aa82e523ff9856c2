/**
 * The nodes of an execution as a table; nested nodes indented under their parent.
 * Keyboard: ↑/↓ (Home/End) move between rows, → opens a group and ← closes it
 * (or goes to the parent), Enter opens the node's panel.
 *
 * With `onPick`, nodes can be chosen to run again ("Run from here"): a checkbox
 * column, Ctrl/⌘+click on a row, or Space on a row toggles a node; without it,
 * Space opens the panel like Enter.
 */
import * as React from 'react';

import { formatDuration, formatTime } from '../format';
import { phaseClass } from '../phases';
import { elapsed, isExpanded, TreeRow } from './model';

export interface NodeTableProps {
  rows: readonly TreeRow[];
  /** Parents whose default (open, or closed for big groups) the user flipped. */
  toggled: ReadonlySet<string>;
  onToggle: (path: string) => void;
  selected: string | null;
  onSelect: (path: string) => void;
  now: number;
  /** The nodes chosen to run again. */
  picked?: ReadonlySet<string>;
  /** Choose a node to run again, or drop it; no checkbox column without it. */
  onPick?: (path: string) => void;
}

/** The row to focus after `key` on the row at `index` of `rows`, or null when the key does not move. */
export function rowAfterKey(rows: readonly TreeRow[], index: number, key: string): number | null {
  switch (key) {
    case 'ArrowDown':
      return Math.min(rows.length - 1, index + 1);
    case 'ArrowUp':
      return Math.max(0, index - 1);
    case 'Home':
      return 0;
    case 'End':
      return rows.length - 1;
    case 'ArrowLeft': {
      const parent = rows[index].ancestors[rows[index].ancestors.length - 1];
      const at = parent === undefined ? -1 : rows.findIndex(r => r.node.path === parent);
      return at === -1 ? null : at;
    }
    default:
      return null;
  }
}

export function NodeTable(props: NodeTableProps): JSX.Element {
  const body = React.useRef<HTMLTableSectionElement>(null);
  const focusRow = (index: number) => {
    const row = body.current?.rows[index];
    row?.focus();
    row?.scrollIntoView?.({ block: 'nearest' });
  };
  const onKey = (e: React.KeyboardEvent<HTMLTableRowElement>, index: number) => {
    if (e.target !== e.currentTarget) {
      return;
    }
    const row = props.rows[index];
    const path = row.node.path;
    if (e.key === ' ' && props.onPick) {
      e.preventDefault();
      props.onPick(path);
      return;
    }
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      props.onSelect(path);
      return;
    }
    const open = row.childCount > 0 && isExpanded(row, props.toggled);
    if ((e.key === 'ArrowRight' && row.childCount > 0 && !open) || (e.key === 'ArrowLeft' && open)) {
      e.preventDefault();
      props.onToggle(path);
      return;
    }
    const to = rowAfterKey(props.rows, index, e.key);
    if (to !== null) {
      e.preventDefault();
      focusRow(to);
    }
  };
  const { onPick } = props;
  if (props.rows.length === 0) {
    return <p className="plait-ExecutionView-muted">No node has been scheduled yet.</p>;
  }
  return (
    <table aria-label="Nodes" className="plait-ExecutionView-grid plait-ExecutionView-nodes">
      <thead>
        <tr>
          {onPick && (
            <th scope="col" className="plait-ExecutionView-pickCol" aria-label="Run again" title="Choose nodes to run again" />
          )}
          <th scope="col">Node</th>
          <th scope="col">Kind</th>
          <th scope="col">Task</th>
          <th scope="col">Phase</th>
          <th scope="col">Attempts</th>
          <th scope="col">Start</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody ref={body}>
        {props.rows.map((row, index) => {
          const { node } = row;
          const open = row.childCount > 0 && isExpanded(row, props.toggled);
          const picked = props.picked?.has(node.path) ?? false;
          return (
            <tr
              key={node.path}
              tabIndex={0}
              data-path={node.path}
              aria-current={props.selected === node.path ? 'true' : undefined}
              className={
                [props.selected === node.path ? 'plait-ExecutionView-selected' : '', picked ? 'plait-mod-picked' : '']
                  .filter(Boolean)
                  .join(' ') || undefined
              }
              onClick={e => {
                if (onPick && (e.ctrlKey || e.metaKey)) {
                  onPick(node.path);
                } else {
                  props.onSelect(node.path);
                }
              }}
              onKeyDown={e => onKey(e, index)}
            >
              {onPick && (
                <td className="plait-ExecutionView-pickCol" onClick={e => e.stopPropagation()}>
                  {/* Out of the tab order: Space on the row toggles it, and ↑/↓ stay on rows. */}
                  <input
                    type="checkbox"
                    tabIndex={-1}
                    aria-label={`Run ${node.path} again`}
                    checked={picked}
                    onChange={() => onPick(node.path)}
                  />
                </td>
              )}
              <td style={{ paddingLeft: `${6 + row.depth * 16}px` }}>
                {row.childCount > 0 && (
                  <button
                    type="button"
                    className="plait-ExecutionView-toggle"
                    aria-expanded={open}
                    aria-label={`${open ? 'Collapse' : 'Expand'} ${node.path}`}
                    onClick={e => {
                      e.stopPropagation();
                      props.onToggle(node.path);
                    }}
                  >
                    {open ? '▾' : '▸'}
                  </button>
                )}
                {node.path}
                {row.childCount > 0 && !open && (
                  <span className="plait-ExecutionView-muted"> ({row.childCount} nodes)</span>
                )}
              </td>
              <td>{node.kind ?? '—'}</td>
              <td title={node.entity_name ?? undefined}>{node.entity_name ?? '—'}</td>
              <td>
                <span className={`plait-Badge plait-ExecutionView-badge ${phaseClass(node.phase)}`}>{node.phase}</span>
              </td>
              <td>{node.attempts.length}</td>
              <td>{formatTime(node.started_at)}</td>
              <td>{formatDuration(elapsed(node.started_at, node.ended_at, props.now))}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
