/**
 * What the sidebar's executions list and the executions table share: the pages
 * of executions kept live while shown, and the filter controls above them.
 */
import { Poll } from '@lumino/polling';
import * as React from 'react';

import type { ExecutionPhase, PlaitClient } from '../api/client';
import { isHiddenElement } from '../execution/model';
import { EXECUTION_PHASES } from '../phases';
import { ExecutionPages } from './executions';

/** How often a visible list asks for new and changed runs: a run launched anywhere shows within 2 s. */
export const POLL_MS = 1500;

export interface LiveExecutions {
  pages: ExecutionPages;
  search: string;
  setSearch: (text: string) => void;
  phase: ExecutionPhase | '';
  setPhase: (phase: ExecutionPhase | '') => void;
}

/**
 * Executions filtered by `search` (part of a name or id) and `phase`, re-rendering on every change.
 * The newest page is asked again every POLL_MS while `shown` is visible; nothing is asked while it
 * (or the browser tab) is hidden, and a failing backend is asked less often.
 */
export function useLiveExecutions(client: PlaitClient, shown: React.RefObject<Element>, name: string): LiveExecutions {
  const pages = React.useMemo(() => new ExecutionPages(client), [client]);
  const [, setVersion] = React.useState(0);
  const [search, setSearch] = React.useState('');
  const [phase, setPhase] = React.useState<ExecutionPhase | ''>('');
  React.useEffect(() => pages.subscribe(() => setVersion(v => v + 1)), [pages]);
  React.useEffect(() => {
    const t = setTimeout(() => pages.setFilter({ search: search.trim() || undefined, phase: phase ? [phase] : [] }), 200);
    return () => clearTimeout(t);
  }, [pages, phase, search]);
  React.useEffect(() => {
    const poll = new Poll({
      factory: async () => {
        await pages.refresh();
      },
      frequency: { interval: POLL_MS, backoff: true, max: 30000 },
      standby: () => isHiddenElement(shown.current) || 'when-hidden',
      name
    });
    return () => poll.dispose();
  }, [pages, shown, name]);
  return { pages, search, setSearch, phase, setPhase };
}

/** The name-or-id filter and the status filter; `children` adds controls at the end of the row. */
export function ExecutionFilters(props: { live: LiveExecutions; children?: React.ReactNode }): JSX.Element {
  const { search, setSearch, phase, setPhase } = props.live;
  return (
    <div className="plait-ListControls">
      <input
        type="search"
        className="plait-Search"
        placeholder="Filter by name or id"
        aria-label="Filter executions by name"
        value={search}
        onChange={e => setSearch(e.target.value)}
      />
      <select aria-label="Filter executions by status" value={phase} onChange={e => setPhase(e.target.value as ExecutionPhase | '')}>
        <option value="">All statuses</option>
        {EXECUTION_PHASES.map(p => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      {props.children}
    </div>
  );
}
