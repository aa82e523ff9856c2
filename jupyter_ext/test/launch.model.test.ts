import { describe, expect, it } from 'vitest';

import { checkLiteral, describeType } from '../src/api/literals';
import { durationFieldText } from '../src/format';
import {
  InputField,
  InterfaceInputs,
  buildExecution,
  fieldProblems,
  initialValues,
  inputFields,
  launchPlanInfo,
  parseDuration,
  parseInput
} from '../src/launch/model';
import { SettingsDraft, addRow, initialSettings, readSettings } from '../src/launch/settings';

// `kinds.to_spec()["interface"]["inputs"]` of a task with one input of every
// type kind, written by plait.typesys (Color is an Enum, Point a dataclass,
// Pair a NamedTuple).
const KINDS: InterfaceInputs = {
  i: { type: { kind: 'integer' }, required: true },
  f: { type: { kind: 'float' }, required: true },
  s: { type: { kind: 'string' }, required: true },
  b: { type: { kind: 'boolean' }, required: true },
  li: { type: { kind: 'list', of: { kind: 'integer' } }, required: true },
  d: { type: { kind: 'dict', key: { kind: 'string' }, value: { kind: 'float' } }, required: true },
  o: { type: { kind: 'optional', of: { kind: 'integer' } }, required: true },
  u: { type: { kind: 'union', variants: [{ kind: 'integer' }, { kind: 'string' }] }, required: true },
  c: { type: { kind: 'enum', name: '__main__.Color', values: ['red', 'green'] }, required: true },
  p: {
    type: { kind: 'dataclass', name: '__main__.Point', fields: { x: { kind: 'integer' }, y: { kind: 'float' } } },
    required: true
  },
  dt: { type: { kind: 'datetime' }, required: true },
  da: { type: { kind: 'date' }, required: true },
  td: { type: { kind: 'duration' }, required: true },
  by: { type: { kind: 'bytes' }, required: true },
  ff: { type: { kind: 'file', format: '' }, required: true },
  fd: { type: { kind: 'directory', format: '' }, required: true },
  t: { type: { kind: 'tuple', items: [{ kind: 'integer' }, { kind: 'string' }] }, required: true },
  nt: { type: { kind: 'namedtuple', name: 'Pair', fields: { a: { kind: 'integer' }, b: { kind: 'string' } } }, required: true },
  anything: { type: { kind: 'pickle' }, required: true },
  i2: { type: { kind: 'integer' }, required: false, default: 3 },
  s2: { type: { kind: 'string' }, required: false, default: 'hi' },
  c2: { type: { kind: 'enum', name: '__main__.Color', values: ['red', 'green'] }, required: false, default: 'green' },
  dt2: { type: { kind: 'datetime' }, required: false, default: { __datetime__: '2024-05-01T12:00:00' } },
  td2: { type: { kind: 'duration' }, required: false, default: { __duration__: 300.0 } },
  li2: { type: { kind: 'list', of: { kind: 'integer' } }, required: false, default: [1, 2] },
  o2: { type: { kind: 'optional', of: { kind: 'string' } }, required: false, default: null },
  p2: {
    type: { kind: 'dataclass', name: '__main__.Point', fields: { x: { kind: 'integer' }, y: { kind: 'float' } } },
    required: false,
    default: { x: 1, y: 2.0 }
  },
  b2: { type: { kind: 'boolean' }, required: false, default: true }
};

// More kinds, and defaults the client cannot use.
const MORE: InterfaceInputs = {
  frame: { type: { kind: 'dataframe', format: 'parquet' }, required: true },
  csv: { type: { kind: 'file', format: 'csv' }, required: true },
  model: { type: { kind: 'pickle', name: 'sklearn.linear_model.LinearRegression' }, required: true },
  flag: { type: { kind: 'optional', of: { kind: 'boolean' } }, required: true },
  shade: { type: { kind: 'optional', of: { kind: 'enum', name: 'm.Color', values: ['red', 'green'] } }, required: true },
  maybe: { type: { kind: 'optional', of: { kind: 'list', of: { kind: 'integer' } } }, required: true },
  grid: { type: { kind: 'dict', key: { kind: 'integer' }, value: { kind: 'list', of: { kind: 'float' } } }, required: true },
  when: { type: { kind: 'datetime' }, required: false, default: { __unrepresentable__: 'datetime' } },
  latest: { type: { kind: 'string' }, required: false, default: { artifact_query: { name: 'model' } } }
};

