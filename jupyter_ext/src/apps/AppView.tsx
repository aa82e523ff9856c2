/**
 * One app in the main area: its status (and why), revision, whether it needs
 * a login, resources, inputs (the artifact versions it serves), replicas,
 * events and the log of a chosen replica; Start/Stop and "Open". Asked again
 * every 2 s while it is on its way somewhere or a replica starts or backs off.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { isHiddenElement } from '../execution/model';
import { formatTime } from '../format';
import { act, appEvents, appLogs, getApp, type Action, type Scope } from './api';
import { appsChanged, onAppsChanged } from './changes';
import { openInNewTab } from './AppList';
import {
  appUrl,
  bySlot,
  changing,
  inputRows,
  logReplica,
  openable,
  resourcesText,
  restartsText,
  runningWanted,
  STATUS_HELP,
  statusClass,
  viewShouldPoll
} from './model';
import { watch } from './poll';
import type { AppEvent, AppView as App } from './types';

export interface AppViewProps {
  client: PlaitClient;
  name: string;
  scope?: Scope;
  /** The lab's base URL: "Open" opens `<base>plait/apps/<p>/<d>/<name>/`. */
  baseUrl: string;
  /** Called each time the app is read (the tab's caption follows its status). */
  onLoaded?: (app: App) => void;
  openWindow?: (url: string) => void;
}

interface Loaded {
  app: App;
  events: AppEvent[];
  log: string[];
  /** The replica the log is of. */
  slot: number;
}

type State = { state: 'loading' } | { state: 'error'; message: string } | ({ state: 'done' } & Loaded);

const LOG_TAIL = 200;

