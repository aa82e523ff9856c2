/**
 * Model and data cards are Markdown written by whoever emitted the artifact:
 * JupyterLab's own Markdown renderer draws them (the one notebooks use, with
 * its sanitiser: the text is untrusted), so a card looks like a Markdown cell.
 */
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

/** Render `text` into `host`; resolves to what removes it again. */
export type MarkdownRenderer = (text: string, host: HTMLElement) => Promise<() => void>;

/** The part of JupyterLab's rendermime registry used here. */
export interface RendererFactory {
  createRenderer(mimeType: string): IRenderMime.IRenderer;
}

const MARKDOWN = 'text/markdown';

/** A card renderer backed by the lab's rendermime registry, untrusted (sanitised HTML, no scripts). */
export function labMarkdown(registry: RendererFactory): MarkdownRenderer {
  return async (text, host) => {
    const renderer = registry.createRenderer(MARKDOWN);
    const model: IRenderMime.IMimeModel = {
      trusted: false,
      data: { [MARKDOWN]: text },
      metadata: {},
      setData: () => undefined
    };
    await renderer.renderModel(model);
    Widget.attach(renderer, host);
    return () => renderer.dispose();
  };
}
