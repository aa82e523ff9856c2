/**
 * plait in JupyterLab: a sidebar of workflows, tasks, launch plans and
 * executions; main-area views of an entity, an execution and the launch form.
 * `activate` only wires commands and widgets; the widgets live in their files.
 */
import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import type { EntityKind } from './api/client';
import { labClient, labDashboardUrl } from './api/lab';
import { plaitIcon } from './icons';
import { Views } from './views';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'plait-jupyterlab:plugin',
  description: 'plait workflows, launch plans and executions in the sidebar',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ) => {
    const views = new Views(shell, labClient(), labDashboardUrl());
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
    commands.addCommand('plait:launch', {
      label: 'plait: Launch',
      execute: args => views.openLaunch(args.kind as EntityKind, String(args.name), args.version as string | undefined)
    });
    palette?.addItem({ command: 'plait:open-sidebar', category: 'plait' });

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
