/**
 * Type specs and JSON literals, as the backend reads them (a port of `plait.model.literals`).
 *
 * A type spec is what `plait.typesys.type_spec` writes (`{"kind": "list", "of":
 * {"kind": "integer"}}`); a literal is what `plait.typesys.to_literal` writes.
 * `checkLiteral` accepts what the backend's `validate_literal` accepts and says
 * what is wrong in words a form can show: `item 2 is "a", not an integer`.
 *
 * Framework-free: no DOM, no React.
 */

/** A type spec: `kind` and kind-specific fields (`of`, `key`, `value`, `items`, `fields`, ...). */
export interface TypeSpec {
  kind: string;
  [key: string]: unknown;
}

const SCALAR_NAMES: Record<string, string> = {
  integer: 'int',
  float: 'float',
  boolean: 'bool',
  string: 'str',
  bytes: 'bytes',
  datetime: 'datetime',
  date: 'date',
  duration: 'timedelta',
  none: 'None',
  dataframe: 'DataFrame'
};

const PICKLE: TypeSpec = { kind: 'pickle' };

/** `key` is `record`'s own (not one every object inherits, such as `constructor`). */
function owns(record: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}

export function isTypeSpec(spec: unknown): spec is TypeSpec {
  return typeof spec === 'object' && spec !== null && typeof (spec as TypeSpec).kind === 'string';
}

