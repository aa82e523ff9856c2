/**
 * The sidebar's Apps tab: one row per app (name, status, the state asked for,
 * CPU, memory, endpoint) with "Open", which opens the lab's forward of the app
 * in a new browser tab. The list is asked again every 2 s while an app is
 * Pending (or asked to start or stop and not there yet), and whenever one
 * changes here.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { isHiddenElement } from '../execution/model';
import { formatTime } from '../format';
import { listApps, type Scope } from './api';
import { onAppsChanged } from './changes';
import { appUrl, cpuText, memText, openable, shouldPoll, STATUS_HELP, statusClass } from './model';
import { watch } from './poll';
import type { AppView } from './types';

export interface AppListProps {
  client: PlaitClient;
  /** Bumped by the sidebar to reload (on refresh). */
  generation: number;
  /** The lab's base URL: "Open" opens `<base>plait/apps/<p>/<d>/<name>/`. */
  baseUrl: string;
  onOpenApp: (name: string, scope: Scope) => void;
  /** Opens a URL in a new browser tab (`window.open`; tests pass their own). */
  openWindow?: (url: string) => void;
}

/** `window.open` in a new tab, without giving the new page a handle on the lab. */
export function openInNewTab(url: string): void {
  window.open(url, '_blank', 'noopener');
}

/** Apps by project, domain and name: the order `plait get apps` prints. */
function arrange(apps: readonly AppView[]): AppView[] {
  return [...apps].sort(
    (a, b) => a.project.localeCompare(b.project) || a.domain.localeCompare(b.domain) || a.name.localeCompare(b.name)
  );
}

export function AppList(props: AppListProps): JSX.Element {
  const { client } = props;
  const [items, setItems] = React.useState<AppView[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [changed, setChanged] = React.useState(0);
  const shown = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => onAppsChanged(() => setChanged(c => c + 1)), []);
  React.useEffect(() => {
    const watcher = watch<AppView[]>({
      name: 'plait:apps',
      fetch: () => listApps(client),
      onData: found => {
        setItems(arrange(found));
        setError(null);
      },
      onError: e => setError(e instanceof Error ? e.message : String(e)),
      again: shouldPoll,
      hidden: () => isHiddenElement(shown.current)
    });
    return () => watcher.dispose();
  }, [client, props.generation, changed]);

  const openWindow = props.openWindow ?? openInNewTab;
  return (
    <div className="plait-AppList" ref={shown}>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {items === null && !error && <div className="plait-Muted">Loading apps…</div>}
      {items !== null && items.length === 0 && (
        <div className="plait-Empty" role="status">
          <p>No apps yet.</p>
          <p>
            An app is a web server (FastAPI, Panel, Streamlit…) run by the plait server. Declare one with{' '}
            <code>plait.app.App</code> and deploy it with <code>plait deploy apps FILE NAME</code>, or make a dashboard of
            an execution with its view’s “Dashboard” button.
          </p>
        </div>
      )}
      <ul className="plait-Rows" aria-label="Apps">
        {items?.map(app => (
          <AppRow
            key={`${app.project}/${app.domain}/${app.name}`}
            app={app}
            onOpen={() => props.onOpenApp(app.name, { project: app.project, domain: app.domain })}
            onOpenEndpoint={() => openWindow(appUrl(props.baseUrl, app))}
          />
        ))}
      </ul>
    </div>
  );
}

function AppRow(props: { app: AppView; onOpen: () => void; onOpenEndpoint: () => void }): JSX.Element {
  const { app } = props;
  return (
    <li className="plait-Row plait-AppRow">
      <div className="plait-AppRow-line">
        <button
          className="plait-RowMain"
          aria-label={`App ${app.name}`}
          title={`${app.name} (${app.project}/${app.domain}), revision ${app.revision}, updated ${formatTime(app.updated_at)}`}
          onClick={props.onOpen}
        >
          <span className="plait-AppRow-head">
            <span className="plait-RowName">{app.name}</span>
            <span className={`plait-Badge ${statusClass(app.status)}`} title={STATUS_HELP[app.status]}>
              {app.status}
            </span>
          </span>
          <span className="plait-RowMeta">
            {[`desired ${app.desired_state}`, cpuText(app), memText(app)].join(' · ')}
          </span>
        </button>
      </div>
      <div className="plait-AppRow-endpoint">
        <code className="plait-AppRow-url" title="Its path on the plait server">
          {app.url}
        </code>
        {openable(app) && (
          <button
            type="button"
            className="plait-Link"
            aria-label={`Open ${app.name}`}
            title="Open the app in a new browser tab (through the lab, with your login)"
            onClick={props.onOpenEndpoint}
          >
            Open
          </button>
        )}
      </div>
      {app.status === 'Failed' && app.reason && (
        <div className="plait-AppRow-reason" title={app.reason}>
          {app.reason}
        </div>
      )}
    </li>
  );
}