// `wf` (inputs a: int, b: int = 2, name: str = "x") and its launch plan `wf_fixed`
// (`LaunchPlan.get_or_create(wf, name="wf_fixed", default_inputs={"b": 7},
// fixed_inputs={"a": 1}, max_parallelism=3, labels=Labels({"team": "ml"}))`).
const WF: InterfaceInputs = {
  a: { type: { kind: 'integer' }, required: true },
  b: { type: { kind: 'integer' }, required: false, default: 2 },
  name: { type: { kind: 'string' }, required: false, default: 'x' }
};
const WF_FIXED_SPEC = {
  kind: 'launch_plan',
  name: 'wf_fixed',
  interface: {
    inputs: { b: { type: { kind: 'integer' }, required: false, default: 7 }, name: WF.name },
    outputs: { o0: { kind: 'integer' } }
  },
  workflow: 'kinds.wf',
  default_inputs: { b: 7 },
  fixed_inputs: { a: 1 },
  schedule: null,
  notifications: [],
  labels: { values: { team: 'ml' } },
  annotations: null,
  max_parallelism: 3,
  overwrite_cache: null,
  auto_activate: false,
  version: '6d59cdca96d6f3a6'
};

function fieldsByName(inputs: InterfaceInputs, plan = launchPlanInfo(WF_FIXED_SPEC)) {
  const fields = inputFields(inputs, inputs === WF ? plan : null);
  return Object.fromEntries(fields.map(f => [f.name, f])) as Record<string, InputField>;
}

const F = fieldsByName(KINDS);
const M = fieldsByName(MORE);

function value(field: InputField, text: string): unknown {
  const parsed = parseInput(field, text);
  if (parsed.kind !== 'value') {
    throw new Error(`expected a value for ${field.name} from ${JSON.stringify(text)}, got ${JSON.stringify(parsed)}`);
  }
  return parsed.value;
}

function error(field: InputField, text: string): string {
  const parsed = parseInput(field, text);
  if (parsed.kind !== 'error') {
    throw new Error(`expected an error for ${field.name} from ${JSON.stringify(text)}, got ${JSON.stringify(parsed)}`);
  }
  return parsed.message;
}

describe('describeType', () => {
  it('spells every kind as plait.model.literals.describe_type does', () => {
    const names = Object.fromEntries(Object.entries({ ...KINDS, ...MORE }).map(([k, v]) => [k, describeType(v.type)]));
    expect(names).toMatchObject({
      i: 'int', f: 'float', s: 'str', b: 'bool', li: 'list[int]', d: 'dict[str, float]', o: 'Optional[int]',
      u: 'int | str', c: 'Color', p: 'Point', dt: 'datetime', da: 'date', td: 'timedelta', by: 'bytes',
      ff: 'FlyteFile', fd: 'FlyteDirectory', t: 'tuple[int, str]', nt: 'Pair', anything: 'Any',
      frame: 'DataFrame', csv: "FlyteFile['csv']", model: 'LinearRegression', grid: 'dict[int, list[float]]'
    });
  });
});