function short(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

/** `spec[key]`, or Any where the spec leaves it out (as Python's `spec.get(key, {"kind": "pickle"})`). */
function sub(spec: TypeSpec, key: string): unknown {
  return owns(spec, key) ? spec[key] : PICKLE;
}

/** A type spec spelled as Python spells annotations: `list[int]`, `Optional[str]`, `Point`. */
export function describeType(spec: unknown): string {
  if (!isTypeSpec(spec)) {
    return '?';
  }
  const kind = spec.kind;
  if (owns(SCALAR_NAMES, kind)) {
    return SCALAR_NAMES[kind];
  }
  switch (kind) {
    case 'list':
      return `list[${describeType(sub(spec, 'of'))}]`;
    case 'dict':
      return owns(spec, 'key') ? `dict[${describeType(spec.key)}, ${describeType(spec.value)}]` : 'dict';
    case 'tuple': {
      const items = Array.isArray(spec.items) ? spec.items : [];
      return items.length ? `tuple[${items.map(describeType).join(', ')}]` : 'tuple';
    }
    case 'optional':
      return `Optional[${describeType(spec.of)}]`;
    case 'union':
      return (Array.isArray(spec.variants) ? spec.variants : []).map(describeType).join(' | ');
    case 'enum':
    case 'dataclass':
    case 'namedtuple':
      return short(String(spec.name ?? kind));
    case 'file':
    case 'directory': {
      const base = kind === 'file' ? 'FlyteFile' : 'FlyteDirectory';
      return spec.format ? `${base}['${String(spec.format)}']` : base;
    }
    case 'pickle':
      return spec.name ? short(String(spec.name)) : 'Any';
    default:
      return kind;
  }
}

const TAGS: Record<string, string> = {
  __datetime__: 'datetime',
  __date__: 'date',
  __duration__: 'timedelta',
  __bytes__: 'bytes'
};

/**
 * The type of a JSON literal, spelled as `describeType` spells types:
 * `list[int | str]`, `dict[str, float]`, `datetime` for a tagged value. Lists
 * and objects show the types of their first 20 items, four levels deep.
 */
export function literalTypeName(literal: unknown, depth = 0): string {
  if (literal === null || literal === undefined) {
    return 'None';
  }
  switch (typeof literal) {
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(literal) ? 'int' : 'float';
    case 'string':
      return 'str';
  }
  const names = (items: unknown[]): string =>
    [...new Set(items.slice(0, 20).map(v => literalTypeName(v, depth + 1)))].sort().join(' | ');
  if (Array.isArray(literal)) {
    const inner = depth < 4 ? names(literal) : '';
    return inner ? `list[${inner}]` : 'list';
  }
  if (isObject(literal)) {
    const keys = Object.keys(literal);
    if (keys.length === 1 && owns(TAGS, keys[0])) {
      return TAGS[keys[0]];
    }
    if (depth >= 4) {
      return 'dict';
    }
    const values = names(Object.values(literal));
    return values ? `dict[str, ${values}]` : 'dict';
  }
  return typeof literal;
}

// ------------------------------------------------------------- ISO 8601 text

// What Python 3.11's `date.fromisoformat` reads: calendar dates, extended or
// basic (2024-05-01, 20240501), and week dates (2024-W18, 2024-W18-3, 2024W183).
const CALENDAR_DATE = /^(\d{4})(-?)(\d{2})\2(\d{2})$/;
const WEEK_DATE = /^(\d{4})(-?)W(\d{2})(?:\2([1-7]))?$/;
// And what `datetime.fromisoformat` reads after the date and any one character:
// a time, extended (12:00:00.5) or basic (120000.5), then Z or an offset (+02,
// +02:00, +0200, +02:00:30.5). Fractions may run past microseconds.
const TIME = /^(\d{2})(?:(:?)(\d{2})(?:\2(\d{2})(?:[.,](\d+))?)?)?(?:Z|([+-])(\d{2})(?:(:?)(\d{2})(?:\8(\d{2})(?:[.,](\d+))?)?)?)?$/;

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function validDate(year: number, month: number, day: number): boolean {
  if (year < 1 || month < 1 || month > 12 || day < 1) {
    return false;
  }
  const days = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/** Day of the week of a proleptic Gregorian date, 1 (Monday) to 7 (Sunday). */
function isoWeekday(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return ((d.getUTCDay() + 6) % 7) + 1;
}

/** Week `week`, day `day` of ISO year `year` is a date in years 1 to 9999 (Python's `fromisocalendar`). */
function validWeekDate(year: number, week: number, day: number): boolean {
  if (year < 1 || year > 9999 || week < 1 || week > 53) {
    return false;
  }
  const jan1 = isoWeekday(year, 1, 1);
  // Years that start on a Thursday, and leap years that start on a Wednesday, have 53 weeks.
  if (week === 53 && !(jan1 === 4 || (jan1 === 3 && isLeap(year)))) {
    return false;
  }
  // Day 1 of week 1 is the Monday of the week holding January 4th.
  const offset = (week - 1) * 7 + (day - 1) - (isoWeekday(year, 1, 4) - 1) + 3;
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1 + offset);
  return d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999;
}

function parsesAsDate(text: string): boolean {
  const c = CALENDAR_DATE.exec(text);
  if (c) {
    return validDate(Number(c[1]), Number(c[3]), Number(c[4]));
  }
  const w = WEEK_DATE.exec(text);
  return w !== null && validWeekDate(Number(w[1]), Number(w[3]), w[4] === undefined ? 1 : Number(w[4]));
}

function parsesAsTime(text: string): boolean {
  const m = TIME.exec(text);
  if (m === null) {
    return false;
  }
  const [hour, minute, second] = [m[1], m[3], m[4]].map(v => (v === undefined ? 0 : Number(v)));
  if (hour > 23 || minute > 59 || second > 59) {
    return false;
  }
  // An offset must be under a day; its minutes and seconds are not checked on their own (as in CPython).
  const [h, mi, se] = [m[7], m[9], m[10]].map(v => (v === undefined ? 0 : Number(v)));
  return h * 3600 + mi * 60 + se + Number(`0.${(m[11] ?? '0').slice(0, 6)}`) < 86400;
}

/** An ISO 8601 date such as 2024-05-01, 20240501 or 2024-W18-3 (what Python's `date.fromisoformat` reads). */
export function isIsoDate(text: unknown): boolean {
  return typeof text === 'string' && parsesAsDate(text);
}

/**
 * An ISO 8601 date and time such as 2024-05-01T12:00:00 or 2024-05-01 12:00+02:00
 * (what Python's `datetime.fromisoformat` reads): a date alone, or a date, one
 * separating character and a time.
 */
export function isIsoDateTime(text: unknown): boolean {
  if (typeof text !== 'string') {
    return false;
  }
  // The date is 7 (2024W18), 8 (20240501, 2024-W18, 2024W183) or 10 (2024-05-01, 2024-W18-3) characters
  // long; the separator is one character, which may take two UTF-16 units.
  return [10, 8, 7].some(n => {
    if (!parsesAsDate(text.slice(0, n))) {
      return false;
    }
    const separator = text.codePointAt(n);
    return separator === undefined || parsesAsTime(text.slice(n + (separator > 0xffff ? 2 : 1)));
  });
}

// ------------------------------------------------------------ checking

/** What a value is, for messages: `"a"`, `1.5`, `null`, `a list`, `an object`. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) {
    return value.length ? `a list of ${value.length}` : 'an empty list';
  }
  if (value !== null && typeof value === 'object') {
    return 'an object';
  }
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** What a value of `spec` looks like, for messages: `an integer`, `a list`, `one of "red", "green"`. */
export function expectedValue(spec: TypeSpec): string {
  switch (spec.kind) {
    case 'integer':
      return 'an integer';
    case 'float':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'string':
      return 'a string';
    case 'bytes':
      return 'bytes as {"__bytes__": "<hex>"}';
    case 'datetime':
      return 'an ISO 8601 date and time such as 2024-05-01T12:00:00';
    case 'date':
      return 'an ISO 8601 date such as 2024-05-01';
    case 'duration':
      return 'a number of seconds';
    case 'none':
      return 'null';
    case 'list':
      return 'a list';
    case 'dict':
      return 'an object';
    case 'tuple': {
      const n = Array.isArray(spec.items) ? spec.items.length : 0;
      return n ? `a list of ${n} items` : 'a list';
    }
    case 'optional':
      return `${expectedValue(isTypeSpec(spec.of) ? spec.of : PICKLE)} or null`;
    case 'union':
      return `one of ${(Array.isArray(spec.variants) ? spec.variants : []).map(describeType).join(', ')}`;
    case 'enum':
      return `one of ${enumValues(spec).map(v => JSON.stringify(v)).join(', ')}`;
    case 'dataclass':
    case 'namedtuple':
      return `an object with fields ${Object.keys(fieldsOf(spec)).join(', ')}`;
    case 'file':
    case 'directory':
    case 'dataframe':
      return 'a path or URI';
    default:
      return 'a JSON value';
  }
}

export function enumValues(spec: TypeSpec): unknown[] {
  return Array.isArray(spec.values) ? spec.values : [];
}

export function fieldsOf(spec: TypeSpec): Record<string, TypeSpec> {
  const fields = spec.fields;
  return fields && typeof fields === 'object' ? (fields as Record<string, TypeSpec>) : {};
}

class Mismatch {
  constructor(readonly message: string) {}
}

type Where = string[];

function at(where: Where): string {
  return where.join(', ');
}

/** `item 2 is "a", not an integer` (inside a container) or `"a" is not an integer` (at the top). */
function mismatch(spec: TypeSpec, value: unknown, where: Where, why = ''): Mismatch {
  const found = describeValue(value);
  const tail = why ? ` (${why})` : '';
  if (where.length) {
    return new Mismatch(`${at(where)} is ${found}, not ${expectedValue(spec)}${tail}`);
  }
  return new Mismatch(`${found} is not ${expectedValue(spec)}${tail}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// What Python's `bytes.fromhex` reads: pairs of hex digits, ASCII white space between them.
const HEX = /^(?:[ \t\n\r\v\f]*[0-9a-fA-F]{2})*[ \t\n\r\v\f]*$/;

function tagged(value: unknown, tag: string): [boolean, unknown] {
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === tag) {
      return [true, value[tag]];
    }
  }
  return [false, undefined];
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function check(spec: unknown, value: unknown, where: Where): void {
  if (!isTypeSpec(spec)) {
    return; // a spec this form cannot read: the server checks
  }
  const kind = spec.kind;
  switch (kind) {
    case 'integer':
      if (!Number.isInteger(value)) {
        throw mismatch(spec, value, where);
      }
      if (!Number.isSafeInteger(value)) {
        throw new Mismatch(`${where.length ? `${at(where)} is ` : ''}${String(value)}, too large to send exactly`);
      }
      return;
    case 'float':
      if (!isNumber(value)) {
        throw mismatch(spec, value, where);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') {
        throw mismatch(spec, value, where);
      }
      return;
    case 'string':
      if (typeof value !== 'string') {
        throw mismatch(spec, value, where);
      }
      return;
    case 'bytes': {
      const [ok, raw] = tagged(value, '__bytes__');
      if (!ok || typeof raw !== 'string' || !HEX.test(raw)) {
        throw mismatch(spec, value, where);
      }
      return;
    }
    case 'datetime': {
      const [ok, raw] = tagged(value, '__datetime__');
      if (!isIsoDateTime(ok ? raw : value)) {
        throw mismatch(spec, value, where);
      }
      return;
    }
    case 'date': {
      const [isDate, rawDate] = tagged(value, '__date__');
      const [isDateTime, rawDateTime] = tagged(value, '__datetime__');
      const fine = isDate ? isIsoDate(rawDate) : isDateTime ? isIsoDateTime(rawDateTime) : isIsoDate(value);
      if (!fine) {
        throw mismatch(spec, value, where);
      }
      return;
    }
    case 'duration': {
      const [ok, raw] = tagged(value, '__duration__');
      if (!isNumber(ok ? raw : value)) {
        throw mismatch(spec, value, where);
      }
      return;
    }
    case 'none':
      if (value !== null) {
        throw mismatch(spec, value, where);
      }
      return;
    case 'pickle':
      if (spec.name) {
        throw new Mismatch(
          `values of ${short(String(spec.name))} cannot be given as JSON; pass them from a task's output instead`
        );
      }
      return;
    case 'list':
      if (!Array.isArray(value)) {
        throw mismatch(spec, value, where);
      }
      value.forEach((item, i) => check(sub(spec, 'of'), item, [...where, `item ${i}`]));
      return;
    case 'dict': {
      if (!isObject(value)) {
        throw mismatch(spec, value, where);
      }
      const keySpec = isTypeSpec(spec.key) ? spec.key : { kind: 'string' };
      const valueSpec = owns(spec, 'value') ? spec.value : sub(spec, 'of');
      for (const [key, item] of Object.entries(value)) {
        if (!keyFits(keySpec, key)) {
          const name = `key ${JSON.stringify(key)}`;
          throw new Mismatch(`${at([...where, name])} is not ${expectedValue(keySpec)}`);
        }
        check(valueSpec, item, [...where, `key ${JSON.stringify(key)}`]);
      }
      return;
    }
    case 'tuple': {
      if (!Array.isArray(value)) {
        throw mismatch(spec, value, where);
      }
      const items = Array.isArray(spec.items) ? spec.items : null;
      if (items === null) {
        return;
      }
      if (value.length !== items.length) {
        throw mismatch(spec, value, where);
      }
      items.forEach((itemSpec, i) => check(itemSpec, value[i], [...where, `item ${i}`]));
      return;
    }
    case 'optional':
      if (value !== null) {
        check(spec.of, value, where);
      }
      return;
    case 'union': {
      for (const variant of Array.isArray(spec.variants) ? spec.variants : []) {
        try {
          check(variant, value, where);
          return;
        } catch (err) {
          if (!(err instanceof Mismatch)) {
            throw err;
          }
        }
      }
      throw mismatch(spec, value, where);
    }
    case 'enum':
      if (!enumValues(spec).some(v => sameValue(v, value))) {
        throw mismatch(spec, value, where);
      }
      return;
    case 'dataclass':
    case 'namedtuple': {
      const fields = fieldsOf(spec);
      const names = Object.keys(fields);
      let obj: unknown = value;
      if (kind === 'namedtuple' && Array.isArray(value)) {
        if (value.length !== names.length) {
          throw mismatch(spec, value, where, `${names.length} fields, ${value.length} given`);
        }
        obj = Object.fromEntries(names.map((n, i) => [n, value[i]]));
      }
      if (!isObject(obj)) {
        throw mismatch(spec, value, where);
      }
      const unknown = Object.keys(obj).filter(k => !owns(fields, k));
      if (unknown.length) {
        const prefix = where.length ? `${at(where)}: ` : '';
        throw new Mismatch(
          `${prefix}${describeType(spec)} has no field ${unknown.join(', ')}; its fields: ${names.join(', ') || 'none'}`
        );
      }
      // Fields left out may have defaults, which type specs do not record.
      for (const [name, item] of Object.entries(obj)) {
        check(fields[name], item, [...where, `field ${name}`]);
      }
      return;
    }
    case 'file':
    case 'directory':
    case 'dataframe': {
      const path = isObject(value) ? (owns(value, 'path') ? value.path : value.uri) : value;
      if (typeof path !== 'string' || !path) {
        throw mismatch(spec, value, where);
      }
      if (isObject(value) && owns(value, 'format') && typeof value.format !== 'string') {
        throw mismatch(spec, value, where, 'its format is not text');
      }
      return;
    }
    default:
      return; // a kind this form does not know: the server checks it
  }
}

