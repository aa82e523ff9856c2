/**
 * One workspace in the main area: its phase (and why it failed or stopped),
 * resources, accelerator, idle TTL, last activity, its log (asked again
 * while it starts or stops), Start/Stop, Archive/Unarchive, Edit, "Open in
 * VS Code", and for a debug workspace the execution and node it reproduces.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { follow, isHiddenElement } from '../execution/model';
import { formatTime } from '../format';
import { phaseClass } from '../phases';
import { act, getWorkspace, workspaceLog, type Action, type Scope } from './api';
import { onWorkspacesChanged, workspacesChanged } from './changes';
import { headingFor, isTransitional, originOf, resourcesText, settled, switchedOn, ttlText, vscodeUrl } from './model';
import type { Workspace } from './types';
import { openInNewTab } from './WorkspaceList';

export interface WorkspaceViewProps {
  client: PlaitClient;
  name: string;
  scope?: Scope;
  /** The lab's base URL: "Open in VS Code" opens `<base>plait/workspaces/<p>/<d>/<name>/`. */
  baseUrl: string;
  onOpenExecution: (id: string) => void;
  onEdit: (name: string, scope: Scope) => void;
  /** Called each time the workspace is read (the tab's caption follows its phase). */
  onLoaded?: (ws: Workspace) => void;
  openWindow?: (url: string) => void;
}

type State = { state: 'loading' } | { state: 'error'; message: string } | { state: 'done'; ws: Workspace; log: string[] };

const LOG_TAIL = 200;

