/**
 * The MIME renderer for `application/vnd.plait.dag+json`: the DAG that
 * `%plait dag` shows in a notebook, drawn by the same view as the panels.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import * as React from 'react';
import { createRoot, type Root } from 'react-dom/client';

import { DagOutput, isDagBundle } from './dag/DagOutput';
import { DAG_MIME } from './dag/types';

/** Renders one DAG bundle into an output area. */
export class DagRenderer extends Widget implements IRenderMime.IRenderer {
  private root: Root | null = null;

  constructor(private readonly mimeType: string) {
    super();
    this.addClass('plait-DagRenderer');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = model.data[this.mimeType];
    this.root ??= createRoot(this.node);
    this.root.render(
      isDagBundle(data)
        ? React.createElement(DagOutput, { dag: data })
        : React.createElement('div', { className: 'plait-DagView-message', role: 'alert' },
                              'This DAG bundle is not one this version of plait can draw (expected version 1).')
    );
    return Promise.resolve();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.root?.unmount();
    this.root = null;
    super.dispose();
  }
}

export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [DAG_MIME],
  defaultRank: 0,
  createRenderer: options => new DagRenderer(options.mimeType)
};

const extension: IRenderMime.IExtension = {
  id: 'plait-jupyterlab:dag',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;
