/** Opens plait's widgets in the shell, one per entity or execution. */
import { ILabShell } from '@jupyterlab/application';
import { MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { EntityKind, Execution, PlaitClient } from './api/client';
import type { Scope as AppScope } from './apps/api';
import { AppView } from './apps/AppView';
import type { DeployedDashboard } from './apps/types';
import type { Scope } from './artifacts/api';
import { ArtifactView } from './artifacts/ArtifactView';
import { versionLabel } from './artifacts/lineage';
import type { MarkdownRenderer } from './artifacts/markdown';
import { ExecutionView } from './execution/ExecutionView';
import { shortName } from './format';
import { plaitIcon } from './icons';
import { LaunchForm } from './launch/LaunchForm';
import { ExecutionTable } from './sidebar/ExecutionTable';
import { Sidebar } from './sidebar/Sidebar';
import { EntityView } from './workflow/EntityView';
import type { Scope as WorkspaceScope } from './workspaces/api';
import type { Workspace } from './workspaces/types';
import { WorkspaceForm } from './workspaces/WorkspaceForm';
import { WorkspaceView } from './workspaces/WorkspaceView';

/** What reopens a view: the arguments of the `plait:open-view` command, kept by the layout restorer. */
export type ViewArgs =
  | { view: 'entity'; kind: EntityKind; name: string; version?: string }
  | { view: 'execution'; id: string }
  | { view: 'launch'; kind: EntityKind; name: string; version?: string; fromExecution?: string; rerun?: string[] }
  | { view: 'executions' }
  | { view: 'artifact'; name: string; version: string; project?: string; domain?: string }
  | { view: 'workspace'; name: string; project?: string; domain?: string }
  | { view: 'workspace-form'; name?: string; project?: string; domain?: string }
  | { view: 'app'; name: string; project?: string; domain?: string };

/** An execution's shareable lab address: the lab opens its view when loaded from it. */
export function executionLink(id: string, base: string = window.location.origin + labPath()): string {
  return `${base}?plait-execution=${encodeURIComponent(id)}`;
}

function labPath(): string {
  const path = window.location.pathname;
  const at = path.indexOf('/lab');
  return at >= 0 ? path.slice(0, at + 4) : path;
}

export class Views {
  private open = new Map<string, MainAreaWidget>();
  /** The views open now, for the layout restorer: they come back on reload. */
  readonly tracker = new WidgetTracker<MainAreaWidget>({ namespace: 'plait-views' });
  private readonly args = new WeakMap<MainAreaWidget, ViewArgs>();

  constructor(
    private readonly shell: ILabShell,
    readonly client: PlaitClient,
    private readonly dashboardUrl?: string,
    /** Renders model and data cards (JupyterLab's Markdown renderer); shown as text without it. */
    private readonly renderMarkdown?: MarkdownRenderer,
    /** The lab's base URL, under which it serves workspaces and apps (their tabs are shown only with it). */
    private readonly workspaceBaseUrl?: string,
    /** Deploys the dashboard of an execution's outputs as an app (the execution view's "Dashboard"). */
    private readonly deployDashboard?: (executionId: string) => Promise<DeployedDashboard>
  ) {}

  /** Open the view `args` names (the restorer's and the `plait:open-view` command's entry point). */
  openView(args: ViewArgs): void {
    switch (args.view) {
      case 'entity':
        return this.openEntity(args.kind, args.name, args.version);
      case 'execution':
        return this.openExecution(args.id);
      case 'launch':
        return this.openLaunch(args.kind, args.name, args.version, args.fromExecution, args.rerun);
      case 'executions':
        return this.openExecutionTable();
      case 'artifact':
        return this.openArtifact(args.name, args.version, { project: args.project, domain: args.domain });
      case 'workspace':
        return this.openWorkspace(args.name, { project: args.project, domain: args.domain });
      case 'workspace-form':
        return this.openWorkspaceForm(args.name, { project: args.project, domain: args.domain });
      case 'app':
        return this.openApp(args.name, { project: args.project, domain: args.domain });
    }
  }

  argsOf(widget: MainAreaWidget): ViewArgs | undefined {
    return this.args.get(widget);
  }

  sidebar(): ReactWidget {
    const widget = ReactWidget.create(
      <Sidebar
        client={this.client}
        dashboardUrl={this.dashboardUrl}
        onOpenEntity={(kind, name) => this.openEntity(kind, name)}
        onOpenExecution={id => this.openExecution(id)}
        onOpenExecutionTable={() => this.openExecutionTable()}
        onOpenArtifact={(name, version, scope) => this.openArtifact(name, version, scope)}
        workspaces={
          this.workspaceBaseUrl !== undefined
            ? {
                baseUrl: this.workspaceBaseUrl,
                onOpen: (name, scope) => this.openWorkspace(name, scope),
                onNew: () => this.openWorkspaceForm(),
                onEdit: (name, scope) => this.openWorkspaceForm(name, scope)
              }
            : undefined
        }
        apps={
          this.workspaceBaseUrl !== undefined
            ? { baseUrl: this.workspaceBaseUrl, onOpen: (name, scope) => this.openApp(name, scope) }
            : undefined
        }
      />
    );
    widget.id = 'plait-sidebar';
    widget.addClass('plait-SidebarPanel');
    return widget;
  }

  openEntity(kind: EntityKind, name: string, version?: string): void {
    this.show(`plait-entity-${kind}-${name}`, `${shortName(name)}`, { view: 'entity', kind, name, version }, () => (
      <EntityView
        client={this.client}
        kind={kind}
        name={name}
        version={version}
        onLaunch={(k, n, v) => this.openLaunch(k, n, v)}
        onOpenExecution={id => this.openExecution(id)}
        onOpenEntity={(k, n, v) => this.openEntity(k, n, v)}
      />
    ));
  }

  openExecution(id: string): void {
    const key = `plait-execution-${id}`;
    this.show(key, id, { view: 'execution', id }, () => (
      <ExecutionView
        client={this.client}
        executionId={id}
        dashboardUrl={this.dashboardUrl}
        shareUrl={executionLink(id)}
        onLoaded={execution => {
          const widget = this.open.get(key);
          if (widget) {
            // "train · f3a9c2": what ran first, then which run (the caption has the full names).
            widget.title.label = `${shortName(execution.entity.name)} · ${id}`;
            widget.title.caption = `${execution.entity.kind} ${execution.entity.name}, execution ${id} (${execution.phase})`;
          }
        }}
        onOpenExecution={other => this.openExecution(other)}
        onOpenWorkflow={(name, version) => this.openEntity('workflow', name, version)}
        onRelaunchWithChanges={execution => this.relaunchWithChanges(execution)}
        onRunFrom={(execution, fromNodes) => this.runFrom(execution, fromNodes)}
        onOpenArtifact={(name, version, scope) => this.openArtifact(name, version, scope)}
        onOpenWorkspace={this.workspaceBaseUrl !== undefined ? ws => this.openWorkspace(ws.name, ws) : undefined}
        dashboardApp={
          this.deployDashboard && this.workspaceBaseUrl !== undefined
            ? { deploy: this.deployDashboard, baseUrl: this.workspaceBaseUrl, onOpenApp: (name, scope) => this.openApp(name, scope) }
            : undefined
        }
      />
    ));
  }

  /** One app: its status, replicas, events, a replica's log, Start/Stop and Open. */
  openApp(name: string, scope: AppScope = {}): void {
    const { project, domain } = scope;
    const key = `plait-app-${project ?? ''}-${domain ?? ''}-${name}`;
    const args: ViewArgs = { view: 'app', name, ...(project ? { project } : {}), ...(domain ? { domain } : {}) };
    this.show(key, name, args, () => (
      <AppView
        client={this.client}
        name={name}
        scope={scope}
        baseUrl={this.workspaceBaseUrl ?? '/'}
        onLoaded={app => {
          const widget = this.open.get(key);
          if (widget) {
            widget.title.caption = `app ${app.project}/${app.domain}/${app.name} (${app.status})`;
          }
        }}
      />
    ));
  }

  /** One workspace: its phase, resources, log and actions. */
  openWorkspace(name: string, scope: WorkspaceScope = {}): void {
    const { project, domain } = scope;
    const key = `plait-workspace-${project ?? ''}-${domain ?? ''}-${name}`;
    const args: ViewArgs = { view: 'workspace', name, ...(project ? { project } : {}), ...(domain ? { domain } : {}) };
    this.show(key, name, args, () => (
      <WorkspaceView
        client={this.client}
        name={name}
        scope={scope}
        baseUrl={this.workspaceBaseUrl ?? '/'}
        onOpenExecution={id => this.openExecution(id)}
        onEdit={(n, s) => this.openWorkspaceForm(n, s)}
        onLoaded={ws => {
          const widget = this.open.get(key);
          if (widget) {
            widget.title.caption = `workspace ${ws.project}/${ws.domain}/${ws.name} (${ws.phase})`;
          }
        }}
      />
    ));
  }

  /** The form of a new workspace, or of `name` to edit it. */
  openWorkspaceForm(name?: string, scope: WorkspaceScope = {}): void {
    const { project, domain } = scope;
    const key = name ? `plait-workspace-form-${project ?? ''}-${domain ?? ''}-${name}` : 'plait-workspace-form-new';
    const args: ViewArgs = {
      view: 'workspace-form',
      ...(name ? { name } : {}),
      ...(project ? { project } : {}),
      ...(domain ? { domain } : {})
    };
    this.show(key, name ? `Edit ${name}` : 'New workspace', args, () => (
      <WorkspaceForm
        client={this.client}
        name={name}
        scope={scope}
        onSaved={(ws: Workspace) => {
          this.open.get(key)?.close();
          this.openWorkspace(ws.name, { project: ws.project, domain: ws.domain });
        }}
        onCancel={() => this.open.get(key)?.close()}
      />
    ));
  }

  /** One artifact version: its facts, cards and lineage. */
  openArtifact(name: string, version: string, scope: Scope = {}): void {
    const { project, domain } = scope;
    const key = `plait-artifact-${project ?? ''}-${domain ?? ''}-${name}@${version}`;
    const args: ViewArgs = { view: 'artifact', name, version, ...(project ? { project } : {}), ...(domain ? { domain } : {}) };
    this.show(key, versionLabel(name, version), args, () => (
      <ArtifactView
        client={this.client}
        name={name}
        version={version}
        scope={scope}
        renderMarkdown={this.renderMarkdown}
        onLoaded={v => {
          const widget = this.open.get(key);
          if (widget) {
            widget.title.caption = `artifact ${v.uri}`;
          }
        }}
        onOpenExecution={id => this.openExecution(id)}
        onOpenArtifact={(n, v, s) => this.openArtifact(n, v, s)}
      />
    ));
  }

  /** Every execution as a sortable table, in the main area. */
  openExecutionTable(): void {
    this.show('plait-executions-table', 'Executions', { view: 'executions' }, () => (
      <ExecutionTable client={this.client} onOpen={id => this.openExecution(id)} />
    ));
  }

  /**
   * The launch form, empty or (with `fromExecution`) filled from that execution:
   * one form per entity, and one per execution it starts from. With `rerun` (node
   * paths) it re-runs `fromExecution` from those nodes: one form per execution and nodes.
   */
  openLaunch(kind: EntityKind, name: string, version?: string, fromExecution?: string, rerun?: string[]): void {
    const again = fromExecution && rerun?.length ? { execution: fromExecution, fromNodes: rerun } : undefined;
    const key =
      `plait-launch-${kind}-${name}${fromExecution ? `-from-${fromExecution}` : ''}` +
      (again ? `-rerun-${again.fromNodes.join('_')}` : '');
    const args: ViewArgs = {
      view: 'launch',
      kind,
      name,
      version,
      ...(fromExecution ? { fromExecution } : {}),
      ...(again ? { rerun: again.fromNodes } : {})
    };
    const label = again ? `Run from ${again.fromNodes.join(', ')}` : `Launch ${shortName(name)}`;
    this.show(key, label, args, () => (
      <LaunchForm
        client={this.client}
        target={{ kind, name, version }}
        fromExecution={fromExecution}
        rerun={again}
        onLaunched={execution => {
          this.open.get(key)?.close();
          this.openExecution(execution.id);
        }}
        onCancel={() => this.open.get(key)?.close()}
      />
    ));
  }

  /** "Relaunch with changes": the launch form of what the execution ran (its launch plan, if any), filled from it. */
  relaunchWithChanges(execution: Pick<Execution, 'id' | 'entity' | 'launch_plan'>): void {
    const { kind, name, version } = execution.launch_plan ?? execution.entity;
    this.openLaunch(kind, name, version, execution.id);
  }

  /** "Run from here": the launch form in re-run mode, on the workflow version the execution ran. */
  runFrom(execution: Pick<Execution, 'id' | 'entity'>, fromNodes: string[]): void {
    const { kind, name, version } = execution.entity;
    this.openLaunch(kind, name, version, execution.id, fromNodes);
  }

  private show(key: string, label: string, args: ViewArgs, render: () => JSX.Element): void {
    let widget = this.open.get(key);
    if (!widget || widget.isDisposed) {
      const content = ReactWidget.create(render());
      content.addClass('plait-View');
      widget = new MainAreaWidget({ content });
      widget.id = key.replace(/[^A-Za-z0-9_-]/g, '_');
      widget.title.label = label;
      widget.title.icon = plaitIcon;
      widget.title.closable = true;
      this.open.set(key, widget);
      this.args.set(widget, args);
      widget.disposed.connect(() => this.open.delete(key));
      this.shell.add(widget, 'main');
      void this.tracker.add(widget);
    }
    this.shell.activateById(widget.id);
  }
}
