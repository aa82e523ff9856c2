import { cleanup, render, screen } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { errorView } from '../src/execution/model';
import { ErrorBox } from '../src/execution/NodePanel';

const USER_TRACE = [
  'Traceback (most recent call last):',
  '  File "workflows/train.py", line 8, in train',
  '    return check_rate(rate) * 2',
  'ValueError: learning rate must be positive, got -1.0',
  ''
].join('\n');
const FULL_TRACE = [
  'Traceback (most recent call last):',
  '  File "/srv/plait/backend/execution/worker.py", line 718, in _run_called',
  '    raw = _call_watched(store, payload, sink, call)',
  '  File "workflows/train.py", line 8, in train',
  '    return check_rate(rate) * 2',
  'ValueError: learning rate must be positive, got -1.0',
  ''
].join('\n');

function summaries(): string[] {
  return Array.from(document.querySelectorAll('summary')).map(s => s.textContent ?? '');
}

describe('ErrorBox', () => {
  afterEach(cleanup);

  it('shows the user frames open and folds the full traceback under "plait frames"', () => {
    const error = errorView({
      kind: 'USER', type: 'ValueError', message: 'learning rate must be positive, got -1.0',
      traceback: USER_TRACE, full_traceback: FULL_TRACE, folded_frames: 8
    })!;
    render(<ErrorBox error={error} />);
    const [user, plait] = Array.from(document.querySelectorAll('details'));
    expect(summaries()).toEqual(['Traceback', 'plait frames (8)']);
    expect(user.open).toBe(true);
    expect(user.querySelector('pre')!.textContent).toBe(USER_TRACE);
    expect(user.textContent).not.toContain('worker.py');
    expect(plait.open).toBe(false);
    expect(plait.querySelector('pre')!.textContent).toContain('backend/execution/worker.py');
    expect(screen.getByRole('alert').textContent).toContain('USER error (ValueError)');
  });

  it('keeps a traceback with nothing folded (a failure inside plait) collapsed, with no second section', () => {
    render(<ErrorBox error={errorView({ kind: 'USER', type: 'TypeError', message: 'bad output', traceback: FULL_TRACE })!} />);
    const details = Array.from(document.querySelectorAll('details'));
    expect(summaries()).toEqual(['Traceback']);
    expect(details[0].open).toBe(false);
  });
});
