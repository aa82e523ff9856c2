/**
 * The read-only parts of an entity page that come from its spec: the
 * docstring, the interface, a task's run settings, and a workflow's launch
 * plans (listed by the backend).
 */
import * as React from 'react';

import type { EntityKind, EntityListItem, PlaitClient } from '../api/client';
import { ago, formatDuration, formatTime, shortName } from '../format';
import { phaseClass } from '../phases';
import { docstring, inputRows, outputRows, taskSettingRows } from './spec';

type Spec = Record<string, unknown>;

/** The docstring, as written (paragraphs and indentation kept); nothing when there is none. */
export function Docstring(props: { spec: Spec }): JSX.Element | null {
  const text = docstring(props.spec);
  if (!text) {
    return null;
  }
  return (
    <section aria-label="Docstring" className="plait-Section">
      <h2>Docstring</h2>
      <pre className="plait-Docstring">{text}</pre>
    </section>
  );
}

/** Inputs (type, default or "required", a launch plan's fixed ones marked) and outputs. */
export function Interface(props: { spec: Spec; kind: EntityKind }): JSX.Element {
  const inputs = inputRows(props.spec);
  const outputs = outputRows(props.spec);
  return (
    <section aria-label="Interface" className="plait-Section">
      <h2>Interface</h2>
      <div className="plait-Interface">
        <table className="plait-Table" aria-label="Inputs">
          <thead>
            <tr>
              <th>Input</th>
              <th>Type</th>
              <th>{props.kind === 'launch_plan' ? 'Value' : 'Default'}</th>
            </tr>
          </thead>
          <tbody>
            {inputs.length === 0 && (
              <tr>
                <td colSpan={3} className="plait-Muted">
                  No inputs.
                </td>
              </tr>
            )}
            {inputs.map(i => (
              <tr key={i.name}>
                <td>
                  <code>{i.name}</code>
                </td>
                <td>
                  <code>{i.type}</code>
                </td>
                <td className={i.default === 'required' ? 'plait-Muted' : undefined}>
                  {i.default === 'required' ? 'required' : <code>{i.default}</code>}
                  {i.fixed && <span className="plait-Tag">fixed</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <table className="plait-Table" aria-label="Outputs">
          <thead>
            <tr>
              <th>Output</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {outputs.length === 0 && (
              <tr>
                <td colSpan={2} className="plait-Muted">
                  No outputs.
                </td>
              </tr>
            )}
            {outputs.map(o => (
              <tr key={o.name}>
                <td>
                  <code>{o.name}</code>
                </td>
                <td>
                  <code>{o.type}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Retries, cache, timeout, requests and limits, and what else the task sets. */
export function TaskSettings(props: { spec: Spec }): JSX.Element {
  return (
    <section aria-label="Run settings" className="plait-Section">
      <h2>Run settings</h2>
      <dl className="plait-Settings">
        {taskSettingRows(props.spec).map(row => (
          <React.Fragment key={row.label}>
            <dt>{row.label}</dt>
            <dd className={row.unset ? 'plait-Muted' : undefined}>{row.value}</dd>
          </React.Fragment>
        ))}
      </dl>
    </section>
  );
}

/** The launch plans that launch this workflow (its default plan first), each opening its page. */
export function WorkflowLaunchPlans(props: {
  client: PlaitClient;
  workflow: string;
  onOpen: (name: string) => void;
}): JSX.Element {
  const { client, workflow } = props;
  const [plans, setPlans] = React.useState<EntityListItem[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    const controller = new AbortController();
    client
      .request('get', 'launch_plans', { query: { workflow, limit: 100 }, signal: controller.signal })
      .then(page => {
        const byName = [...page.items].sort((a, b) => a.name.localeCompare(b.name));
        setPlans([...byName.filter(p => p.name === workflow), ...byName.filter(p => p.name !== workflow)]);
      })
      .catch((e: Error) => {
        if (e.name !== 'AbortError') {
          setError(`The launch plans could not be loaded: ${e.message}`);
        }
      });
    return () => controller.abort();
  }, [client, workflow]);
  return (
    <section aria-label="Launch plans" className="plait-Section">
      <h2>Launch plans</h2>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {plans === null && !error && <div className="plait-Muted">Loading launch plans…</div>}
      {plans?.length === 0 && (
        <div className="plait-Empty">
          None yet: registering the workflow adds its default launch plan; define others with{' '}
          <code>LaunchPlan.get_or_create(...)</code>.
        </div>
      )}
      {plans && plans.length > 0 && (
        <ul className="plait-PlanList">
          {plans.map(p => (
            <li key={p.name}>
              <button className="plait-Link" title={p.name} onClick={() => props.onOpen(p.name)}>
                {shortName(p.name)}
              </button>
              {p.name === workflow && <span className="plait-Tag">default</span>}
              {p.description && <span className="plait-Muted plait-PlanList-description">{p.description}</span>}
              <span className="plait-Muted">
                {p.last_execution_at ? `last run ${ago(p.last_execution_at)}` : 'never launched'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * The latest runs of a task (or workflow) as a node of another workflow's execution, from
 * the entity listing's last runs; nothing when it has none. Each opens its execution.
 */
export function NodeRuns(props: {
  client: PlaitClient;
  kind: 'task' | 'workflow';
  name: string;
  onOpenExecution: (id: string) => void;
}): JSX.Element | null {
  const { client, kind, name } = props;
  const [runs, setRuns] = React.useState<EntityListItem['recent']>([]);
  React.useEffect(() => {
    const controller = new AbortController();
    const plural = kind === 'task' ? 'tasks' : 'workflows';
    client
      .request('get', `${plural}`, {
        query: { name_contains: name, limit: 100 },
        signal: controller.signal
      })
      .then(page => setRuns((page.items.find(i => i.name === name)?.recent ?? []).filter(r => r.node_path)))
      .catch(() => setRuns([])); // the section is extra: the page's own error shows what failed
    return () => controller.abort();
  }, [client, kind, name]);
  if (runs.length === 0) {
    return null;
  }
  return (
    <section aria-label="Runs inside workflows" className="plait-Section">
      <h2>Runs inside workflows</h2>
      <RunsTable
        runs={runs}
        onOpenExecution={props.onOpenExecution}
        before={[
          { header: 'Workflow', cell: r => <span title={r.workflow ?? ''}>{shortName(r.workflow ?? '')}</span> },
          { header: 'Node', cell: r => <code>{r.node_path}</code> }
        ]}
      />
    </section>
  );
}

/** A column of `RunsTable` beside the ones every run has. */
export interface RunColumn<R> {
  header: string;
  cell: (run: R) => React.ReactNode;
}

/**
 * Runs as a table: the execution (a link), `before` columns, its status, `after` columns, when it
 * started and how long it ran.
 */
export function RunsTable<
  R extends { id: string; phase: string; created_at: string; started_at?: string | null; duration_s?: number | null }
>(props: { runs: readonly R[]; onOpenExecution: (id: string) => void; before?: RunColumn<R>[]; after?: RunColumn<R>[] }): JSX.Element {
  const before = props.before ?? [];
  const after = props.after ?? [];
  return (
    <table className="plait-Table">
      <thead>
        <tr>
          <th>Execution</th>
          {before.map(c => (
            <th key={c.header}>{c.header}</th>
          ))}
          <th>Status</th>
          {after.map(c => (
            <th key={c.header}>{c.header}</th>
          ))}
          <th>Started</th>
          <th>Duration</th>
        </tr>
      </thead>
      <tbody>
        {props.runs.map(r => (
          <tr key={r.id}>
            <td>
              <button className="plait-Link" onClick={() => props.onOpenExecution(r.id)}>
                {r.id}
              </button>
            </td>
            {before.map(c => (
              <td key={c.header}>{c.cell(r)}</td>
            ))}
            <td>
              <span className={`plait-Badge ${phaseClass(r.phase)}`}>{r.phase}</span>
            </td>
            {after.map(c => (
              <td key={c.header}>{c.cell(r)}</td>
            ))}
            <td>{formatTime(r.started_at ?? r.created_at)}</td>
            <td>{formatDuration(r.duration_s)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