describe('inputFields', () => {
  it('gives each type kind its control', () => {
    const kinds = Object.fromEntries(Object.values({ ...F, ...M }).map(f => [f.name, f.kind]));
    expect(kinds).toEqual({
      i: 'integer', f: 'float', s: 'text', b: 'checkbox', li: 'json', d: 'json', o: 'integer', u: 'json',
      c: 'select', p: 'json', dt: 'datetime', da: 'date', td: 'duration', by: 'bytes', ff: 'uri', fd: 'uri',
      t: 'json', nt: 'json', anything: 'json', i2: 'integer', s2: 'text', c2: 'select', dt2: 'datetime',
      td2: 'duration', li2: 'json', o2: 'text', p2: 'json', b2: 'checkbox',
      frame: 'uri', csv: 'uri', model: 'unsupported', flag: 'select', shade: 'select', maybe: 'json',
      grid: 'json', when: 'datetime', latest: 'text'
    });
  });

  it('pre-fills defaults, written for the control', () => {
    expect(initialValues(Object.values(F))).toMatchObject({
      i: '', b: 'false', i2: '3', s2: 'hi', c2: '"green"', dt2: '2024-05-01T12:00:00', td2: '5m',
      li2: '[1,2]', o2: '', p2: '{"x":1,"y":2}', b2: 'true'
    });
    expect(F.i2.default).toEqual({ value: 3, from: 'interface' });
    expect(inputFields({ r: { type: { kind: 'float' }, required: false, default: 1.0 } })[0].initial).toBe('1.0');
    expect(F.i2.placeholder).toBe('3');
  });

  it('marks what the user must fill in', () => {
    const required = Object.values({ ...F, ...M }).filter(f => f.required).map(f => f.name);
    expect(required).toEqual([
      'i', 'f', 's', 'li', 'd', 'u', 'c', 'p', 'dt', 'da', 'td', 'by', 'ff', 'fd', 't', 'nt', 'anything',
      'frame', 'csv', 'model', 'grid', 'latest'
    ]);
    // Optional inputs take None; booleans are false when unchecked.
    expect(F.o.nullable && !F.o.required && F.o.placeholder === 'None').toBe(true);
    expect(F.b.required).toBe(false);
  });

  it('offers enum values, with None for Optional and a prompt when required', () => {
    expect(F.c.options).toEqual([
      { label: 'Choose a value', value: '' },
      { label: 'red', value: '"red"' },
      { label: 'green', value: '"green"' }
    ]);
    expect(F.c2.options?.map(o => o.label)).toEqual(['red', 'green']);
    expect(M.shade.options?.map(o => o.label)).toEqual(['None', 'red', 'green']);
    expect(M.flag.options).toEqual([
      { label: 'None', value: '' },
      { label: 'true', value: 'true' },
      { label: 'false', value: 'false' }
    ]);
  });

  it('explains defaults the form cannot show', () => {
    expect(M.when).toMatchObject({ required: false, initial: '' });
    expect(M.when.default).toBeUndefined();
    expect(M.when.hint).toMatch(/Default set in code \(datetime\); leave empty to use it/);
    expect(M.latest).toMatchObject({ required: true, initial: '' });
    expect(M.latest.hint).toMatch(/artifact query/);
    expect(parseInput(M.when, '')).toEqual({ kind: 'omit' });
    expect(error(M.latest, '')).toBe('latest expects str: no value was given');
  });
});

describe('launch plans', () => {
  const plan = launchPlanInfo(WF_FIXED_SPEC, 'v7');
  const W = fieldsByName(WF, plan);

  it('reads a launch plan spec', () => {
    expect(plan).toEqual({
      name: 'wf_fixed', version: 'v7', workflow: 'kinds.wf', defaultInputs: { b: 7 }, fixedInputs: { a: 1 },
      maxParallelism: 3, overwriteCache: false, labels: { team: 'ml' }, annotations: {}, rawOutputPrefix: null
    });
    expect(launchPlanInfo(WF_FIXED_SPEC).version).toBe('6d59cdca96d6f3a6');
  });

  it("lays the plan's defaults over the workflow's and locks fixed inputs", () => {
    expect(W.a).toMatchObject({ fixed: { value: 1, launchPlan: 'wf_fixed' }, initial: '1', required: false });
    expect(W.b).toMatchObject({ default: { value: 7, from: 'launch_plan' }, initial: '7' });
    expect(W.name).toMatchObject({ default: { value: 'x', from: 'interface' }, initial: 'x' });
    // Without the plan, `a` is a required input.
    expect(inputFields(WF)[0]).toMatchObject({ name: 'a', required: true });
    expect(inputFields(WF)[0].fixed).toBeUndefined();
  });

  it('does not send fixed inputs, nor defaults left as they are', () => {
    expect(parseInput(W.a, '5')).toEqual({ kind: 'omit' });
    expect(parseInput(W.b, '7')).toEqual({ kind: 'omit' });
    expect(parseInput(W.b, '')).toEqual({ kind: 'omit' });
    expect(value(W.b, '8')).toBe(8);
  });

  it('builds a launch-plan execution with only what the user changed', () => {
    const fields = Object.values(W);
    const values = { ...initialValues(fields), name: 'y' };
    const settings: SettingsDraft = { ...initialSettings(plan), name: 'nightly-1', maxParallelism: '4' };
    const target = { kind: 'launch_plan' as const, name: 'wf_fixed', version: 'v7', project: 'p', domain: 'staging' as const };
    expect(buildExecution(target, fields, values, settings)).toEqual({
      body: {
        kind: 'launch_plan', name: 'wf_fixed', version: 'v7', project: 'p', domain: 'staging',
        inputs: { name: 'y' },
        settings: { overwrite_cache: false, name: 'nightly-1', max_parallelism: 4 }
      },
      errors: {}
    });
  });
});