export function WorkspaceView(props: WorkspaceViewProps): JSX.Element {
  const { client, name } = props;
  const project = props.scope?.project;
  const domain = props.scope?.domain;
  const [state, setState] = React.useState<State>({ state: 'loading' });
  const [changed, setChanged] = React.useState(0);
  const [busy, setBusy] = React.useState<Action | null>(null);
  const [actionError, setActionError] = React.useState<string | null>(null);
  const root = React.useRef<HTMLDivElement>(null);
  const { onLoaded } = props;

  React.useEffect(() => onWorkspacesChanged(() => setChanged(c => c + 1)), []);
  React.useEffect(() => {
    const scope = { project, domain };
    const follower = follow<{ ws: Workspace; log: string[] }>({
      name: `plait:workspace:${name}`,
      fetch: async () => {
        const [ws, log] = await Promise.all([getWorkspace(client, name, scope), workspaceLog(client, name, scope, LOG_TAIL)]);
        return { ws, log };
      },
      onData: ({ ws, log }) => {
        setState({ state: 'done', ws, log });
        onLoaded?.(ws);
      },
      onError: e => setState(s => (s.state === 'done' ? s : { state: 'error', message: e instanceof Error ? e.message : String(e) })),
      done: ({ ws }) => settled(ws),
      key: ({ ws, log }) => `${ws.phase}:${ws.updated_at}:${log.length}:${log[log.length - 1] ?? ''}`,
      hidden: () => isHiddenElement(root.current)
    });
    return () => follower.dispose();
  }, [client, name, project, domain, changed]);

  if (state.state !== 'done') {
    return (
      <div className="plait-WorkspaceView" ref={root}>
        {state.state === 'error' ? (
          <p role="alert" className="plait-Error">
            Workspace {name}: {state.message}
          </p>
        ) : (
          <p className="plait-Muted">Loading workspace {name}…</p>
        )}
      </div>
    );
  }
  const { ws, log } = state;
  const scope = { project: ws.project, domain: ws.domain };
  const run = (action: Action) => {
    setBusy(action);
    setActionError(null);
    act(client, ws.name, action, scope)
      .then(() => workspacesChanged())
      .catch(e => setActionError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(null));
  };
  const on = switchedOn(ws);
  const moving = isTransitional(ws.phase);
  const origin = originOf(ws);
  const openWindow = props.openWindow ?? openInNewTab;
  return (
    <div className="plait-WorkspaceView" ref={root} role="region" aria-label={`Workspace ${ws.name}`}>
      <header className="plait-ViewHeader">
        <div>
          <div className="plait-Kicker">{origin ? 'Debug workspace' : 'Workspace'}</div>
          <h1>
            {ws.name} <span className={`plait-Badge ${phaseClass(ws.phase)}`}>{ws.phase}</span>
            {ws.archived && <span className="plait-Badge"> archived</span>}
          </h1>
          <div className="plait-WorkspaceView-sub">
            {ws.project}/{ws.domain}
            {ws.description ? ` · ${ws.description}` : ''}
          </div>
        </div>
        <div className="plait-WorkspaceView-actions">
          {ws.phase === 'ACTIVE' && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-accept"
              title="Open this workspace's VS Code in a new browser tab"
              onClick={() => openWindow(vscodeUrl(props.baseUrl, ws))}
            >
              Open in VS Code
            </button>
          )}
          {!ws.archived && (
            <button type="button" className="jp-Button jp-mod-styled" disabled={busy !== null || moving} onClick={() => run(on ? 'stop' : 'start')}>
              {on ? (busy === 'stop' ? 'Stopping…' : 'Stop') : busy === 'start' ? 'Starting…' : 'Start'}
            </button>
          )}
          {!ws.archived && (
            <button type="button" className="jp-Button jp-mod-styled" onClick={() => props.onEdit(ws.name, scope)}>
              Edit
            </button>
          )}
          <button
            type="button"
            className="jp-Button jp-mod-styled"
            disabled={busy !== null}
            title={ws.archived ? 'Show it in the list again' : 'Stop it (saving its folder) and hide it from the list'}
            onClick={() => run(ws.archived ? 'unarchive' : 'archive')}
          >
            {ws.archived ? 'Unarchive' : 'Archive'}
          </button>
        </div>
      </header>
      {actionError && (
        <p role="alert" className="plait-Error">
          {actionError}
        </p>
      )}
      {ws.restart_needed && (
        <p role="note" className="plait-WorkspaceView-note">
          Its spec changed while it ran: stop and start it to apply the change.
        </p>
      )}
      {ws.reason && (
        <p role={ws.phase === 'FAILED' ? 'alert' : 'status'} className={ws.phase === 'FAILED' ? 'plait-Error' : 'plait-WorkspaceView-note'}>
          {ws.phase === 'FAILED' ? 'Failed: ' : ''}
          {ws.reason}
        </p>
      )}
      <dl className="plait-ArtifactView-facts plait-WorkspaceView-facts" aria-label="About this workspace">
        <dt>Phase</dt>
        <dd>
          {ws.phase}
          {headingFor(ws) ? ` (asked to be ${ws.desired})` : ''}
        </dd>
        <dt>Resources</dt>
        <dd>{resourcesText(ws)}</dd>
        <dt>Accelerator</dt>
        <dd>{ws.accelerator ?? <span className="plait-ArtifactView-none">none</span>}</dd>
        <dt>Idle TTL</dt>
        <dd>{ttlText(ws.ttl_seconds)}</dd>
        <dt>Last activity</dt>
        <dd>{formatTime(ws.last_activity)}</dd>
        <dt>Started</dt>
        <dd>{formatTime(ws.started_at)}</dd>
        <dt>Stopped</dt>
        <dd>{formatTime(ws.stopped_at)}</dd>
        <dt>Folder saved</dt>
        <dd>{formatTime(ws.saved_at)}</dd>
        {ws.pool && (
          <>
            <dt>Pool</dt>
            <dd>{ws.pool}</dd>
          </>
        )}
        {origin && (
          <>
            <dt>Made from</dt>
            <dd>
              node {origin.node_id}
              {origin.task ? ` (${origin.task})` : ''} of execution{' '}
              <button
                type="button"
                className="plait-Link"
                title={`Open execution ${origin.execution_id}`}
                onClick={() => props.onOpenExecution(origin.execution_id)}
              >
                {origin.execution_id}
              </button>
            </dd>
          </>
        )}
      </dl>
      <section className="plait-Section" aria-label="Log">
        <h2>Log</h2>
        {log.length === 0 ? (
          <p className="plait-Muted">Nothing logged yet.</p>
        ) : (
          <pre className="plait-WorkspaceView-log" tabIndex={0} aria-label={`Log of ${ws.name}`}>
            {log.join('\n')}
          </pre>
        )}
      </section>
    </div>
  );
}