export function AppView(props: AppViewProps): JSX.Element {
  const { client, name, onLoaded } = props;
  const project = props.scope?.project;
  const domain = props.scope?.domain;
  const [state, setState] = React.useState<State>({ state: 'loading' });
  const [chosen, setChosen] = React.useState<number | null>(null);
  const [changed, setChanged] = React.useState(0);
  const [busy, setBusy] = React.useState<Action | null>(null);
  const [actionError, setActionError] = React.useState<string | null>(null);
  const root = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => onAppsChanged(() => setChanged(c => c + 1)), []);
  React.useEffect(() => {
    const scope = { project, domain };
    const watcher = watch<Loaded>({
      name: `plait:app:${name}`,
      fetch: async () => {
        const app = await getApp(client, name, scope);
        const slot = logReplica(app.replicas, chosen);
        const [events, log] = await Promise.all([appEvents(client, name, scope), appLogs(client, name, slot, scope, LOG_TAIL)]);
        return { app, events, log, slot };
      },
      onData: loaded => {
        setState({ state: 'done', ...loaded });
        onLoaded?.(loaded.app);
      },
      onError: e =>
        setState(s => (s.state === 'done' ? s : { state: 'error', message: e instanceof Error ? e.message : String(e) })),
      again: ({ app }) => viewShouldPoll(app),
      hidden: () => isHiddenElement(root.current)
    });
    return () => watcher.dispose();
  }, [client, name, project, domain, chosen, changed]);

  if (state.state !== 'done') {
    return (
      <div className="plait-AppView" ref={root}>
        {state.state === 'error' ? (
          <p role="alert" className="plait-Error">
            App {name}: {state.message}
          </p>
        ) : (
          <p className="plait-Muted">Loading app {name}…</p>
        )}
      </div>
    );
  }
  const { app, events, log, slot } = state;
  const scope = { project: app.project, domain: app.domain };
  const run = (action: Action) => {
    setBusy(action);
    setActionError(null);
    act(client, app.name, action, scope)
      .then(() => appsChanged())
      .catch(e => setActionError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(null));
  };
  const wanted = runningWanted(app);
  const inputs = inputRows(app.inputs);
  const replicas = bySlot(app.replicas);
  const openWindow = props.openWindow ?? openInNewTab;
  return (
    <div className="plait-AppView" ref={root} role="region" aria-label={`App ${app.name}`}>
      <header className="plait-ViewHeader">
        <div>
          <div className="plait-Kicker">App</div>
          <h1>
            {app.name}{' '}
            <span className={`plait-Badge ${statusClass(app.status)}`} title={STATUS_HELP[app.status]}>
              {app.status}
            </span>
          </h1>
          <div className="plait-AppView-sub">
            {app.project}/{app.domain} · <code>{app.url}</code>
          </div>
        </div>
        <div className="plait-AppView-actions">
          {openable(app) && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-accept"
              title="Open the app in a new browser tab (through the lab, with your login)"
              onClick={() => openWindow(appUrl(props.baseUrl, app))}
            >
              Open
            </button>
          )}
          <button
            type="button"
            className="jp-Button jp-mod-styled"
            disabled={busy !== null}
            title={wanted ? 'Stop its replicas (its spec and revision stay)' : 'Start it again'}
            onClick={() => run(wanted ? 'stop' : 'start')}
          >
            {wanted ? (busy === 'stop' ? 'Stopping…' : 'Stop') : busy === 'start' ? 'Starting…' : 'Start'}
          </button>
          <button type="button" className="jp-Button jp-mod-styled" onClick={() => setChanged(c => c + 1)}>
            Refresh
          </button>
        </div>
      </header>
      {actionError && (
        <p role="alert" className="plait-Error">
          {actionError}
        </p>
      )}
      {app.reason && app.status !== 'Started' && (
        <p role={app.status === 'Failed' ? 'alert' : 'status'} className={app.status === 'Failed' ? 'plait-Error' : 'plait-AppView-note'}>
          {app.status === 'Failed' ? 'Failed: ' : ''}
          {app.reason}
        </p>
      )}
      <dl className="plait-ArtifactView-facts plait-AppView-facts" aria-label="About this app">
        <dt>Status</dt>
        <dd>
          {app.status}
          {changing(app) && app.status !== 'Pending' ? ` (asked to be ${app.desired_state})` : ''}
          {app.reason ? ` · ${app.reason}` : ''}
        </dd>
        <dt>Desired state</dt>
        <dd>{app.desired_state}</dd>
        <dt>Revision</dt>
        <dd>{app.revision}</dd>
        <dt>Requires auth</dt>
        <dd>{app.requires_auth ? 'yes: the lab login or the server’s token' : 'no: public on its own path'}</dd>
        <dt>Resources</dt>
        <dd>{resourcesText(app)}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(app.updated_at)}</dd>
      </dl>
      <section className="plait-Section" aria-label="Inputs">
        <h2>Inputs</h2>
        {inputs.length === 0 ? (
          <p className="plait-Muted">No inputs.</p>
        ) : (
          <table className="plait-Table plait-AppView-table">
            <thead>
              <tr>
                <th scope="col">Input</th>
                <th scope="col">Artifact</th>
                <th scope="col">Variable</th>
                <th scope="col">Downloaded</th>
              </tr>
            </thead>
            <tbody>
              {inputs.map(i => (
                <tr key={i.name}>
                  <td>{i.name}</td>
                  <td>{i.artifact ?? <span className="plait-Muted">a value</span>}</td>
                  <td>{i.envVar ? <code>{i.envVar}</code> : '—'}</td>
                  <td>{i.download ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="plait-Section" aria-label="Replicas">
        <h2>Replicas</h2>
        {replicas.length === 0 ? (
          <p className="plait-Muted">No replica runs.</p>
        ) : (
          <table className="plait-Table plait-AppView-table">
            <thead>
              <tr>
                <th scope="col">Replica</th>
                <th scope="col">Phase</th>
                <th scope="col">Revision</th>
                <th scope="col">Restarts</th>
                <th scope="col">Last exit</th>
                <th scope="col">Ready since</th>
              </tr>
            </thead>
            <tbody>
              {replicas.map(r => (
                <tr key={`${r.slot}-${r.revision}`}>
                  <td>{r.slot}</td>
                  <td>
                    <span className={`plait-Badge ${statusClass(r.phase)}`}>{r.phase}</span>
                  </td>
                  <td>{r.revision}</td>
                  <td>{restartsText(r)}</td>
                  <td>{r.last_exit ?? '—'}</td>
                  <td>{formatTime(r.ready_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="plait-Section" aria-label="Events">
        <h2>Events</h2>
        {events.length === 0 ? (
          <p className="plait-Muted">Nothing happened yet.</p>
        ) : (
          <ol className="plait-AppView-events" aria-label={`Events of ${app.name}`}>
            {events.map((e, i) => (
              <li key={i}>
                <time dateTime={e.at}>{formatTime(e.at)}</time> {e.message}
              </li>
            ))}
          </ol>
        )}
      </section>
      <section className="plait-Section" aria-label="Log">
        <h2>
          Log of replica{' '}
          <select
            aria-label="Replica whose log is shown"
            value={slot}
            disabled={replicas.length < 2}
            onChange={e => setChosen(Number(e.currentTarget.value))}
          >
            {(replicas.length ? [...new Set(replicas.map(r => r.slot))] : [slot]).map(s => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </h2>
        {log.length === 0 ? (
          <p className="plait-Muted">Nothing logged yet.</p>
        ) : (
          <pre className="plait-AppView-log" tabIndex={0} aria-label={`Log of ${app.name} replica ${slot}`}>
            {log.join('\n')}
          </pre>
        )}
      </section>
    </div>
  );
}