describe('parseInput', () => {
  it('reads integers and says what is not one', () => {
    expect(value(F.i, ' 12 ')).toBe(12);
    expect(value(F.i, '-3')).toBe(-3);
    expect(error(F.i, '1.5')).toBe('i expects int: 1.5 is not an integer');
    expect(error(F.i, 'abc')).toBe('i expects int: "abc" is not an integer');
    expect(error(F.i, '99999999999999999999')).toMatch(/^i expects int: 99999999999999999999 is too large to send exactly/);
    expect(error(F.i, '')).toBe('i expects int: no value was given');
  });

  it('reads floats, strings and booleans', () => {
    expect(value(F.f, '2.5')).toBe(2.5);
    expect(value(F.f, '1e3')).toBe(1000);
    expect(error(F.f, 'nan')).toBe('f expects float: "nan" is not a number');
    expect(value(F.s, ' spaced ')).toBe(' spaced ');
    expect(error(F.s, '')).toBe('s expects str: no value was given');
    expect(value(F.b, 'true')).toBe(true);
    expect(value(F.b, 'false')).toBe(false);
  });

  it('reads lists, dicts and tuples as JSON and names the item at fault', () => {
    expect(value(F.li, '[1, 2, 3]')).toEqual([1, 2, 3]);
    expect(error(F.li, '[1, 2, "a"]')).toBe('li expects list[int]: item 2 is "a", not an integer');
    expect(error(F.li, '{"a": 1}')).toBe('li expects list[int]: an object is not a list');
    expect(error(F.li, '[1,')).toMatch(/^li expects list\[int\]: the text is not valid JSON \(/);
    expect(value(F.d, '{"a": 1, "b": 2.5}')).toEqual({ a: 1, b: 2.5 });
    expect(error(F.d, '{"a": 1, "b": "x"}')).toBe('d expects dict[str, float]: key "b" is "x", not a number');
    expect(value(M.grid, '{"1": [0.5]}')).toEqual({ 1: [0.5] });
    expect(error(M.grid, '{"one": []}')).toBe('grid expects dict[int, list[float]]: key "one" is not an integer');
    expect(error(M.grid, '{"1": [0.5, true]}')).toBe(
      'grid expects dict[int, list[float]]: key "1", item 1 is true, not a number'
    );
    expect(value(F.t, '[1, "a"]')).toEqual([1, 'a']);
    expect(error(F.t, '[1]')).toBe('t expects tuple[int, str]: a list of 1 is not a list of 2 items');
  });

  it('reads dataclasses and named tuples as JSON objects', () => {
    expect(value(F.p, '{"x": 1, "y": 0.5}')).toEqual({ x: 1, y: 0.5 });
    expect(value(F.p, '{"x": 1}')).toEqual({ x: 1 }); // fields left out may have defaults
    expect(error(F.p, '{"x": 1, "y": "a"}')).toBe('p expects Point: field y is "a", not a number');
    expect(error(F.p, '{"z": 1}')).toBe('p expects Point: Point has no field z; its fields: x, y');
    expect(error(F.p, '[1, 2]')).toBe('p expects Point: a list of 2 is not an object with fields x, y');
    expect(value(F.nt, '[1, "b"]')).toEqual([1, 'b']);
    expect(error(F.nt, '{"a": 1, "b": 2}')).toBe('nt expects Pair: field b is 2, not a string');
  });

  it('reads Optional inputs: empty is None', () => {
    expect(value(F.o, '')).toBeNull();
    expect(value(F.o, '4')).toBe(4);
    expect(error(F.o, 'four')).toBe('o expects Optional[int]: "four" is not an integer');
    expect(parseInput(F.o2, '')).toEqual({ kind: 'omit' }); // its default, None, applies
    expect(value(F.o2, 'text')).toBe('text');
    expect(value(M.maybe, '')).toBeNull();
    expect(value(M.maybe, 'null')).toBeNull();
    expect(value(M.maybe, '[1]')).toEqual([1]);
    expect(error(M.maybe, '["a"]')).toBe('maybe expects Optional[list[int]]: item 0 is "a", not an integer');
    expect(value(M.flag, '')).toBeNull();
    expect(value(M.flag, 'true')).toBe(true);
    expect(value(M.shade, '"red"')).toBe('red');
  });

  it('reads unions, taking text that is not JSON as a string', () => {
    expect(value(F.u, '1')).toBe(1);
    expect(value(F.u, 'hello')).toBe('hello');
    expect(value(F.u, '"1"')).toBe('1');
    expect(error(F.u, '[1]')).toBe('u expects int | str: a list of 1 is not one of int, str');
  });

  it('reads enums from their options', () => {
    expect(value(F.c, '"red"')).toBe('red');
    expect(error(F.c, '')).toBe('c expects Color: no value was given');
    expect(error(F.c, '"blue"')).toBe('c expects Color: "blue" is not one of red, green');
    expect(parseInput(F.c2, '"green"')).toEqual({ kind: 'omit' });
    expect(value(F.c2, '"red"')).toBe('red');
  });

  it('reads dates, times and durations into tagged literals', () => {
    expect(value(F.dt, '2024-05-01T12:00:00')).toEqual({ __datetime__: '2024-05-01T12:00:00' });
    expect(value(F.dt, '2024-05-01 12:00')).toEqual({ __datetime__: '2024-05-01T12:00' });
    expect(value(F.dt, '2024-05-01T12:00:00.5+02:00')).toEqual({ __datetime__: '2024-05-01T12:00:00.5+02:00' });
    expect(value(F.dt, '2024-05-01T12:00:00Z')).toEqual({ __datetime__: '2024-05-01T12:00:00Z' });
    expect(error(F.dt, '2024-13-01')).toBe(
      'dt expects datetime: "2024-13-01" is not an ISO 8601 date and time such as 2024-05-01T12:00:00'
    );
    expect(error(F.dt, '2023-02-29T00:00')).toMatch(/is not an ISO 8601 date and time/);
    expect(value(F.da, '2024-02-29')).toEqual({ __date__: '2024-02-29' });
    expect(error(F.da, '1 May')).toBe('da expects date: "1 May" is not an ISO 8601 date such as 2024-05-01');
    expect(value(F.td, '90')).toEqual({ __duration__: 90 });
    expect(value(F.td, '1h30m')).toEqual({ __duration__: 5400 });
    expect(error(F.td, 'soon')).toBe('td expects timedelta: "soon" is not a duration; give seconds, or e.g. 90s, 5m, 1h30m');
    expect(parseInput(F.td2, '5m')).toEqual({ kind: 'omit' });
    expect(value(F.td2, '10m')).toEqual({ __duration__: 600 });
  });

  it('reads bytes as hexadecimal', () => {
    expect(value(F.by, '00 FF')).toEqual({ __bytes__: '00ff' });
    expect(error(F.by, '0g')).toBe('by expects bytes: "0g" is not hexadecimal bytes such as 00ff');
  });

  it('reads files, directories and data frames as URIs', () => {
    expect(value(F.ff, 's3://bucket/data.csv')).toEqual({ path: 's3://bucket/data.csv', format: '' });
    expect(value(F.fd, '/data/images')).toEqual({ path: '/data/images', format: '' });
    expect(value(M.csv, 's3://b/k.csv')).toEqual({ path: 's3://b/k.csv', format: 'csv' });
    expect(value(M.frame, 's3://b/table.parquet')).toBe('s3://b/table.parquet');
    expect(error(F.ff, '  ')).toBe('ff expects FlyteFile: no value was given');
  });

  it('reads Any as JSON and refuses classes known only by name', () => {
    expect(value(F.anything, '{"k": [1, null]}')).toEqual({ k: [1, null] });
    expect(error(F.anything, 'oops')).toMatch(/^anything expects Any: the text is not valid JSON/);
    expect(error(M.model, '')).toBe('model expects LinearRegression: no value was given');
    expect(M.model.hint).toBe("Values of LinearRegression cannot be given here; pass them from a task's output");
  });

  it('sends nothing for a default left as it is, or cleared', () => {
    expect(parseInput(F.i2, '3')).toEqual({ kind: 'omit' });
    expect(parseInput(F.i2, '')).toEqual({ kind: 'omit' });
    expect(value(F.i2, '4')).toBe(4);
    expect(parseInput(F.li2, '[1,2]')).toEqual({ kind: 'omit' });
    expect(value(F.li2, '[1, 2, 3]')).toEqual([1, 2, 3]);
    expect(parseInput(F.b2, 'true')).toEqual({ kind: 'omit' });
    expect(value(F.b2, 'false')).toBe(false);
    expect(value(F.p2, '{"x": 5}')).toEqual({ x: 5 });
  });
});

describe('checkLiteral', () => {
  it('accepts what the backend accepts', () => {
    expect(checkLiteral({ kind: 'datetime' }, '2024-05-01')).toBeNull();
    expect(checkLiteral({ kind: 'date' }, { __datetime__: '2024-05-01T00:00:00' })).toBeNull();
    expect(checkLiteral({ kind: 'duration' }, 1.5)).toBeNull();
    expect(checkLiteral({ kind: 'file' }, { path: 's3://x' })).toBeNull();
    expect(checkLiteral({ kind: 'namedtuple', fields: { a: { kind: 'integer' } } }, [1])).toBeNull();
    expect(checkLiteral({ kind: 'some_future_kind' }, { anything: true })).toBeNull();
  });

  it('names where a nested value is wrong', () => {
    const points = { kind: 'list', of: KINDS.p.type };
    expect(checkLiteral(points, [{ x: 1 }, { x: 'one' }])).toBe('item 1, field x is "one", not an integer');
  });
});

describe('durations', () => {
  it('parses and formats', () => {
    expect(parseDuration('01:30:00')).toBe(5400);
    expect(parseDuration('2d 1s')).toBe(172801);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('later')).toBeNull();
    expect(durationFieldText(300)).toBe('5m');
    expect(durationFieldText(5400)).toBe('1h30m');
    expect(durationFieldText(90061)).toBe('1d1h1m1s');
    expect(durationFieldText(1.5)).toBe('1.5s');
    expect(durationFieldText(0)).toBe('0s');
  });
});

