/** Opens plait's widgets in the shell, one per entity or execution. */
import { ILabShell } from '@jupyterlab/application';
import { MainAreaWidget } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import type { EntityKind, PlaitClient } from './api/client';
import { ExecutionView } from './execution/ExecutionView';
import { shortName } from './format';
import { plaitIcon } from './icons';
import { LaunchForm } from './launch/LaunchForm';
import { Sidebar } from './sidebar/Sidebar';
import { EntityView } from './workflow/EntityView';

export class Views {
  private open = new Map<string, MainAreaWidget>();

  constructor(
    private readonly shell: ILabShell,
    readonly client: PlaitClient,
    private readonly dashboardUrl?: string
  ) {}

  sidebar(): ReactWidget {
    const widget = ReactWidget.create(
      <Sidebar
        client={this.client}
        dashboardUrl={this.dashboardUrl}
        onOpenEntity={(kind, name) => this.openEntity(kind, name)}
        onOpenExecution={id => this.openExecution(id)}
      />
    );
    widget.id = 'plait-sidebar';
    widget.addClass('plait-SidebarPanel');
    return widget;
  }

  openEntity(kind: EntityKind, name: string, version?: string): void {
    this.show(`plait-entity-${kind}-${name}`, `${shortName(name)}`, () => (
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
    this.show(`plait-execution-${id}`, id, () => (
      <ExecutionView
        client={this.client}
        executionId={id}
        onOpenExecution={other => this.openExecution(other)}
        onOpenWorkflow={(name, version) => this.openEntity('workflow', name, version)}
      />
    ));
  }

  openLaunch(kind: EntityKind, name: string, version?: string): void {
    const key = `plait-launch-${kind}-${name}`;
    this.show(key, `Launch ${shortName(name)}`, () => (
      <LaunchForm
        client={this.client}
        target={{ kind, name, version }}
        onLaunched={execution => {
          this.open.get(key)?.close();
          this.openExecution(execution.id);
        }}
        onCancel={() => this.open.get(key)?.close()}
      />
    ));
  }

  private show(key: string, label: string, render: () => JSX.Element): void {
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
      widget.disposed.connect(() => this.open.delete(key));
      this.shell.add(widget, 'main');
    }
    this.shell.activateById(widget.id);
  }
}
