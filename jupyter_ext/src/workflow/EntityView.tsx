/**
 * A registered workflow, task or launch plan: versions, the docstring and
 * interface, a task's run settings, a workflow's launch plans, the DAG,
 * recent executions and a Launch button.
 */
import * as React from 'react';

import type { Entity, EntityKind, EntitySummary, ExecutionSummary, PlaitClient } from '../api/client';
import { DagView } from '../dag/DagView';
import type { Dag } from '../dag/types';
import { formatTime, shortName } from '../format';
import { Docstring, Interface, NodeRuns, RunsTable, TaskSettings, WorkflowLaunchPlans } from './EntitySpec';
import { LaunchPlanSchedule } from './LaunchPlanSchedule';
import { docstring } from './spec';

const PLURAL = { workflow: 'workflows', task: 'tasks', launch_plan: 'launch_plans' } as const;
const LABEL: Record<EntityKind, string> = { workflow: 'Workflow', task: 'Task', launch_plan: 'Launch plan' };

export interface EntityViewProps {
  client: PlaitClient;
  kind: EntityKind;
  name: string;
  version?: string;
  onLaunch: (kind: EntityKind, name: string, version: string) => void;
  onOpenExecution: (id: string) => void;
  onOpenEntity: (kind: EntityKind, name: string, version?: string) => void;
}

export function EntityView(props: EntityViewProps): JSX.Element {
  const { client, kind, name } = props;
  const plural = PLURAL[kind];
  const [version, setVersion] = React.useState<string | undefined>(props.version);
  const [versions, setVersions] = React.useState<EntitySummary[]>([]);
  const [entity, setEntity] = React.useState<Entity | null>(null);
  const [dag, setDag] = React.useState<Dag | null>(null);
  const [runs, setRuns] = React.useState<ExecutionSummary[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    client
      .request('get', `${plural}/{name}/versions`, { path: { name } })
      .then(page => setVersions(page.items))
      .catch((e: Error) => setError(e.message));
  }, [client, plural, name]);

  React.useEffect(() => {
    setEntity(null);
    setDag(null);
    const query = { version };
    client
      .request('get', `${plural}/{name}`, { path: { name }, query })
      .then(setEntity)
      .catch((e: Error) => setError(e.message));
    client
      .request('get', `${plural}/{name}/dag`, { path: { name }, query })
      .then(setDag)
      .catch((e: Error) => setError(`The DAG could not be loaded: ${e.message}`));
  }, [client, plural, name, version]);

  React.useEffect(() => {
    const query = kind === 'launch_plan' ? { launch_plan: name, limit: 20 } : { name, limit: 20 };
    client
      .request('get', 'executions', { query })
      .then(page => setRuns(page.items))
      .catch((e: Error) => setError(e.message));
  }, [client, kind, name]);

  const spec = (entity?.spec ?? {}) as Record<string, unknown>;
  const workflow = kind === 'launch_plan' ? (spec.workflow as string | undefined) : undefined;
  return (
    <div className="plait-EntityView">
      <header className="plait-ViewHeader">
        <div>
          <div className="plait-Kicker">{LABEL[kind]}</div>
          <h1 title={name}>{shortName(name)}</h1>
          <div className="plait-Muted">{name}</div>
          {entity?.description && <p className="plait-Description">{entity.description}</p>}
        </div>
        <div className="plait-HeaderActions">
          <label className="plait-Field">
            <span>Version</span>
            <select
              aria-label="Version"
              value={version ?? entity?.version ?? ''}
              onChange={e => setVersion(e.target.value)}
            >
              {versions.map(v => (
                <option key={v.version} value={v.version}>
                  {v.version} ({formatTime(v.created_at)}){v.archived ? ' archived' : ''}
                </option>
              ))}
            </select>
          </label>
          <button
            className="plait-Button plait-mod-accept"
            disabled={!entity}
            onClick={() => entity && props.onLaunch(kind, name, entity.version)}
          >
            Launch
          </button>
        </div>
      </header>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {workflow && (
        <p>
          Launches workflow{' '}
          <button className="plait-Link" onClick={() => props.onOpenEntity('workflow', workflow)}>
            {workflow}
          </button>
        </p>
      )}
      {kind === 'launch_plan' && (
        <LaunchPlanSchedule
          client={client}
          name={name}
          version={version ?? entity?.version}
          onOpenExecution={props.onOpenExecution}
        />
      )}
      {entity && docstring(spec) !== (entity.description ?? '').trim() && <Docstring spec={spec} />}
      {entity && <Interface spec={spec} kind={kind} />}
      {entity && kind === 'task' && <TaskSettings spec={spec} />}
      {kind === 'workflow' && (
        <WorkflowLaunchPlans client={client} workflow={name} onOpen={plan => props.onOpenEntity('launch_plan', plan)} />
      )}
      <section aria-label="DAG" className="plait-Section">
        <h2>Graph</h2>
        <div className="plait-EntityDag">
          {dag ? <DagView dag={dag} /> : !error && <div className="plait-Muted">Loading the DAG…</div>}
        </div>
      </section>
      <section aria-label="Recent executions" className="plait-Section">
        <h2>Recent executions</h2>
        {runs && runs.length === 0 && (
          <div className="plait-Muted">{kind === 'launch_plan' ? 'Not launched yet.' : 'Not launched by itself yet.'}</div>
        )}
        {runs && runs.length > 0 && (
          <RunsTable
            runs={runs}
            onOpenExecution={props.onOpenExecution}
            after={[{ header: 'Version', cell: r => r.entity.version }]}
          />
        )}
      </section>
      {kind !== 'launch_plan' && (
        <NodeRuns client={client} kind={kind} name={name} onOpenExecution={props.onOpenExecution} />
      )}
    </div>
  );
}
