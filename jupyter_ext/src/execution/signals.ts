/**
 * The gates an execution waits on (`wait_for_input`, `approve`), as the execution view shows them.
 *
 * Framework-free (no DOM, no React): a waiting signal becomes the launch
 * form's `InputField` (the same kinds, texts and literal conversion, so a
 * value is checked against the signal's type before it is sent); the banner's
 * words and the backend's answers to a refused value are read here.
 */
import { ApiError, type Schemas } from '../api/client';
import { isTypeSpec } from '../api/literals';
import { inputFields, parseInput, type InputField } from '../launch/model';
import { parseTime, type NodeRun } from './model';

/** A signal an execution's gate opened (`GET executions/{id}/signals`). */
export type Signal = Schemas['Signal'];

/**
 * The signals that wait for a value now: not set, and their node still WAITING
 * (a gate that timed out or whose execution was aborted waits no more), in node order.
 */
export function waitingSignals(signals: readonly Signal[], nodes: readonly NodeRun[]): Signal[] {
  const order = new Map(nodes.filter(n => n.phase === 'WAITING').map((n, i) => [n.path, i]));
  return signals
    .filter(s => !s.is_set && order.has(s.node_path))
    .sort((a, b) => (order.get(a.node_path) ?? 0) - (order.get(b.node_path) ?? 0));
}

/** What changes the list of signals worth reading: the WAITING nodes ('' when there are none). */
export function waitingKey(nodes: readonly NodeRun[]): string {
  return nodes
    .filter(n => n.phase === 'WAITING')
    .map(n => n.path)
    .join(' ');
}

/** The field a signal's value is typed into: its name as the label, its type as the launch form shows it. */
export function signalField(signal: Pick<Signal, 'name' | 'type'>): InputField {
  const type = isTypeSpec(signal.type) ? signal.type : { kind: 'pickle' };
  const [field] = inputFields({ [signal.name]: { type } });
  return field;
}

/** A field's text read as the value to send, or what is wrong with it (said as the launch form says it). */
export function readSignal(field: InputField, text: string): { value: unknown } | { error: string } {
  const parsed = parseInput(field, text);
  if (parsed.kind === 'value') {
    return { value: parsed.value };
  }
  if (parsed.kind === 'error') {
    return { error: parsed.message };
  }
  return { error: `${field.name} expects ${field.typeName}: no value was given` };
}

/** "9 min", "45 s", "2 h 5 min", "3 d 4 h": how long until `timeoutAt`, rounded down; null if never. */
export function timeLeft(timeoutAt: string | null | undefined, now: number = Date.now()): string | null {
  const end = parseTime(timeoutAt);
  if (end === null) {
    return null;
  }
  const s = Math.max(0, Math.floor((end - now) / 1000));
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} min`;
  }
  const h = Math.floor(m / 60);
  if (h < 48) {
    return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  }
  return h % 24 ? `${Math.floor(h / 24)} d ${h % 24} h` : `${Math.floor(h / 24)} d`;
}

/** "times out in 9 min", "times out now" or "no time limit". */
export function timeoutText(signal: Pick<Signal, 'timeout_at'>, now: number = Date.now()): string {
  const left = timeLeft(signal.timeout_at, now);
  if (left === null) {
    return 'no time limit';
  }
  return left === '0 s' ? 'times out now' : `times out in ${left}`;
}

/** The banner's line: "Waiting for input: title (str), times out in 9 min" or "Waiting for approval: review, …". */
export function waitingText(signal: Pick<Signal, 'name' | 'gate' | 'type_name' | 'timeout_at'>, now?: number): string {
  const what =
    signal.gate === 'approve'
      ? `Waiting for approval: ${signal.name}`
      : `Waiting for input: ${signal.name} (${signal.type_name})`;
  return `${what}, ${timeoutText(signal, now)}`;
}

/**
 * Why the backend refused a value, split as the form shows it: by the field
 * (a 422 about the value: the wrong type) or for the form (set already, no
 * such gate, the execution ended, the network).
 */
export function refusal(error: unknown): { field?: string; form?: string } {
  if (error instanceof ApiError) {
    const byField = error.problems.value;
    if (error.status === 422 && byField) {
      return { field: byField };
    }
    if (error.status === 409) {
      return { form: `${error.message}: someone gave it a value first; the view shows what happened next` };
    }
    return { form: error.message };
  }
  return { form: error instanceof Error ? error.message : String(error) };
}
