/**
 * A stand-in for @jupyterlab/ui-components under vitest (see vitest.config.mts).
 *
 * The real package cannot load in jsdom (its web components and @lumino/dragdrop
 * need browser APIs jsdom lacks), so unit tests get icons that render an empty
 * <svg data-icon="NAME">; the browser tests in tests/lab see the real ones.
 */
import * as React from 'react';

class StubIcon {
  constructor(readonly options: { name: string; svgstr?: string }) {}
  get name(): string {
    return this.options.name;
  }
  readonly react = (props: { tag?: string; className?: string }): JSX.Element =>
    React.createElement(props.tag ?? 'div', { className: props.className },
      React.createElement('svg', { 'data-icon': this.options.name }));
}

export { StubIcon as LabIcon };
export const refreshIcon = new StubIcon({ name: 'ui-components:refresh' });
export const tableRowsIcon = new StubIcon({ name: 'ui-components:table-rows' });
