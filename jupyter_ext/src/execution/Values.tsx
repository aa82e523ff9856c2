/** Inputs and outputs: inline literals as JSON, offloaded values behind a Load button. */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { loadValue, messageOf } from './api';
import { bytesAsText, formatBytes, namedValues, ValueView } from './model';

export interface ValuesProps {
  client: PlaitClient;
  /** "Inputs" or "Outputs": the table's accessible name (with `of`). */
  title: string;
  of?: string;
  values: Record<string, unknown> | null | undefined;
  /** Shown when there are no values yet. */
  empty?: string;
}

export function Values(props: ValuesProps): JSX.Element {
  const entries = namedValues(props.values);
  const label = props.of ? `${props.title} of ${props.of}` : props.title;
  return (
    <section className="plait-ExecutionView-values">
      <h4>{props.title}</h4>
      {!entries || entries.length === 0 ? (
        <p className="plait-ExecutionView-muted">{entries ? 'none' : props.empty ?? 'not yet'}</p>
      ) : (
        <table aria-label={label} className="plait-ExecutionView-kv">
          <tbody>
            {entries.map(([name, view]) => (
              <tr key={name}>
                <th scope="row">{name}</th>
                <td>
                  <Value client={props.client} name={name} view={view} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Value(props: { client: PlaitClient; name: string; view: ValueView }): JSX.Element {
  const { view } = props;
  switch (view.kind) {
    case 'literal':
      return view.multiline ? (
        <pre className="plait-ExecutionView-json">{view.text}</pre>
      ) : (
        <code className="plait-ExecutionView-json">{view.text}</code>
      );
    case 'offloaded':
      return <Offloaded client={props.client} name={props.name} view={view} />;
    case 'list':
      return (
        <ol className="plait-ExecutionView-list" start={0}>
          {view.items.map((item, i) => (
            <li key={i}>
              <Value client={props.client} name={`${props.name}[${i}]`} view={item} />
            </li>
          ))}
        </ol>
      );
    case 'mapping':
      return (
        <ul className="plait-ExecutionView-list">
          {view.entries.map(([key, item]) => (
            <li key={key}>
              <span className="plait-ExecutionView-key">{key}: </span>
              <Value client={props.client} name={`${props.name}.${key}`} view={item} />
            </li>
          ))}
        </ul>
      );
    default:
      return <code className="plait-ExecutionView-json">{view.text}</code>;
  }
}

type Loaded = { state: 'idle' } | { state: 'loading' } | { state: 'error'; message: string } | {
  state: 'done';
  size: number;
  text: string | null;
  url: string | null;
};

function Offloaded(props: {
  client: PlaitClient;
  name: string;
  view: Extract<ValueView, { kind: 'offloaded' }>;
}): JSX.Element {
  const { view } = props;
  const [loaded, setLoaded] = React.useState<Loaded>({ state: 'idle' });
  const url = loaded.state === 'done' ? loaded.url : null;
  React.useEffect(() => () => {
    if (url) {
      URL.revokeObjectURL(url);
    }
  }, [url]);

  const load = async () => {
    setLoaded({ state: 'loading' });
    try {
      const bytes = await loadValue(props.client, view.uri);
      const text = view.format === 'pickle' ? null : bytesAsText(bytes);
      const blobUrl =
        typeof URL.createObjectURL === 'function'
          ? URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }))
          : null;
      setLoaded({ state: 'done', size: bytes.length, text, url: blobUrl });
    } catch (error) {
      setLoaded({ state: 'error', message: messageOf(error) });
    }
  };

  const file = `${props.name}.${view.format === 'pickle' ? 'pkl' : view.format}`;
  return (
    <div className="plait-ExecutionView-offloaded">
      {view.preview && <code className="plait-ExecutionView-json" title={view.uri}>{view.preview}</code>}
      <span className="plait-ExecutionView-muted">
        {' '}
        stored as {view.format}
        {view.path ? ` (at ${JSON.stringify(view.path)})` : ''}
      </span>{' '}
      {loaded.state === 'done' ? (
        <span>
          {formatBytes(loaded.size)}{' '}
          {loaded.url && (
            <a href={loaded.url} download={file}>
              Download {file}
            </a>
          )}
          {loaded.text !== null && <pre className="plait-ExecutionView-json">{loaded.text}</pre>}
        </span>
      ) : (
        <button
          type="button"
          className="plait-Link"
          aria-label={`Load ${props.name}`}
          disabled={loaded.state === 'loading'}
          onClick={() => void load()}
        >
          {loaded.state === 'loading' ? 'Loading…' : 'Load'}
        </button>
      )}
      {loaded.state === 'error' && (
        <span role="alert" className="plait-ExecutionView-error-text">
          {' '}
          {loaded.message}
        </span>
      )}
    </div>
  );
}
