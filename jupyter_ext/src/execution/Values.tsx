/**
 * Inputs and outputs: inline literals as JSON, offloaded values behind a Load
 * button. Long texts and collections show their start and a "Show all" that
 * shows the rest in place, so one big input does not push the rest of a panel
 * out of sight.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { loadValue, messageOf } from './api';
import { bytesAsText, formatBytes, namedValues, shortenText, SHORTEN, ValueView } from './model';

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
        <LongText name={props.name} text={view.text} />
      ) : (
        <code className="plait-ExecutionView-json">{view.text}</code>
      );
    case 'offloaded':
      return <Offloaded client={props.client} name={props.name} view={view} />;
    case 'list':
      return (
        <Collection name={props.name} count={view.items.length}>
          {shown => (
            <ol className="plait-ExecutionView-list" start={0}>
              {view.items.slice(0, shown).map((item, i) => (
                <li key={i}>
                  <Value client={props.client} name={`${props.name}[${i}]`} view={item} />
                </li>
              ))}
            </ol>
          )}
        </Collection>
      );
    case 'mapping':
      return (
        <Collection name={props.name} count={view.entries.length}>
          {shown => (
            <ul className="plait-ExecutionView-list">
              {view.entries.slice(0, shown).map(([key, item]) => (
                <li key={key}>
                  <span className="plait-ExecutionView-key">{key}: </span>
                  <Value client={props.client} name={`${props.name}.${key}`} view={item} />
                </li>
              ))}
            </ul>
          )}
        </Collection>
      );
    default:
      return <code className="plait-ExecutionView-json">{view.text}</code>;
  }
}

/** "Show all" / "Show less" after a shortened value, with what is left out. */
function ShowAll(props: { name: string; all: boolean; hidden: string; onToggle: () => void }): JSX.Element {
  return (
    <span className="plait-ExecutionView-showall">
      {!props.all && <span className="plait-ExecutionView-muted">{props.hidden} </span>}
      <button
        type="button"
        className="plait-Link"
        aria-expanded={props.all}
        aria-label={`${props.all ? 'Show less' : 'Show all'} of ${props.name}`}
        onClick={props.onToggle}
      >
        {props.all ? 'Show less' : 'Show all'}
      </button>
    </span>
  );
}

/** A value's text: whole when short, else its start and a "Show all". */
export function LongText(props: { name: string; text: string }): JSX.Element {
  const [all, setAll] = React.useState(false);
  const short = React.useMemo(() => shortenText(props.text), [props.text]);
  if (!short) {
    return <pre className="plait-ExecutionView-json">{props.text}</pre>;
  }
  return (
    <div className="plait-ExecutionView-long">
      <pre className={`plait-ExecutionView-json${all ? ' plait-mod-all' : ''}`}>{all ? props.text : `${short.head}…`}</pre>
      <ShowAll name={props.name} all={all} hidden={short.hidden} onToggle={() => setAll(!all)} />
    </div>
  );
}

/** A list or mapping: its first `SHORTEN.items` items, and a "Show all" when it has more. */
function Collection(props: { name: string; count: number; children: (shown: number) => JSX.Element }): JSX.Element {
  const [all, setAll] = React.useState(false);
  const long = props.count > SHORTEN.items;
  if (!long) {
    return props.children(props.count);
  }
  const more = props.count - SHORTEN.items;
  return (
    <div className="plait-ExecutionView-long">
      {props.children(all ? props.count : SHORTEN.items)}
      <ShowAll
        name={props.name}
        all={all}
        hidden={`${more.toLocaleString('en-US')} more ${more === 1 ? 'item' : 'items'} of ${props.count.toLocaleString('en-US')}`}
        onToggle={() => setAll(!all)}
      />
    </div>
  );
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
          {loaded.text !== null && <LongText name={props.name} text={loaded.text} />}
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
