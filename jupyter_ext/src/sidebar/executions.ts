/**
 * The executions list's model: pages loaded on demand as the list scrolls, and
 * a refresh of the newest page that merges live changes into what is loaded.
 * Framework-free; the React list renders it through `subscribe`.
 */
import type { ExecutionPhase, ExecutionSummary as Execution, PlaitClient } from '../api/client';
import { formatDuration, formatTime } from '../format';

export const PAGE = 200;

export interface ExecutionFilter {
  /** Part of an execution's id or of its task, workflow or launch plan name (any case). */
  search?: string;
  phase?: ExecutionPhase[];
  kind?: 'task' | 'workflow' | 'launch_plan';
}

export class ExecutionPages {
  private items: Execution[] = [];
  private byId = new Map<string, number>();
  private nextOffset: number | null = 0;
  private loading: Promise<void> | null = null;
  private listeners = new Set<() => void>();
  error: string | null = null;

  constructor(
    private readonly client: PlaitClient,
    private filter: ExecutionFilter = {}
  ) {}

  get rows(): readonly Execution[] {
    return this.items;
  }

  get complete(): boolean {
    return this.nextOffset === null;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Whether a filter is set (an empty list then means nothing matches, not nothing ran). */
  get filtered(): boolean {
    return Boolean(this.filter.search || this.filter.phase?.length || this.filter.kind);
  }

  setFilter(filter: ExecutionFilter): void {
    this.filter = filter;
    this.items = [];
    this.byId.clear();
    this.nextOffset = 0;
    this.loading = null;
    this.emit();
    void this.loadMore();
  }

  /** Load the next page (no-op while one is loading or when all are loaded). */
  loadMore(): Promise<void> {
    if (this.loading || this.nextOffset === null) {
      return this.loading ?? Promise.resolve();
    }
    const offset = this.nextOffset;
    const filter = this.filter;
    this.loading = this.fetch(offset, PAGE)
      .then(page => {
        if (filter !== this.filter) {
          return;
        }
        this.append(page.items);
        this.nextOffset = page.next_offset ?? null;
        this.error = null;
      })
      .catch((e: Error) => {
        this.error = e.message;
      })
      .finally(() => {
        this.loading = null;
        this.emit();
      });
    return this.loading;
  }

  /**
   * Fetch the newest page and merge it: changed rows update in place, new
   * executions go on top. Resolves to true when anything changed (the poller
   * backs off while nothing does).
   */
  async refresh(): Promise<boolean> {
    const page = await this.fetch(0, Math.min(PAGE, Math.max(50, this.items.length)));
    let changed = false;
    const fresh: Execution[] = [];
    for (const e of page.items) {
      const at = this.byId.get(e.id);
      if (at === undefined) {
        fresh.push(e);
      } else if (!same(this.items[at], e)) {
        this.items[at] = e;
        changed = true;
      }
    }
    if (fresh.length) {
      this.items = [...fresh, ...this.items];
      this.reindex();
      if (this.nextOffset !== null) {
        this.nextOffset += fresh.length;
      }
      changed = true;
    }
    if (changed) {
      this.items = [...this.items];
      this.emit();
    }
    return changed;
  }

  private fetch(offset: number, limit: number) {
    return this.client.request('get', 'executions', {
      query: {
        limit,
        offset,
        search: this.filter.search || undefined,
        kind: this.filter.kind,
        phase: this.filter.phase?.length ? this.filter.phase : undefined
      }
    });
  }

  private append(rows: Execution[]): void {
    const add = rows.filter(r => !this.byId.has(r.id));
    this.items = [...this.items, ...add];
    this.reindex();
  }

  private reindex(): void {
    this.byId.clear();
    this.items.forEach((e, i) => this.byId.set(e.id, i));
  }

  private emit(): void {
    for (const fn of this.listeners) {
      fn();
    }
  }
}

function same(a: Execution, b: Execution): boolean {
  return a.phase === b.phase && a.ended_at === b.ended_at && a.started_at === b.started_at &&
    a.duration_s === b.duration_s;
}

/**
 * What a row's tooltip says: the id, what ran (and through which launch plan), when, and for a
 * run that did not succeed the first line of its error, so a failure reads without opening it.
 */
export function rowTooltip(e: Execution, time: (iso: string | null | undefined) => string = formatTime): string {
  const lines = [`${e.id} · ${e.phase}`, `${e.entity.kind === 'task' ? 'task' : 'workflow'} ${e.entity.name}@${e.entity.version}`];
  if (e.launch_plan) {
    lines.push(`launch plan ${e.launch_plan.name}`);
  }
  lines.push(`started ${time(e.started_at ?? e.created_at)} · ${formatDuration(e.duration_s)}`);
  const error = e.error as { type?: string; message?: string; node?: string } | null | undefined;
  if (error?.message) {
    const first = error.message.split('\n', 1)[0];
    const text = error.type && !first.startsWith(`${error.type}:`) ? `${error.type}: ${first}` : first;
    lines.push(`${text.length > 300 ? `${text.slice(0, 299)}…` : text}${error.node ? ` (node ${error.node})` : ''}`);
  }
  return lines.join('\n');
}
