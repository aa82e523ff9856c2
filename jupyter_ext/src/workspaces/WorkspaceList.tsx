/**
 * The sidebar's Workspaces tab: one row per workspace (name, phase, CPU,
 * memory, GPU, idle TTL, when it was last updated) with a start/stop switch
 * and, for an ACTIVE one, "Open in VS Code" (the lab's forward of its
 * code-server, in a new browser tab). Toggles keep only ACTIVE ones, sort the
 * most recently updated first and show archived ones. The list is asked again
 * while a workspace is STARTING or STOPPING (or asked to and not yet there), and
 * whenever one changes here.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { follow, isHiddenElement } from '../execution/model';
import { ago, formatTime } from '../format';
import { phaseClass } from '../phases';
import { act, listWorkspaces, type Scope } from './api';
import { onWorkspacesChanged, workspacesChanged } from './changes';
import {
  arrange,
  DEFAULT_FILTER,
  isTransitional,
  resourcesText,
  settled,
  switchedOn,
  ttlText,
  vscodeUrl,
  type ListFilter
} from './model';
import type { Workspace } from './types';

export interface WorkspaceListProps {
  client: PlaitClient;
  /** Bumped by the sidebar to reload (on refresh). */
  generation: number;
  /** The lab's base URL: "Open in VS Code" opens `<base>plait/workspaces/<p>/<d>/<name>/`. */
  baseUrl: string;
  onOpenWorkspace: (name: string, scope: Scope) => void;
  onNewWorkspace: () => void;
  onEditWorkspace: (name: string, scope: Scope) => void;
  /** Opens a URL in a new browser tab (`window.open`; tests pass their own). */
  openWindow?: (url: string) => void;
}

/** `window.open` in a new tab, without giving the new page a handle on the lab. */
export function openInNewTab(url: string): void {
  window.open(url, '_blank', 'noopener');
}

/** A toggle button of the list's controls (`aria-pressed`). */
function Toggle(props: { pressed: boolean; onChange: (on: boolean) => void; title: string; children: string }): JSX.Element {
  return (
    <button
      type="button"
      className={props.pressed ? 'plait-ToggleButton plait-mod-pressed' : 'plait-ToggleButton'}
      aria-pressed={props.pressed}
      title={props.title}
      onClick={() => props.onChange(!props.pressed)}
    >
      {props.children}
    </button>
  );
}

export function WorkspaceList(props: WorkspaceListProps): JSX.Element {
  const { client } = props;
  const [filter, setFilter] = React.useState<ListFilter>(DEFAULT_FILTER);
  const [items, setItems] = React.useState<Workspace[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [changed, setChanged] = React.useState(0);
  const shown = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => onWorkspacesChanged(() => setChanged(c => c + 1)), []);
  React.useEffect(() => {
    const follower = follow<Workspace[]>({
      name: 'plait:workspaces',
      fetch: () => listWorkspaces(client, filter),
      onData: found => {
        setItems(found);
        setError(null);
      },
      onError: e => setError(e instanceof Error ? e.message : String(e)),
      done: found => found.every(settled),
      key: found => JSON.stringify(found.map(w => [w.name, w.phase, w.updated_at])),
      hidden: () => isHiddenElement(shown.current)
    });
    return () => follower.dispose();
  }, [client, filter, props.generation, changed]);

  const rows = items ? arrange(items, filter) : null;
  const set = (patch: Partial<ListFilter>) => setFilter(f => ({ ...f, ...patch }));
  return (
    <div className="plait-WorkspaceList" ref={shown}>
      <div className="plait-ListControls plait-WorkspaceList-controls">
        <button type="button" className="jp-Button jp-mod-styled jp-mod-accept plait-WorkspaceList-new" onClick={props.onNewWorkspace}>
          New workspace
        </button>
        <div role="group" aria-label="Which workspaces" className="plait-WorkspaceList-toggles">
          <Toggle pressed={filter.activeOnly} onChange={on => set({ activeOnly: on })} title="Show only running workspaces">
            Active
          </Toggle>
          <Toggle pressed={filter.recent} onChange={on => set({ recent: on })} title="Most recently updated first">
            Recently updated
          </Toggle>
          <Toggle pressed={filter.showArchived} onChange={on => set({ showArchived: on })} title="Show archived workspaces too">
            Show archived
          </Toggle>
        </div>
      </div>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
      {rows === null && !error && <div className="plait-Muted">Loading workspaces…</div>}
      {rows !== null && rows.length === 0 && <EmptyWorkspaces filtered={filter.activeOnly} />}
      <ul className="plait-Rows" aria-label="Workspaces">
        {rows?.map(ws => (
          <WorkspaceRow
            key={`${ws.project}/${ws.domain}/${ws.name}`}
            client={client}
            ws={ws}
            baseUrl={props.baseUrl}
            onOpen={props.onOpenWorkspace}
            onEdit={props.onEditWorkspace}
            openWindow={props.openWindow ?? openInNewTab}
          />
        ))}
      </ul>
    </div>
  );
}

