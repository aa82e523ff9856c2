/** The side panel of one node: attempts (with the pool and worker of each), logs, inputs, outputs, its task
 * and resource use (CPU and memory of each attempt, and its GPUs when the worker had some). The logs come
 * before the values: they say why a node failed, and a large input would push them out of sight.
 * A re-run's REUSED node says which execution and node its outputs were taken from. A gate node waiting
 * for a signal or an approval shows what it waits for, with the form that gives it. */
import * as React from 'react';

import type { Attempt, Entity, Execution, PlaitClient } from '../api/client';
import { NodeArtifacts, type OpenArtifact } from '../artifacts/ExecutionArtifacts';
import { workerPageUrl } from '../dashboard';
import { formatDuration, formatTime } from '../format';
import { phaseClass } from '../phases';
import { debugNode } from '../workspaces/api';
import { workspacesChanged } from '../workspaces/changes';
import type { Workspace } from '../workspaces/types';
import { getTask, messageOf } from './api';
import { LogView } from './LogView';
import { SignalForm } from './SignalForm';
import { Signal, waitingText } from './signals';
import {
  elapsed,
  errorView,
  formatMiB,
  NodeRun,
  taskNameOf,
  taskSummary,
  usageRows
} from './model';
import { Values } from './Values';

export interface NodePanelProps {
  client: PlaitClient;
  execution: Execution;
  node: NodeRun;
  now: number;
  onClose: () => void;
  /** The Dask dashboard's status page as the lab serves it: worker addresses link to their pages. */
  dashboardUrl?: string;
  /**
   * Where keyboard focus goes when the panel opens and each time `focusSeq`
   * changes: its heading (the default), its log (the error banner's "Show log"),
   * or nowhere (a panel opened without the user asking: focus stays put).
   */
  focus?: PanelFocus;
  focusSeq?: number;
  /** Opens another execution: a REUSED node's "Reused from execution X" links to X with it. */
  onOpenExecution?: (id: string) => void;
  /** "Run from here" from this node (a button only with it: the execution has ended). */
  onRunFrom?: () => void;
  /** Opens an artifact version's view: the artifacts the node emitted and consumed link to it. */
  onOpenArtifact?: OpenArtifact;
  /** The signal this node (a `wait_for_input` or `approve` gate) opened, if it is one. */
  signal?: Signal;
  /** Called once this node's signal was given its value. */
  onSignalSent?: () => void;
  /** Opens a workspace's view: "Debug in a workspace" on a failed task node makes one and opens it. */
  onOpenWorkspace?: (ws: Workspace) => void;
}

export type PanelFocus = 'heading' | 'log' | 'none';

/** What a worker measured of the GPUs visible to it while the attempt ran (NVML): utilisation in %,
 * memory in use in bytes. Absent when the worker had no GPU. */
export interface GpuUsage {
  gpu_util_avg?: number | null;
  gpu_util_peak?: number | null;
  gpu_mem_avg?: number | null;
  gpu_mem_peak?: number | null;
}

export function formatPercent(value: number | null | undefined): string {
  return value == null || !isFinite(value) ? '—' : `${Math.round(value)}%`;
}

/** GPU figures per attempt number, for the attempts that have some. */
export function gpuUsage(attempts: readonly Attempt[]): Map<number, GpuUsage> {
  const out = new Map<number, GpuUsage>();
  for (const a of attempts as readonly (Attempt & GpuUsage)[]) {
    if (a.gpu_util_avg != null || a.gpu_util_peak != null || a.gpu_mem_peak != null) {
      out.set(a.number, a);
    }
  }
  return out;
}

