/**
 * Giving a waiting gate its value from the execution view: a typed field for
 * a `wait_for_input` signal (the launch form's field, checked against the
 * signal's type before it is sent; a value the backend refuses is shown by
 * the field), Approve / Reject for an `approve` gate (Reject asks first: the
 * nodes after it will not run). The banner at the top of the view lists every
 * waiting gate with its form; a waiting node's panel shows its own.
 */
import * as React from 'react';

import type { PlaitClient } from '../api/client';
import { InputFieldView } from '../launch/fields';
import { setSignal } from './api';
import { readSignal, refusal, Signal, signalField, waitingText } from './signals';

export interface SignalFormProps {
  client: PlaitClient;
  executionId: string;
  signal: Signal;
  /** Called once the backend took the value: the view reads the execution again and the node moves on. */
  onSent: () => void;
}

/** The form for one waiting signal: a typed value, or Approve / Reject. */
export function SignalForm(props: SignalFormProps): JSX.Element {
  return props.signal.gate === 'approve' ? <ApprovalForm {...props} /> : <ValueForm {...props} />;
}

/** "Sent" once the value is taken, until the view shows the node moving on. */
function Sent({ what }: { what: string }): JSX.Element {
  return (
    <p role="status" className="plait-SignalForm-sent">
      {what}; the node goes on shortly.
    </p>
  );
}

function ValueForm(props: SignalFormProps): JSX.Element {
  const { client, executionId, signal } = props;
  const field = React.useMemo(() => signalField(signal), [signal]);
  const id = `${React.useId()}-signal`;
  const [text, setText] = React.useState(field.initial);
  const [fieldError, setFieldError] = React.useState<string | undefined>();
  const [formError, setFormError] = React.useState<string | undefined>();
  const [busy, setBusy] = React.useState(false);
  const [sent, setSent] = React.useState(false);

  const send = async () => {
    const read = readSignal(field, text);
    if ('error' in read) {
      setFieldError(read.error);
      return;
    }
    setBusy(true);
    setFormError(undefined);
    try {
      await setSignal(client, executionId, signal.name, read.value);
      setSent(true);
      props.onSent();
    } catch (error) {
      const why = refusal(error);
      setFieldError(why.field);
      setFormError(why.form);
    } finally {
      setBusy(false);
    }
  };
  if (sent) {
    return <Sent what={`${signal.name} was set`} />;
  }
  return (
    <form
      className="plait-SignalForm"
      aria-label={`Set ${signal.name}`}
      noValidate
      onSubmit={e => {
        e.preventDefault();
        void send();
      }}
    >
      <InputFieldView
        field={field}
        id={id}
        value={text}
        error={fieldError}
        onChange={value => {
          setText(value);
          setFieldError(undefined);
        }}
        onBlur={() => {
          // Say what is wrong on leaving the field, not while typing; an empty field waits for Send.
          const read = text.trim() === '' ? null : readSignal(field, text);
          setFieldError(read && 'error' in read ? read.error : undefined);
        }}
      />
      <button type="submit" className="jp-Button jp-mod-styled jp-mod-accept" disabled={busy}>
        {busy ? 'Sending…' : `Set ${signal.name}`}
      </button>
      {formError && (
        <p role="alert" className="plait-ExecutionView-error-text">
          {formError}
        </p>
      )}
    </form>
  );
}

function ApprovalForm(props: SignalFormProps): JSX.Element {
  const { client, executionId, signal } = props;
  const [confirming, setConfirming] = React.useState(false);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | undefined>();
  const [sent, setSent] = React.useState<'approved' | 'rejected' | null>(null);
  const confirmButton = React.useRef<HTMLButtonElement>(null);
  React.useEffect(() => {
    if (confirming) {
      confirmButton.current?.focus();
    }
  }, [confirming]);

  const send = async (approved: boolean) => {
    setConfirming(false);
    setBusy(true);
    setError(undefined);
    try {
      await setSignal(client, executionId, signal.name, approved);
      setSent(approved ? 'approved' : 'rejected');
      props.onSent();
    } catch (e) {
      const why = refusal(e);
      setError(why.form ?? why.field);
    } finally {
      setBusy(false);
    }
  };
  if (sent) {
    return <Sent what={`${signal.name} was ${sent}`} />;
  }
  return (
    <div role="group" aria-label={`Approve ${signal.name}`} className="plait-SignalForm">
      <div className="plait-SignalForm-buttons">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept"
          title={`Approve ${signal.name}: the value it holds is passed on to the nodes after it`}
          disabled={busy}
          onClick={() => void send(true)}
        >
          Approve
        </button>
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject"
          disabled={busy || confirming}
          onClick={() => setConfirming(true)}
        >
          Reject
        </button>
      </div>
      {confirming && (
        <div
          role="alertdialog"
          aria-label={`Reject ${signal.name}?`}
          className="plait-ExecutionView-confirm"
          onKeyDown={e => {
            if (e.key === 'Escape') {
              e.stopPropagation(); // closes the question, not the node panel
              setConfirming(false);
            }
          }}
        >
          <span>Reject {signal.name}? Its node fails and the nodes after it do not run.</span>
          <button
            ref={confirmButton}
            type="button"
            className="jp-Button jp-mod-styled jp-mod-warn"
            onClick={() => void send(false)}
          >
            Confirm reject
          </button>
          <button type="button" className="jp-Button jp-mod-styled" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="plait-ExecutionView-error-text">
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * The banner at the top of the execution view: each gate waiting for a value,
 * "Waiting for input: title (str), times out in 9 min", with its form; the
 * node's name opens its panel.
 */
export function WaitingBanner(props: {
  client: PlaitClient;
  executionId: string;
  signals: readonly Signal[];
  now: number;
  onSent: () => void;
  onShowNode?: (path: string) => void;
}): JSX.Element | null {
  const { signals } = props;
  if (signals.length === 0) {
    return null;
  }
  return (
    <section className="plait-SignalBanner" aria-label="Waiting gates">
      {signals.map(s => (
        <div key={s.name} className="plait-SignalBanner-item">
          <p className="plait-SignalBanner-text">
            <strong>{waitingText(s, props.now)}</strong>
            {props.onShowNode && (
              <>
                {' '}
                <button type="button" className="plait-Link" onClick={() => props.onShowNode?.(s.node_path)}>
                  node {s.node_path}
                </button>
              </>
            )}
          </p>
          <SignalForm client={props.client} executionId={props.executionId} signal={s} onSent={props.onSent} />
        </div>
      ))}
    </section>
  );
}
