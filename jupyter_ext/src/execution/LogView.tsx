/** A node attempt's log, followed from `next_offset` until it is complete. */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { messageOf, readLogs } from './api';
import { appendLog, follow, isHiddenElement, LogText, NodeRun } from './model';

export interface LogViewProps {
  client: PlaitClient;
  executionId: string;
  node: NodeRun;
}

interface LogState extends LogText {
  complete: boolean;
  error: string | null;
}

const EMPTY: LogState = { text: '', dropped: 0, complete: false, error: null };

export function LogView({ client, executionId, node }: LogViewProps): JSX.Element {
  const latest = node.attempts.length ? node.attempts[node.attempts.length - 1].number : undefined;
  // null: follow the latest attempt (a retry switches to the new one).
  const [chosen, setChosen] = React.useState<number | null>(null);
  const attempt = chosen ?? latest;
  const [log, setLog] = React.useState<LogState>(EMPTY);
  const pre = React.useRef<HTMLPreElement>(null);
  const stick = React.useRef(true);

  React.useEffect(() => {
    setLog(EMPTY);
    stick.current = true;
    let offset = 0;
    const follower = follow({
      name: `plait:logs:${executionId}:${node.path}:${attempt ?? 'latest'}`,
      fetch: () => readLogs(client, executionId, node.path, attempt, offset),
      onData: chunk => {
        const more = chunk.offset === offset ? chunk.text : '';
        offset = Math.max(offset, chunk.next_offset);
        setLog(prev => ({ ...appendLog(prev, more), complete: chunk.complete, error: null }));
      },
      done: chunk => chunk.complete,
      key: chunk => String(chunk.next_offset),
      onError: error => setLog(prev => ({ ...prev, error: messageOf(error) })),
      hidden: () => isHiddenElement(pre.current)
    });
    return () => follower.dispose();
  }, [client, executionId, node.path, attempt]);

  // Keep the newest line in view unless the reader scrolled up.
  React.useLayoutEffect(() => {
    const el = pre.current;
    if (el && stick.current) {
      el.scrollTop = el.scrollHeight;
    }
  }, [log.text]);
  const onScroll = () => {
    const el = pre.current;
    if (el) {
      stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
    }
  };

  return (
    <section className="plait-ExecutionView-logs">
      <div className="plait-ExecutionView-logs-bar">
        <h4>Logs</h4>
        {node.attempts.length > 0 && (
          <select
            aria-label="Log attempt"
            value={chosen === null ? '' : String(chosen)}
            onChange={e => setChosen(e.target.value === '' ? null : Number(e.target.value))}
          >
            <option value="">Latest attempt{latest !== undefined ? ` (${latest})` : ''}</option>
            {node.attempts.map(a => (
              <option key={a.number} value={String(a.number)}>
                Attempt {a.number} ({a.phase})
              </option>
            ))}
          </select>
        )}
        <span className="plait-ExecutionView-muted" aria-live="polite">
          {log.complete ? '' : 'streaming…'}
        </span>
      </div>
      {log.error && (
        <p role="alert" className="plait-ExecutionView-error-text">
          {log.error}
        </p>
      )}
      <pre
        ref={pre}
        className="plait-ExecutionView-log"
        aria-label={`Logs of ${node.path}`}
        tabIndex={0}
        onScroll={onScroll}
      >
        {log.dropped > 0 && `… ${log.dropped.toLocaleString()} earlier characters not shown\n`}
        {log.text || (log.complete ? '(no output)' : '')}
      </pre>
    </section>
  );
}
