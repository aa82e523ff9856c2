/** The nodes of an execution as a table; nested nodes indented under their parent. */
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
}

export function NodeTable(props: NodeTableProps): JSX.Element {
  if (props.rows.length === 0) {
    return <p className="plait-ExecutionView-muted">No node has been scheduled yet.</p>;
  }
  return (
    <table aria-label="Nodes" className="plait-ExecutionView-grid plait-ExecutionView-nodes">
      <thead>
        <tr>
          <th scope="col">Node</th>
          <th scope="col">Kind</th>
          <th scope="col">Task</th>
          <th scope="col">Phase</th>
          <th scope="col">Attempts</th>
          <th scope="col">Start</th>
          <th scope="col">Duration</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map(row => {
          const { node } = row;
          const open = row.childCount > 0 && isExpanded(row, props.toggled);
          return (
            <tr
              key={node.path}
              tabIndex={0}
              aria-current={props.selected === node.path ? 'true' : undefined}
              className={props.selected === node.path ? 'plait-ExecutionView-selected' : undefined}
              onClick={() => props.onSelect(node.path)}
              onKeyDown={e => {
                if ((e.key === 'Enter' || e.key === ' ') && e.target === e.currentTarget) {
                  e.preventDefault();
                  props.onSelect(node.path);
                }
              }}
            >
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
