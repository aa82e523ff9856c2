// @vitest-environment node
/**
 * The TypeScript port of plait.model.literals answers as Python does, on the
 * cases `fixtures/generate_literals.py` writes from the Python implementation
 * (regenerate with it; tests/lab/test_literal_fixtures.py fails when it is stale).
 *
 * Messages are not compared: the form words its own for a person typing a
 * value; Python's are for the API. Whether a literal fits is compared.
 */
import { describe, expect, it } from 'vitest';

import { checkLiteral, describeType, literalTypeName } from '../src/api/literals';
import fixtures from './fixtures/literals.json';

interface Case {
  group: string;
  name: string;
  spec: unknown;
  literal: unknown;
  describe_type: string;
  literal_type_name: string;
  problem: string | null;
}

interface Answers {
  describeType: string;
  literalTypeName: string;
  fits: boolean;
}

/** The cases where the port answers otherwise on purpose: its answers, and why. */
const ON_PURPOSE: Record<string, Partial<Answers> & { why: string }> = {
  'int <- 9007199254740993': {
    fits: false,
    why: 'past 2**53 a JavaScript number is not the integer typed, so the form cannot send it exactly'
  },
  'int <- 1.0': { fits: true, literalTypeName: 'int', why: 'JSON.parse reads 1.0 as the number 1' },
  'float <- 1e+300': { literalTypeName: 'int', why: 'JSON.parse reads 1e+300 as a number with no fraction' },
  'Level <- 2.0': { literalTypeName: 'int', why: 'JSON.parse reads 2.0 as the number 2' },
  '{"kind": "tensor"} <- 1': { fits: true, why: 'the form leaves kinds it does not know to the server' },
  '{"kind": "toString"} <- 1': { fits: true, why: 'the form leaves kinds it does not know to the server' },
  '{"of": {"kind": "integer"}} <- 1': {
    fits: true,
    describeType: '?',
    why: 'the form leaves specs without a kind to the server; Python spells them `None`'
  },
  '{"kind": "list", "of": "int"} <- [1]': { fits: true, why: 'the form leaves specs it cannot read to the server' },
  '{"kind": "optional"} <- 1': { fits: true, why: 'the form leaves specs it cannot read to the server' }
};

const cases = (fixtures as { cases: Case[] }).cases;

function python(c: Case): Answers {
  return { describeType: c.describe_type, literalTypeName: c.literal_type_name, fits: c.problem === null };
}

function port(c: Case): Answers {
  return {
    describeType: describeType(c.spec),
    literalTypeName: literalTypeName(c.literal),
    fits: checkLiteral(c.spec, c.literal) === null
  };
}

describe('the literal fixtures written from plait.model.literals', () => {
  it('cover every kind of type spec', () => {
    const kinds = new Set<string>();
    const visit = (spec: unknown): void => {
      if (spec && typeof spec === 'object') {
        const s = spec as Record<string, unknown>;
        if (typeof s.kind === 'string') {
          kinds.add(s.kind);
        }
        Object.values(s).forEach(visit);
      }
    };
    cases.forEach(c => visit(c.spec));
    for (const kind of ['integer', 'float', 'boolean', 'string', 'bytes', 'datetime', 'date', 'duration', 'none',
                        'pickle', 'list', 'dict', 'tuple', 'optional', 'union', 'enum', 'dataclass', 'namedtuple',
                        'file', 'directory', 'dataframe']) {
      expect(kinds, kind).toContain(kind);
    }
    expect(cases.filter(c => c.problem === null).length).toBeGreaterThan(50);
    expect(cases.filter(c => c.problem !== null).length).toBeGreaterThan(50);
  });

  it('name only cases that exist among the differences on purpose', () => {
    const names = new Set(cases.map(c => c.name));
    expect(Object.keys(ON_PURPOSE).filter(n => !names.has(n))).toEqual([]);
  });

  for (const group of [...new Set(cases.map(c => c.group))]) {
    it(`are answered by the port as by Python: ${group}`, () => {
      const wrong: string[] = [];
      for (const c of cases.filter(k => k.group === group)) {
        const { why: _, ...differences } = ON_PURPOSE[c.name] ?? { why: '' };
        const expected = { ...python(c), ...differences };
        const got = port(c);
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          wrong.push(`${c.name}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(got)}` +
                     (c.problem ? ` (Python: ${c.problem})` : ''));
        }
      }
      expect(wrong).toEqual([]);
    });
  }
});