function EmptyWorkspaces(props: { filtered: boolean }): JSX.Element {
  return (
    <div className="plait-Empty" role="status">
      <p>{props.filtered ? 'No workspace is running.' : 'No workspaces yet.'}</p>
      <p>
        A workspace is VS Code in the browser, run by the plait server. Create one with “New workspace”, or with{' '}
        <code>plait create workspace FILE</code> from a <code>workspace.yaml</code>.
      </p>
    </div>
  );
}

function WorkspaceRow(props: {
  client: PlaitClient;
  ws: Workspace;
  baseUrl: string;
  onOpen: WorkspaceListProps['onOpenWorkspace'];
  onEdit: WorkspaceListProps['onEditWorkspace'];
  openWindow: (url: string) => void;
}): JSX.Element {
  const { client, ws } = props;
  const scope = { project: ws.project, domain: ws.domain };
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const on = switchedOn(ws);
  const toggle = () => {
    setBusy(true);
    setError(null);
    act(client, ws.name, on ? 'stop' : 'start', scope)
      .then(() => workspacesChanged())
      .catch(e => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  const meta = [resourcesText(ws), `TTL ${ttlText(ws.ttl_seconds)}`, `updated ${ago(ws.updated_at)}`].join(' · ');
  return (
    <li className="plait-Row plait-WorkspaceRow">
      <div className="plait-WorkspaceRow-line">
        <button
          className="plait-RowMain"
          aria-label={`Workspace ${ws.name}`}
          title={`${ws.name} (${ws.project}/${ws.domain}), updated ${formatTime(ws.updated_at)}`}
          onClick={() => props.onOpen(ws.name, scope)}
        >
          <span className="plait-WorkspaceRow-head">
            <span className="plait-RowName">{ws.name}</span>
            <span className={`plait-Badge ${phaseClass(ws.phase)}`}>{ws.phase}</span>
            {ws.archived && <span className="plait-Badge">archived</span>}
          </span>
          <span className="plait-RowMeta">{meta}</span>
        </button>
        <button
          type="button"
          role="switch"
          aria-checked={on}
          aria-label={`Run ${ws.name}`}
          title={on ? `Stop ${ws.name} (its working directory is saved first)` : `Start ${ws.name}`}
          className="plait-Switch"
          disabled={busy || ws.archived || isTransitional(ws.phase)}
          onClick={toggle}
        >
          <span className="plait-Switch-knob" />
        </button>
      </div>
      <div className="plait-WorkspaceRow-actions">
        {ws.phase === 'ACTIVE' && (
          <button
            type="button"
            className="plait-Link"
            title="Open this workspace's VS Code in a new browser tab"
            onClick={() => props.openWindow(vscodeUrl(props.baseUrl, ws))}
          >
            Open in VS Code
          </button>
        )}
        {!ws.archived && (
          <button type="button" className="plait-Link" aria-label={`Edit ${ws.name}`} onClick={() => props.onEdit(ws.name, scope)}>
            Edit
          </button>
        )}
        {ws.phase === 'FAILED' && ws.reason && (
          <span className="plait-WorkspaceRow-reason" title={ws.reason}>
            {ws.reason}
          </span>
        )}
      </div>
      {error && (
        <div role="alert" className="plait-Error">
          {error}
        </div>
      )}
    </li>
  );
}