describe('settings', () => {
  const draft = (patch: Partial<SettingsDraft>): SettingsDraft => ({ ...initialSettings(), ...patch });

  it('sends only what is set', () => {
    expect(readSettings(initialSettings())).toEqual({ settings: { overwrite_cache: false }, errors: {} });
    const envs = addRow(addRow([])).map((r, i) => ({ ...r, key: ['A', ''][i], value: ['1', ''][i] }));
    const labels = [{ id: 1, key: 'team', value: 'ml' }];
    expect(readSettings(draft({ overwriteCache: true, envs, labels, maxParallelism: '10000' })).settings).toEqual({
      overwrite_cache: true, max_parallelism: 10000, envs: { A: '1' }, labels: { team: 'ml' }
    });
  });

  it('starts from the launch plan', () => {
    const plan = { ...launchPlanInfo(WF_FIXED_SPEC), overwriteCache: true };
    expect(initialSettings(plan)).toEqual({
      name: '', overwriteCache: true, maxParallelism: '', envs: [], labels: [], annotations: [], rawOutputPrefix: '',
      interruptible: ''
    });
  });

  it('checks the execution name and max parallelism', () => {
    expect(readSettings(draft({ name: 'My_Run' })).errors).toEqual({
      'settings.name':
        'Execution name "My_Run" is not valid: use a lowercase letter, then up to 63 lowercase letters, digits or -'
    });
    expect(readSettings(draft({ name: `a${'b'.repeat(63)}` })).errors).toEqual({});
    expect(readSettings(draft({ name: `a${'b'.repeat(64)}` })).errors).toHaveProperty(['settings.name']);
    for (const bad of ['0', '10001', '2.5', 'many']) {
      expect(readSettings(draft({ maxParallelism: bad })).errors).toEqual({
        'settings.max_parallelism': `Max parallelism expects an integer from 1 to 10000: "${bad}" is not`
      });
    }
  });

  it('checks key/value rows, row by row', () => {
    const envs = [
      { id: 1, key: 'GOOD', value: '1' },
      { id: 2, key: '1BAD', value: '' },
      { id: 3, key: 'GOOD', value: '2' },
      { id: 4, key: '', value: 'orphan' },
      { id: 5, key: '', value: '' }
    ];
    const { settings, errors } = readSettings(draft({ envs, labels: [{ id: 1, key: 'a', value: '' }, { id: 2, key: 'a', value: 'b' }] }));
    expect(errors).toEqual({
      'settings.envs#2': 'Environment variable "1BAD" is not a valid name: use letters, digits and _, not starting with a digit',
      'settings.envs#3': 'The environment variable GOOD is given twice',
      'settings.envs#4': 'The environment variable with value "orphan" needs a name',
      'settings.labels#2': 'The label a is given twice'
    });
    expect(settings.envs).toEqual({ GOOD: '1' });
  });

  it('adds rows with fresh ids', () => {
    expect(addRow([{ id: 4, key: 'A', value: '' }])).toEqual([
      { id: 4, key: 'A', value: '' },
      { id: 5, key: '', value: '' }
    ]);
  });
});

