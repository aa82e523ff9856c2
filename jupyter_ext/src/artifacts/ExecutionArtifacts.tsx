/**
 * The artifacts of an execution in its view: in a node's panel the versions
 * the node emitted (or linked from the cache) and the ones it consumed; in the
 * header the ones the execution itself consumed (an input default resolved
 * from a query at launch, or the version that triggered it). Each opens the
 * artifact view. Read from `GET executions/{id}/artifacts`.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { ApiError } from '../api/client';
import { getExecutionArtifacts, type Scope } from './api';
import { versionLabel } from './lineage';
import { partitionText } from './search';
import type { ArtifactUse, ExecutionArtifacts } from './types';

export type OpenArtifact = (name: string, version: string, scope: Scope) => void;

type State = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; value: ExecutionArtifacts };

/** What `how` says, in words: emitted, from the cache, an input's query, the trigger. */
const HOW: Record<string, string> = {
  emitted: 'emitted',
  cache_hit: 'from the cache',
  query: 'query default',
  trigger: 'trigger'
};

/**
 * The execution's artifacts, read again when `refresh` changes (a node's or
 * the execution's phase: a node that succeeds emits its versions then). A
 * backend without the route (404) answers "none".
 */
export function useExecutionArtifacts(client: PlaitClient, executionId: string, refresh: unknown): State {
  const [state, setState] = React.useState<State>({ state: 'loading' });
  React.useEffect(() => {
    let live = true;
    getExecutionArtifacts(client, executionId)
      .then(value => live && setState({ state: 'done', value }))
      .catch(e => {
        if (!live) {
          return;
        }
        if (e instanceof ApiError && e.status === 404) {
          setState({ state: 'done', value: { emitted: [], consumed: [] } });
        } else {
          setState({ state: 'error', message: e instanceof Error ? e.message : String(e) });
        }
      });
    return () => {
      live = false;
    };
  }, [client, executionId, refresh]);
  return state;
}

/** The uses of one node (`nodePath`), or of the execution itself ('': query defaults and triggers). */
export function usesOf(
  artifacts: ExecutionArtifacts,
  nodePath: string
): { emitted: ArtifactUse[]; consumed: ArtifactUse[] } {
  const at = (u: ArtifactUse) => (u.node_path || '') === nodePath;
  return { emitted: artifacts.emitted.filter(at), consumed: artifacts.consumed.filter(at) };
}

function UseList(props: {
  label: string;
  uses: ArtifactUse[];
  /** Emitted (the port is an output) rather than consumed (an input). */
  made: boolean;
  onOpenArtifact?: OpenArtifact;
}): JSX.Element {
  return (
    <ul aria-label={props.label} className="plait-ArtifactUses">
      {props.uses.map(u => {
        const a = u.artifact;
        const partitions = partitionText(a.partitions);
        const where = [
          HOW[u.how] ?? u.how,
          u.port ? `${props.made ? 'output' : 'input'} ${u.port}` : '',
          partitions,
          a.time_partition ? `time ${a.time_partition}` : ''
        ].filter(Boolean);
        return (
          <li key={`${u.how}:${u.port}:${a.name}@${a.version}`}>
            {props.onOpenArtifact ? (
              <button
                type="button"
                className="plait-Link"
                title={`Open ${a.uri}`}
                onClick={() => props.onOpenArtifact?.(a.name, a.version, { project: a.project, domain: a.domain })}
              >
                {versionLabel(a.name, a.version)}
              </button>
            ) : (
              versionLabel(a.name, a.version)
            )}{' '}
            <span className="plait-ExecutionView-muted">{where.join(' · ')}</span>
          </li>
        );
      })}
    </ul>
  );
}

/** A node panel's "Artifacts": what the node emitted and consumed; nothing when it has none. */
export function NodeArtifacts(props: {
  client: PlaitClient;
  executionId: string;
  nodePath: string;
  /** Read again when it changes (the node's phase). */
  refresh?: unknown;
  onOpenArtifact?: OpenArtifact;
}): JSX.Element | null {
  const state = useExecutionArtifacts(props.client, props.executionId, props.refresh);
  if (state.state === 'loading') {
    return null;
  }
  if (state.state === 'error') {
    return (
      <section>
        <h4>Artifacts</h4>
        <p className="plait-ExecutionView-muted">{state.message}</p>
      </section>
    );
  }
  const { emitted, consumed } = usesOf(state.value, props.nodePath);
  if (emitted.length === 0 && consumed.length === 0) {
    return null;
  }
  return (
    <section className="plait-ArtifactUses-section">
      <h4>Artifacts</h4>
      {emitted.length > 0 && (
        <UseList
          label={`Artifacts emitted by ${props.nodePath}`}
          uses={emitted}
          made
          onOpenArtifact={props.onOpenArtifact}
        />
      )}
      {consumed.length > 0 && (
        <UseList
          label={`Artifacts consumed by ${props.nodePath}`}
          uses={consumed}
          made={false}
          onOpenArtifact={props.onOpenArtifact}
        />
      )}
    </section>
  );
}

/** The execution header's "Artifact inputs": versions resolved at launch (query defaults) or that triggered it. */
export function ExecutionArtifactInputs(props: {
  client: PlaitClient;
  executionId: string;
  refresh?: unknown;
  onOpenArtifact?: OpenArtifact;
}): JSX.Element | null {
  const state = useExecutionArtifacts(props.client, props.executionId, props.refresh);
  if (state.state !== 'done') {
    return null;
  }
  const { consumed } = usesOf(state.value, '');
  if (consumed.length === 0) {
    return null;
  }
  return (
    <section className="plait-ExecutionView-values plait-ArtifactUses-section">
      <h4>Artifact inputs</h4>
      <UseList
        label="Artifacts consumed by the execution"
        uses={consumed}
        made={false}
        onOpenArtifact={props.onOpenArtifact}
      />
    </section>
  );
}
