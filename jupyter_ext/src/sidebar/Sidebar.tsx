/** The plait sidebar: registered entities, executions, artifacts, workspaces and apps, one tab each. */
import { refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { EntityKind, PlaitClient } from '../api/client';
import type { Scope as AppScope } from '../apps/api';
import { AppList } from '../apps/AppList';
import type { Scope } from '../artifacts/api';
import { ArtifactList } from '../artifacts/ArtifactList';
import { DashboardLink, useDashboard } from '../dashboard';
import type { Scope as WorkspaceScope } from '../workspaces/api';
import { WorkspaceList } from '../workspaces/WorkspaceList';
import { EntityList, KIND_LABEL } from './EntityList';
import { ExecutionList } from './ExecutionList';

type Tab = EntityKind | 'executions' | 'artifacts' | 'workspaces' | 'apps';
const TABS: Tab[] = ['workflow', 'task', 'launch_plan', 'executions', 'artifacts', 'workspaces', 'apps'];
const TAB_LABEL: Partial<Record<Tab, string>> = {
  executions: 'Executions',
  artifacts: 'Artifacts',
  workspaces: 'Workspaces',
  apps: 'Apps'
};

/** What the Workspaces tab opens (the tab is shown only with it). */
export interface WorkspaceActions {
  /** The lab's base URL, under which it serves each workspace's VS Code. */
  baseUrl: string;
  onOpen: (name: string, scope: WorkspaceScope) => void;
  onNew: () => void;
  onEdit: (name: string, scope: WorkspaceScope) => void;
}

/** What the Apps tab opens (the tab is shown only with it). */
export interface AppActions {
  /** The lab's base URL, under which it serves each app. */
  baseUrl: string;
  onOpen: (name: string, scope: AppScope) => void;
}

export interface SidebarProps {
  client: PlaitClient;
  onOpenEntity: (kind: EntityKind, name: string) => void;
  onOpenExecution: (id: string) => void;
  /** Open every execution as a sortable table in the main area. */
  onOpenExecutionTable?: () => void;
  /** Where the lab serves the Dask dashboard; the link shows while the backend reports one. */
  dashboardUrl?: string;
  /** Open an artifact version's view (the Artifacts tab is shown only with it). */
  onOpenArtifact?: (name: string, version: string, scope: Scope) => void;
  workspaces?: WorkspaceActions;
  apps?: AppActions;
}

/** "Dask dashboard", linking to the lab's forward of it, when the backend has a dashboard. */
function SidebarDashboardLink(props: { client: PlaitClient; url: string; generation: number }): JSX.Element | null {
  const available = useDashboard(props.client, props.url, props.generation);
  return available ? <DashboardLink url={props.url} className="plait-SidebarHeader-dashboard" /> : null;
}

export function Sidebar(props: SidebarProps): JSX.Element {
  const [tab, setTab] = React.useState<Tab>('workflow');
  const [generation, setGeneration] = React.useState(0);
  const label = (t: Tab) => TAB_LABEL[t] ?? KIND_LABEL[t as EntityKind];
  const tabs = TABS.filter(
    t => (t !== 'artifacts' || props.onOpenArtifact) && (t !== 'workspaces' || props.workspaces) && (t !== 'apps' || props.apps)
  );
  return (
    <div className="plait-Sidebar">
      <header className="plait-SidebarHeader">
        <h2>plait</h2>
        {props.dashboardUrl && (
          <SidebarDashboardLink client={props.client} url={props.dashboardUrl} generation={generation} />
        )}
        <button className="plait-IconButton" aria-label="Refresh" title="Refresh" onClick={() => setGeneration(g => g + 1)}>
          <refreshIcon.react tag="span" className="plait-IconButton-icon" />
        </button>
      </header>
      <div role="tablist" aria-label="plait lists" className="plait-Tabs">
        {tabs.map(t => (
          <button
            key={t}
            role="tab"
            id={`plait-tab-${t}`}
            aria-selected={tab === t}
            aria-controls={`plait-tabpanel-${t}`}
            tabIndex={tab === t ? 0 : -1}
            className={tab === t ? 'plait-Tab plait-mod-active' : 'plait-Tab'}
            onClick={() => setTab(t)}
            onKeyDown={e => {
              const i = tabs.indexOf(tab);
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
                setTab(next);
                document.getElementById(`plait-tab-${next}`)?.focus();
              }
            }}
          >
            {label(t)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`plait-tabpanel-${tab}`} aria-labelledby={`plait-tab-${tab}`} className="plait-TabPanel">
        {tab === 'apps' && props.apps ? (
          <AppList client={props.client} generation={generation} baseUrl={props.apps.baseUrl} onOpenApp={props.apps.onOpen} />
        ) : tab === 'apps' ? null : tab === 'workspaces' && props.workspaces ? (
          <WorkspaceList
            client={props.client}
            generation={generation}
            baseUrl={props.workspaces.baseUrl}
            onOpenWorkspace={props.workspaces.onOpen}
            onNewWorkspace={props.workspaces.onNew}
            onEditWorkspace={props.workspaces.onEdit}
          />
        ) : tab === 'workspaces' ? null : tab === 'artifacts' && props.onOpenArtifact ? (
          <ArtifactList
            client={props.client}
            generation={generation}
            onOpenArtifact={props.onOpenArtifact}
            onOpenExecution={props.onOpenExecution}
          />
        ) : tab === 'artifacts' ? null : tab === 'executions' ? (
          <ExecutionList
            client={props.client}
            generation={generation}
            onOpen={props.onOpenExecution}
            onOpenTable={props.onOpenExecutionTable}
          />
        ) : (
          <EntityList
            key={tab}
            client={props.client}
            kind={tab}
            generation={generation}
            onOpen={props.onOpenEntity}
            onOpenExecution={props.onOpenExecution}
          />
        )}
      </div>
    </div>
  );
}
