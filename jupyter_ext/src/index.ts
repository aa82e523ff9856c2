/**
 * plait in JupyterLab: a sidebar of workflows, tasks, launch plans,
 * executions, artifacts, workspaces and apps; main-area views of an entity,
 * an execution, an artifact, a workspace, an app and the launch and workspace
 * forms.
 * `activate` only wires commands and widgets; the widgets live in their files.
 */
import { ILabShell, ILayoutRestorer, IRouter, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { ReadonlyJSONObject } from '@lumino/coreutils';

import type { EntityKind } from './api/client';
import { labClient, labDashboardUrl } from './api/lab';
import { deployExecutionDashboard, labDashboardTransport } from './apps/dashboards';
import { labMarkdown } from './artifacts/markdown';
import { labBaseUrl } from './workspaces/lab';
import { plaitIcon } from './icons';
import { ViewArgs, Views } from './views';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'plait-jupyterlab:plugin',
  description: 'plait workflows, launch plans and executions in the sidebar',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, IRouter, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    router: IRouter | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const views = new Views(
      shell,
      labClient(),
      labDashboardUrl(),
      rendermime ? labMarkdown(rendermime) : undefined,
      labBaseUrl(),
      id => deployExecutionDashboard(labDashboardTransport(), id)
    );
    const sidebar = views.sidebar();
    sidebar.title.icon = plaitIcon;
    sidebar.title.caption = 'plait: workflows and executions';
    shell.add(sidebar, 'left', { rank: 600 });
    restorer?.add(sidebar, sidebar.id);

    const { commands } = app;
    commands.addCommand('plait:open-sidebar', {
      label: 'plait: Show Workflows and Executions',
      execute: () => shell.activateById(sidebar.id)
    });
    commands.addCommand('plait:open-entity', {
      label: 'plait: Open Workflow',
      execute: args => views.openEntity(args.kind as EntityKind, String(args.name), args.version as string | undefined)
    });
    commands.addCommand('plait:open-execution', {
      label: 'plait: Open Execution',
      execute: args => views.openExecution(String(args.id))
    });
    commands.addCommand('plait:open-artifact', {
      label: 'plait: Open Artifact',
      execute: args =>
        views.openArtifact(String(args.name), String(args.version), {
          project: args.project as string | undefined,
          domain: args.domain as string | undefined
        })
    });
    commands.addCommand('plait:open-workspace', {
      label: 'plait: Open Workspace',
      execute: args =>
        views.openWorkspace(String(args.name), {
          project: args.project as string | undefined,
          domain: args.domain as string | undefined
        })
    });
    commands.addCommand('plait:open-app', {
      label: 'plait: Open App',
      execute: args =>
        views.openApp(String(args.name), {
          project: args.project as string | undefined,
          domain: args.domain as string | undefined
        })
    });
    commands.addCommand('plait:new-workspace', {
      label: 'plait: New Workspace',
      execute: () => views.openWorkspaceForm()
    });
    commands.addCommand('plait:open-executions-table', {
      label: 'plait: Open Executions as a Table',
      execute: () => views.openExecutionTable()
    });
    // Reopens a view from its arguments: what the layout restorer calls on reload.
    commands.addCommand('plait:open-view', {
      label: 'plait: Open View',
      execute: args => views.openView(args as unknown as ViewArgs)
    });
    void restorer?.restore(views.tracker, {
      command: 'plait:open-view',
      args: widget => (views.argsOf(widget) ?? { view: 'executions' }) as unknown as ReadonlyJSONObject,
      name: widget => JSON.stringify(views.argsOf(widget) ?? {})
    });
    // A shared execution link (`/lab?plait-execution=ID`) opens its view.
    commands.addCommand('plait:open-execution-link', {
      execute: () => {
        const id = new URLSearchParams(window.location.search).get('plait-execution');
        if (id) {
          views.openExecution(id);
        }
      }
    });
    router?.register({ command: 'plait:open-execution-link', pattern: /[?&]plait-execution=[^&#]+/ });
    commands.addCommand('plait:launch', {
      label: 'plait: Launch',
      execute: args => views.openLaunch(args.kind as EntityKind, String(args.name), args.version as string | undefined)
    });
    commands.addCommand('plait:relaunch-with-changes', {
      label: 'plait: Relaunch with Changes',
      caption: 'Open the launch form filled with an execution\'s inputs and settings',
      execute: async args => views.relaunchWithChanges(await views.client.request('get', 'executions/{id}', { path: { id: String(args.id) } }))
    });
    palette?.addItem({ command: 'plait:open-sidebar', category: 'plait' });
    palette?.addItem({ command: 'plait:open-executions-table', category: 'plait' });
    palette?.addItem({ command: 'plait:new-workspace', category: 'plait' });

    // `%plait launch` prints the execution id in an element marked for us: make it a link.
    document.addEventListener('click', event => {
      const target = (event.target as HTMLElement | null)?.closest?.('[data-plait-execution]');
      if (target && !target.closest('.plait-Sidebar')) {
        event.preventDefault();
        void views.openExecution(target.getAttribute('data-plait-execution') as string);
      }
    });
  }
};

export default plugin;
