/** The launch form's controls: one input field, and a list of key/value rows. */
import * as React from 'react';

import type { InputField } from './model';
import type { KeyValueRow } from './settings';

function LockIcon(): JSX.Element {
  return (
    <svg className="plait-LaunchForm-lock" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">
      <path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2h.5a1 1 0 0 1 1 1v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h.5zm1.5 0h4V5a2 2 0 0 0-4 0v2z" />
    </svg>
  );
}

function ids(...parts: Array<string | false | null | undefined>): string | undefined {
  const joined = parts.filter(Boolean).join(' ');
  return joined || undefined;
}

export interface InputFieldViewProps {
  field: InputField;
  /** The control's id; descriptions get ids derived from it. */
  id: string;
  value: string;
  error?: string;
  /** Name of the launch plan whose defaults are shown, if any. */
  launchPlan?: string | null;
  onChange: (text: string) => void;
  onBlur: (event: React.FocusEvent) => void;
}

/** One input: its name as the label, its type (and default source, lock, hint, error) as descriptions. */
export function InputFieldView(props: InputFieldViewProps): JSX.Element {
  const { field, id, value, error } = props;
  const typeId = `${id}-type`;
  const noteId = `${id}-note`;
  const errorId = `${id}-error`;
  const fixed = field.fixed;
  const fromPlan = !fixed && field.default?.from === 'launch_plan' && props.launchPlan;
  const note = fixed ? undefined : field.hint;
  const common = {
    id,
    'aria-describedby': ids(typeId, (fixed || fromPlan) && `${id}-source`, note && noteId, error && errorId),
    'aria-invalid': error ? true : undefined,
    'aria-required': field.required || undefined,
    onBlur: props.onBlur
  };
  const onText = (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) =>
    props.onChange(e.target.value);

  let control: JSX.Element;
  if (fixed) {
    control = <input {...common} type="text" className="plait-LaunchForm-input" readOnly value={value} />;
  } else if (field.kind === 'checkbox') {
    control = (
      <input
        {...common}
        type="checkbox"
        className="plait-LaunchForm-checkbox"
        checked={value === 'true'}
        onChange={e => props.onChange(e.target.checked ? 'true' : 'false')}
      />
    );
  } else if (field.kind === 'select') {
    control = (
      <select {...common} className="plait-LaunchForm-input" value={value} onChange={onText}>
        {(field.options ?? []).map(o => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'json') {
    const lines = value.split('\n').length;
    control = (
      <textarea
        {...common}
        className="plait-LaunchForm-input plait-LaunchForm-json"
        rows={Math.min(Math.max(lines, 2), 10)}
        spellCheck={false}
        placeholder={field.placeholder}
        value={value}
        onChange={onText}
      />
    );
  } else if (field.kind === 'unsupported') {
    control = <input {...common} type="text" className="plait-LaunchForm-input" disabled value="" />;
  } else {
    const inputMode = field.kind === 'integer' ? 'numeric' : field.kind === 'float' ? 'decimal' : undefined;
    control = (
      <input
        {...common}
        type="text"
        className={`plait-LaunchForm-input plait-LaunchForm-${field.kind}`}
        inputMode={inputMode}
        spellCheck={field.kind === 'text' ? undefined : false}
        autoComplete="off"
        placeholder={field.placeholder}
        value={value}
        onChange={onText}
      />
    );
  }
  return (
    <div className={`plait-LaunchForm-field${error ? ' plait-mod-invalid' : ''}${fixed ? ' plait-mod-fixed' : ''}`}>
      <div className="plait-LaunchForm-fieldHead">
        <label htmlFor={id} className="plait-LaunchForm-name">
          {field.name}
        </label>
        {field.required && (
          <span className="plait-LaunchForm-required" aria-hidden="true" title="required">
            *
          </span>
        )}
        <span id={typeId} className="plait-LaunchForm-type">
          {field.typeName}
        </span>
        {fixed && (
          <span id={`${id}-source`} className="plait-LaunchForm-source plait-LaunchForm-fixedBy">
            <LockIcon />
            fixed by launch plan {fixed.launchPlan}
          </span>
        )}
        {fromPlan && (
          <span id={`${id}-source`} className="plait-LaunchForm-source">
            default from launch plan {props.launchPlan}
          </span>
        )}
      </div>
      {control}
      {note && (
        <div id={noteId} className="plait-LaunchForm-hint">
          {note}
        </div>
      )}
      {error && (
        <div id={errorId} className="plait-LaunchForm-error">
          {error}
        </div>
      )}
    </div>
  );
}

export interface KeyValueRowsProps {
  /** The group's name: "Environment variables". */
  title: string;
  /** One row, in words: "environment variable". */
  singular: string;
  /** What the key is called: "name" or "key". */
  keyWord: string;
  idBase: string;
  rows: KeyValueRow[];
  /** Errors by row id. */
  errors: Record<number, string | undefined>;
  /** Something under the rows, e.g. what the launch plan adds. */
  note?: string;
  /** The row just added, whose key input takes the focus. */
  focusRow?: number | null;
  onChange: (rows: KeyValueRow[]) => void;
  onAdd: () => void;
  onBlur: (event: React.FocusEvent) => void;
}

/** Key/value rows with "Add <singular>" and "Remove <key>" buttons, grouped under a legend. */
export function KeyValueRows(props: KeyValueRowsProps): JSX.Element {
  const { rows, singular } = props;
  const capital = singular.charAt(0).toUpperCase() + singular.slice(1);
  const update = (id: number, patch: Partial<KeyValueRow>) =>
    props.onChange(rows.map(r => (r.id === id ? { ...r, ...patch } : r)));
  const noteId = `${props.idBase}-note`;
  return (
    <fieldset className="plait-LaunchForm-kvGroup" aria-describedby={props.note ? noteId : undefined}>
      <legend className="plait-LaunchForm-name">{props.title}</legend>
      {rows.map((row, i) => {
        const errorId = `${props.idBase}-${row.id}-error`;
        const error = props.errors[row.id];
        const describedBy = error ? errorId : undefined;
        return (
          <div key={row.id} className="plait-LaunchForm-kvRow">
            <div className="plait-LaunchForm-kvInputs">
              <input
                type="text"
                className="plait-LaunchForm-input"
                aria-label={`${capital} ${i + 1} ${props.keyWord}`}
                aria-describedby={describedBy}
                aria-invalid={error ? true : undefined}
                placeholder={props.keyWord}
                autoFocus={row.id === props.focusRow}
                spellCheck={false}
                autoComplete="off"
                value={row.key}
                onChange={e => update(row.id, { key: e.target.value })}
                onBlur={props.onBlur}
              />
              <input
                type="text"
                className="plait-LaunchForm-input"
                aria-label={`${capital} ${i + 1} value`}
                aria-describedby={describedBy}
                placeholder="value"
                spellCheck={false}
                autoComplete="off"
                value={row.value}
                onChange={e => update(row.id, { value: e.target.value })}
                onBlur={props.onBlur}
              />
              <button
                type="button"
                className="plait-LaunchForm-iconButton"
                aria-label={`Remove ${row.key.trim() || `${singular} ${i + 1}`}`}
                title="Remove"
                onClick={() => props.onChange(rows.filter(r => r.id !== row.id))}
              >
                <span aria-hidden="true">✕</span>
              </button>
            </div>
            {error && (
              <div id={errorId} className="plait-LaunchForm-error">
                {error}
              </div>
            )}
          </div>
        );
      })}
      {props.note && (
        <div id={noteId} className="plait-LaunchForm-hint">
          {props.note}
        </div>
      )}
      <button type="button" className="plait-LaunchForm-addButton" onClick={props.onAdd}>
        Add {singular}
      </button>
    </fieldset>
  );
}