export function NodePanel(props: NodePanelProps): JSX.Element {
  const { client, execution, node, now, onClose, dashboardUrl } = props;
  const focus = props.focus ?? 'heading';
  const heading = React.useRef<HTMLHeadingElement>(null);
  const panel = React.useRef<HTMLElement>(null);
  React.useEffect(() => {
    if (focus === 'heading') {
      heading.current?.focus();
    } else if (focus === 'log') {
      const logs = panel.current?.querySelector<HTMLElement>('.plait-ExecutionView-logs');
      logs?.scrollIntoView?.({ block: 'start' });
      logs?.querySelector<HTMLElement>('.plait-ExecutionView-log')?.focus({ preventScroll: true });
    }
  }, [node.path, focus, props.focusSeq]);
  const error = errorView(node.error);
  const usage = usageRows(node.attempts);
  const gpus = gpuUsage(node.attempts);
  // A gate (sleep, wait_for_input, approve) runs on no worker: no log, no resource use.
  const gate = node.kind === 'gate';

  return (
    <aside
      ref={panel}
      className="plait-ExecutionView-panel"
      aria-label={`Node ${node.path}`}
      onKeyDown={e => {
        if (e.key === 'Escape') {
          onClose();
        }
      }}
    >
      <div className="plait-ExecutionView-panel-head">
        <h3 ref={heading} tabIndex={-1}>
          {node.path}
          {node.entity_name && <span className="plait-ExecutionView-muted"> {node.entity_name}</span>}
        </h3>
        <span className={`plait-Badge plait-ExecutionView-badge ${phaseClass(node.phase)}`}>{node.phase}</span>
        <button type="button" className="plait-ExecutionView-close" aria-label="Close node panel" onClick={onClose}>
          ×
        </button>
      </div>
      <p className="plait-ExecutionView-muted">
        {node.kind ?? 'node'} · started {formatTime(node.started_at)} · {formatDuration(elapsed(node.started_at, node.ended_at, now))}
      </p>
      {error && <ErrorBox error={error} />}
      {props.signal && node.phase === 'WAITING' && (
        <section className="plait-SignalPanel" aria-label={`Signal ${props.signal.name}`}>
          <p className="plait-SignalBanner-text">
            <strong>{waitingText(props.signal, now)}</strong>
          </p>
          {props.signal.is_set ? (
            <p role="status" className="plait-SignalForm-sent">
              {props.signal.name} was given its value; the node goes on shortly.
            </p>
          ) : (
            <SignalForm
              client={client}
              executionId={execution.id}
              signal={props.signal}
              onSent={() => props.onSignalSent?.()}
            />
          )}
        </section>
      )}
      {node.reused_from && <ReusedFrom from={node.reused_from} onOpenExecution={props.onOpenExecution} />}
      {(props.onRunFrom || (props.onOpenWorkspace && debuggable(node))) && (
        <div className="plait-ExecutionView-panel-actions">
          {props.onRunFrom && (
            <button
              type="button"
              className="jp-Button jp-mod-styled"
              title={`Run ${node.path} and the nodes after it again; the others take this execution's outputs`}
              onClick={props.onRunFrom}
            >
              Run from here
            </button>
          )}
          {props.onOpenWorkspace && debuggable(node) && (
            <DebugButton client={client} executionId={execution.id} node={node} onOpenWorkspace={props.onOpenWorkspace} />
          )}
        </div>
      )}

      <section>
        <h4>Attempts</h4>
        {node.attempts.length === 0 ? (
          <p className="plait-ExecutionView-muted">
            none
            {node.phase === 'CACHE_HIT' ? ' (outputs from the cache)' : ''}
            {node.phase === 'REUSED' ? ' (outputs reused, not computed again)' : ''}
          </p>
        ) : (
          <table aria-label={`Attempts of ${node.path}`} className="plait-ExecutionView-grid">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Phase</th>
                <th scope="col">Error</th>
                <th scope="col">Pool</th>
                <th scope="col">Worker</th>
                <th scope="col">Start</th>
                <th scope="col">End</th>
              </tr>
            </thead>
            <tbody>
              {node.attempts.map(a => {
                const err = errorView(a.error);
                return (
                  <tr key={a.number}>
                    <td>{a.number}</td>
                    <td>
                      <span className={`plait-Badge plait-ExecutionView-badge ${phaseClass(a.phase)}`}>{a.phase}</span>
                    </td>
                    <td>
                      {a.error_kind && <span className="plait-ExecutionView-errkind">{a.error_kind}</span>}{' '}
                      {err && <span title={err.traceback ?? undefined}>{err.type ? `${err.type}: ` : ''}{err.message}</span>}
                    </td>
                    <td>{a.pool ?? '—'}</td>
                    <td>
                      {a.worker && dashboardUrl ? (
                        <a
                          href={workerPageUrl(dashboardUrl, a.worker)}
                          target="_blank"
                          rel="noopener noreferrer"
                          title={`Open the Dask dashboard's page of worker ${a.worker}`}
                        >
                          {a.worker}
                        </a>
                      ) : (
                        (a.worker ?? '—')
                      )}
                    </td>
                    <td>{formatTime(a.started_at)}</td>
                    <td>{formatTime(a.ended_at)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>

      {!gate && <LogView client={client} executionId={execution.id} node={node} />}
      <Values client={client} title="Inputs" of={node.path} values={node.inputs} />
      <Values client={client} title="Outputs" of={node.path} values={node.outputs} />
      <NodeArtifacts
        client={client}
        executionId={execution.id}
        nodePath={node.path}
        refresh={node.phase}
        onOpenArtifact={props.onOpenArtifact}
      />
      <TaskDefinition client={client} execution={execution} node={node} />

      {!gate && (
        <section>
          <h4>Resource use</h4>
          {usage.length === 0 ? (
            <p className="plait-ExecutionView-muted">not measured</p>
          ) : (
            <table aria-label={`Resource use of ${node.path}`} className="plait-ExecutionView-grid">
              <thead>
                <tr>
                  <th scope="col">Attempt</th>
                  <th scope="col">CPU avg</th>
                  <th scope="col">CPU peak</th>
                  <th scope="col">Memory avg</th>
                  <th scope="col">Memory peak</th>
                  {gpus.size > 0 && (
                    <>
                      <th scope="col">GPU avg</th>
                      <th scope="col">GPU peak</th>
                      <th scope="col">GPU memory peak</th>
                    </>
                  )}
                </tr>
              </thead>
              <tbody>
                {usage.map(u => (
                  <tr key={u.attempt}>
                    <td>{u.attempt}</td>
                    <td>{u.cpuAvg}</td>
                    <td>{u.cpuPeak}</td>
                    <td>{u.memAvg}</td>
                    <td>{u.memPeak}</td>
                    {gpus.size > 0 && (
                      <>
                        <td>{formatPercent(gpus.get(u.attempt)?.gpu_util_avg)}</td>
                        <td>{formatPercent(gpus.get(u.attempt)?.gpu_util_peak)}</td>
                        <td>{formatMiB(gpus.get(u.attempt)?.gpu_mem_peak)}</td>
                      </>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </aside>
  );
}

/** Whether "Debug in a workspace" is offered: a task node that failed (a gate or a subworkflow runs no code of its own). */
export function debuggable(node: Pick<NodeRun, 'phase' | 'kind'>): boolean {
  return node.phase === 'FAILED' && !['workflow', 'launch_plan', 'branch', 'gate'].includes(node.kind ?? '');
}

/**
 * "Debug in a workspace": the backend makes a workspace with the task's code,
 * the node's inputs and a script that calls the task with them, and starts
 * it; its view opens here. What the backend refuses (no registered code, a
 * node that did not fail) is said under the button.
 */
function DebugButton(props: {
  client: PlaitClient;
  executionId: string;
  node: NodeRun;
  onOpenWorkspace: (ws: Workspace) => void;
}): JSX.Element {
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const debug = () => {
    setBusy(true);
    setError(null);
    debugNode(props.client, props.executionId, props.node.path)
      .then(ws => {
        workspacesChanged();
        props.onOpenWorkspace(ws);
      })
      .catch(e => setError(messageOf(e)))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <button
        type="button"
        className="jp-Button jp-mod-styled"
        disabled={busy}
        title={`Open VS Code in the browser with ${props.node.path}'s code and inputs, ready to re-run it under the debugger`}
        onClick={debug}
      >
        {busy ? 'Creating the workspace…' : 'Debug in a workspace'}
      </button>
      {error && (
        <p role="alert" className="plait-Error plait-ExecutionView-debugError">
          {error}
        </p>
      )}
    </>
  );
}

/** "Reused from execution X, node P": X opens that execution. */
function ReusedFrom(props: {
  from: NonNullable<NodeRun['reused_from']>;
  onOpenExecution?: (id: string) => void;
}): JSX.Element {
  const { from, onOpenExecution } = props;
  return (
    <p role="note" className="plait-ExecutionView-reused">
      Reused from execution{' '}
      {onOpenExecution ? (
        <button
          type="button"
          className="plait-Link"
          title={`Open execution ${from.execution_id}`}
          onClick={() => onOpenExecution(from.execution_id)}
        >
          {from.execution_id}
        </button>
      ) : (
        from.execution_id
      )}
      , node {from.path}
    </p>
  );
}

export function ErrorBox(props: {
  error: NonNullable<ReturnType<typeof errorView>>;
  /** The failed node whose log the banner links to (an execution's error), and what opens it. */
  showLog?: { path: string; onShow: () => void };
}): JSX.Element {
  const { error, showLog } = props;
  return (
    <div role="alert" className="plait-ExecutionView-error">
      <strong>
        {error.kind ? `${error.kind} error` : 'Error'}
        {error.type ? ` (${error.type})` : ''}:
      </strong>{' '}
      {error.message}
      {showLog && (
        <div className="plait-ExecutionView-error-actions">
          <button type="button" className="plait-Link" onClick={showLog.onShow}>
            Show log of {showLog.path}
          </button>
        </div>
      )}
      {error.traceback && (
        // Open when plait's frames were folded away: what is left is the user's code, short.
        <details open={error.fullTraceback !== null}>
          <summary>Traceback</summary>
          <pre>{error.traceback}</pre>
        </details>
      )}
      {error.fullTraceback && (
        <details>
          <summary title="The full traceback, with the frames of plait's worker and attempt runner">
            plait frames ({error.foldedFrames})
          </summary>
          <pre>{error.fullTraceback}</pre>
        </details>
      )}
    </div>
  );
}

type TaskState = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; entity: Entity };

function TaskDefinition(props: { client: PlaitClient; execution: Execution; node: NodeRun }): JSX.Element | null {
  const { client, execution, node } = props;
  const name = taskNameOf(node);
  const version = node.entity_version ?? undefined;
  const [task, setTask] = React.useState<TaskState>({ state: 'loading' });
  const project = execution.project;
  const domain = execution.domain;
  React.useEffect(() => {
    if (!name) {
      return;
    }
    let live = true;
    setTask({ state: 'loading' });
    getTask(client, name, version, { project, domain })
      .then(entity => live && setTask({ state: 'done', entity }))
      .catch(error => live && setTask({ state: 'error', message: messageOf(error) }));
    return () => {
      live = false;
    };
  }, [client, name, version, project, domain]);

  if (!name) {
    return null;
  }
  return (
    <section>
      <h4>Task</h4>
      {task.state === 'loading' && <p className="plait-ExecutionView-muted">Loading {name}…</p>}
      {task.state === 'error' && <p className="plait-ExecutionView-muted">{task.message}</p>}
      {task.state === 'done' && (
        <table aria-label={`Task ${name}`} className="plait-ExecutionView-kv">
          <tbody>
            <tr>
              <th scope="row">Name</th>
              <td>
                {task.entity.name} <span className="plait-ExecutionView-muted">{task.entity.version}</span>
              </td>
            </tr>
            {taskSummary(task.entity.spec).map(([label, value]) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