describe('buildExecution', () => {
  const target = { kind: 'task' as const, name: 'kinds', project: 'default', domain: 'development' as const };

  it('collects every problem at once and sends nothing', () => {
    const fields = inputFields(WF);
    const { body, errors } = buildExecution(target, fields, { a: 'x', b: '2', name: 'x' }, { ...initialSettings(), name: 'BAD' });
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(['a', 'settings.name']);
  });

  it('writes every kind as the backend reads it', () => {
    const fields = inputFields(KINDS);
    const texts: Record<string, string> = {
      ...initialValues(fields),
      i: '1', f: '2', s: 'three', b: 'true', li: '[1]', d: '{"a": 1}', u: 'hello', c: '"red"', p: '{"x": 1, "y": 2}',
      dt: '2024-05-01T12:00:00', da: '2024-05-01', td: '5m', by: 'ff', ff: 's3://b/f', fd: 's3://b/d',
      t: '[1, "a"]', nt: '{"a": 1, "b": "c"}', anything: '{"k": 1}', i2: '4'
    };
    const { body, errors } = buildExecution(target, fields, texts, initialSettings());
    expect(errors).toEqual({});
    expect(body).toEqual({
      kind: 'task', name: 'kinds', project: 'default', domain: 'development',
      inputs: {
        i: 1, f: 2, s: 'three', b: true, li: [1], d: { a: 1 }, o: null, u: 'hello', c: 'red', p: { x: 1, y: 2 },
        dt: { __datetime__: '2024-05-01T12:00:00' }, da: { __date__: '2024-05-01' }, td: { __duration__: 300 },
        by: { __bytes__: 'ff' }, ff: { path: 's3://b/f', format: '' }, fd: { path: 's3://b/d', format: '' },
        t: [1, 'a'], nt: { a: 1, b: 'c' }, anything: { k: 1 }, i2: 4
      },
      settings: { overwrite_cache: false }
    });
  });
});

describe('fieldProblems', () => {
  it("maps a 422's problems to inputs and settings, and keeps the rest", () => {
    const fields = inputFields(WF, launchPlanInfo(WF_FIXED_SPEC));
    expect(
      fieldProblems(
        {
          b: 'input `b` of `wf`: expected int, got str',
          'settings.max_parallelism': 'Input should be less than or equal to 10000',
          'settings.envs.A': 'Input should be a valid string',
          a: 'input `a` is fixed to 1 by launch plan `wf_fixed` and cannot be overridden',
          zzz: '`wf` has no input `zzz`'
        },
        fields
      )
    ).toEqual({
      byField: {
        b: 'input `b` of `wf`: expected int, got str',
        'settings.max_parallelism': 'Input should be less than or equal to 10000',
        'settings.envs': 'Input should be a valid string'
      },
      other: [
        'input `a` is fixed to 1 by launch plan `wf_fixed` and cannot be overridden',
        '`wf` has no input `zzz`'
      ]
    });
  });
});