// Python's `int(text)` and `float(text)`: any Unicode decimal digits, `_` between digits, spaces around.
const DIGITS = '\\p{Nd}(?:_?\\p{Nd})*';
const INT_TEXT = new RegExp(`^\\s*[+-]?${DIGITS}\\s*$`, 'u');
const FLOAT_TEXT = new RegExp(
  `^\\s*[+-]?(?:(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.?)(?:e[+-]?${DIGITS})?|inf|infinity|nan)\\s*$`,
  'iu'
);

function keyFits(spec: TypeSpec, key: string): boolean {
  switch (spec.kind) {
    case 'integer':
      return INT_TEXT.test(key);
    case 'float':
      return FLOAT_TEXT.test(key);
    case 'string':
    case 'pickle':
      return true;
    default:
      return checkLiteral(spec, key) === null;
  }
}

/**
 * Null when `value` is a valid JSON literal of `spec`, else what is wrong:
 * `item 2 is "a", not an integer`, `"abc" is not a number`.
 */
export function checkLiteral(spec: unknown, value: unknown): string | null {
  try {
    check(spec, value, []);
  } catch (err) {
    if (err instanceof Mismatch) {
      return err.message;
    }
    if (err instanceof RangeError) {
      return 'the value is nested too deeply to check';
    }
    throw err;
  }
  return null;
}
