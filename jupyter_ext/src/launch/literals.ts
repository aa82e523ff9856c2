/**
 * Type specs and JSON literals, as the backend reads them (a port of `plait.literals`).
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

export function isTypeSpec(spec: unknown): spec is TypeSpec {
  return typeof spec === 'object' && spec !== null && typeof (spec as TypeSpec).kind === 'string';
}

function short(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function sub(spec: TypeSpec, key: string): TypeSpec {
  const inner = spec[key];
  return isTypeSpec(inner) ? inner : PICKLE;
}

/** A type spec spelled as Python spells annotations: `list[int]`, `Optional[str]`, `Point`. */
export function describeType(spec: unknown): string {
  if (!isTypeSpec(spec)) {
    return '?';
  }
  const kind = spec.kind;
  if (kind in SCALAR_NAMES) {
    return SCALAR_NAMES[kind];
  }
  switch (kind) {
    case 'list':
      return `list[${describeType(sub(spec, 'of'))}]`;
    case 'dict':
      return isTypeSpec(spec.key) ? `dict[${describeType(spec.key)}, ${describeType(spec.value)}]` : 'dict';
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

// ------------------------------------------------------------- ISO 8601 text

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,]\d{1,6})?)?)?(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?)?)?$/;

function validDate(y: string, m: string, d: string): boolean {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  if (year < 1 || month < 1 || month > 12 || day < 1) {
    return false;
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/** An ISO 8601 date such as 2024-05-01 (what Python's `date.fromisoformat` reads). */
export function isIsoDate(text: unknown): boolean {
  if (typeof text !== 'string') {
    return false;
  }
  const m = DATE.exec(text);
  return m !== null && validDate(m[1], m[2], m[3]);
}

/** An ISO 8601 date and time such as 2024-05-01T12:00:00 or 2024-05-01T12:00:00+02:00. */
export function isIsoDateTime(text: unknown): boolean {
  if (typeof text !== 'string') {
    return false;
  }
  const m = DATETIME.exec(text);
  if (m === null || !validDate(m[1], m[2], m[3])) {
    return false;
  }
  const [hour, minute, second] = [m[4], m[5], m[6]].map(v => (v === undefined ? 0 : Number(v)));
  return hour <= 23 && minute <= 59 && second <= 59;
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
      return `${expectedValue(sub(spec, 'of'))} or null`;
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
      if (!ok || typeof raw !== 'string' || !/^(\s*[0-9a-fA-F]{2})*\s*$/.test(raw)) {
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
      const valueSpec = isTypeSpec(spec.value) ? spec.value : sub(spec, 'of');
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
      const unknown = Object.keys(obj).filter(k => !(k in fields));
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
      const path = isObject(value) ? (value.path ?? value.uri) : value;
      if (typeof path !== 'string' || !path) {
        throw mismatch(spec, value, where);
      }
      return;
    }
    default:
      return; // a kind this form does not know: the server checks it
  }
}

function keyFits(spec: TypeSpec, key: string): boolean {
  switch (spec.kind) {
    case 'integer':
      return /^\s*[+-]?\d+\s*$/.test(key);
    case 'float':
      return key.trim() !== '' && Number.isFinite(Number(key));
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
