import { readFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

import { ago, durationFieldText, formatDuration, formatTime, shortName } from '../src/format';
import { EXECUTION_PHASES, isTerminal, NODE_PHASES, phaseClass } from '../src/phases';

describe('format', () => {
  it('shortens dotted names to their last part', () => {
    expect(shortName('examples.regression.predict')).toBe('predict');
    expect(shortName('predict')).toBe('predict');
  });

  it('writes durations for reading in tables and headers', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(4.21)).toBe('4.2 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(300)).toBe('5m 0s');
    expect(formatDuration(5400)).toBe('1h 30m');
  });

  it('writes every duration as the CLI and the notebook do', () => {
    const shared = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'durations.json'), 'utf-8')) as {
      cases: [number | null, string][];
    };
    expect(shared.cases.map(([s]) => [s, formatDuration(s)])).toEqual(shared.cases);
  });

  it('writes durations as the launch form takes them, a different spelling', () => {
    expect(durationFieldText(300)).toBe('5m');
    expect(durationFieldText(5400)).toBe('1h30m');
    expect(durationFieldText(1.5)).toBe('1.5s');
  });

  it('writes times and ages, passing through what it cannot read', () => {
    expect(formatTime(null)).toBe('—');
    expect(formatTime('not a time')).toBe('not a time');
    expect(formatTime('2025-01-01T10:00:00Z')).toMatch(/\d/);
    // The zone is named: the same run is read from machines in different zones.
    const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' })
      .formatToParts(new Date('2025-01-01T10:00:00Z'))
      .find(p => p.type === 'timeZoneName')?.value;
    expect(zone).toBeTruthy();
    expect(formatTime('2025-01-01T10:00:00Z')).toContain(zone as string);
    const now = Date.parse('2025-01-01T10:00:00Z');
    expect(ago(null, now)).toBe('never');
    expect(ago('2025-01-01T09:59:30Z', now)).toBe('30s ago');
    expect(ago('2025-01-01T09:45:00Z', now)).toBe('15m ago');
    expect(ago('2025-01-01T07:00:00Z', now)).toBe('3h ago');
    expect(ago('2024-12-30T10:00:00Z', now)).toBe('2d ago');
  });
});

describe('phases', () => {
  it('lists the schema phases in order, an execution having all but the node-only ones', () => {
    expect(NODE_PHASES).toEqual(['QUEUED', 'RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT', 'SKIPPED',
                                 'CACHE_HIT', 'REUSED']);
    expect(EXECUTION_PHASES).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);
  });

  it('knows the phases that end a node, and names their badge classes', () => {
    expect(NODE_PHASES.filter(isTerminal)).toEqual(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT', 'SKIPPED',
                                                    'CACHE_HIT', 'REUSED']);
    expect(phaseClass('TIMED_OUT')).toBe('plait-phase-timed-out');
    expect(phaseClass('REUSED')).toBe('plait-phase-reused');
    expect(phaseClass('WAITING')).toBe('plait-phase-waiting');
    expect(phaseClass(undefined)).toBe('plait-phase-unknown');
  });
});
