/**
 * The Artifacts tab's search box: words match names, `key=value` words match
 * partitions. Framework-free, so the parsing is tested without a DOM.
 *
 * `model region=eu` lists the artifacts whose name contains "model" and that
 * have a version partitioned `region=eu`. A value may be quoted to hold spaces
 * (`city="New York"`). The time partition is a partition like any other here
 * (`time_partition=2026-12-06`), as the backend indexes it.
 */

export interface ArtifactSearch {
  /** What the names must contain ('' for any). */
  name: string;
  /** Partition filters in the order typed; a key typed twice keeps its last value. */
  partitions: Record<string, string>;
  /** Words that are neither a name nor a whole `key=value`, each with why. */
  problems: string[];
}

// A word: `key="quoted value"`, `key=value`, or anything else up to a space.
const WORD = /(\S*?)=("([^"]*)"?|\S*)|\S+/g;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Read the search box's text. */
export function parseSearch(text: string): ArtifactSearch {
  const names: string[] = [];
  const partitions: Record<string, string> = {};
  const problems: string[] = [];
  for (const m of text.matchAll(WORD)) {
    const [word, key, raw, quoted] = m;
    if (key === undefined) {
      names.push(word);
      continue;
    }
    const value = quoted !== undefined ? quoted : raw;
    if (key === '') {
      problems.push(`\`${word}\`: name the partition before the = (KEY=${raw || 'VALUE'})`);
    } else if (!KEY.test(key)) {
      problems.push(`\`${word}\`: a partition key is a name (letters, digits, _), not \`${key}\``);
    } else if (value === '') {
      problems.push(`\`${word}\`: give the value of ${key} after the = (${key}=VALUE)`);
    } else {
      delete partitions[key]; // typed again: it moves to where it was typed last
      partitions[key] = value;
    }
  }
  return { name: names.join(' '), partitions, problems };
}

/** The `partition` query parameters of the versions route: `['region=eu', ...]`. */
export function partitionParams(partitions: Record<string, string>): string[] {
  return Object.entries(partitions).map(([k, v]) => `${k}=${v}`);
}

/** Partitions as a line of text: `region=eu, size=small`; '' for none. */
export function partitionText(partitions: Record<string, string> | null | undefined): string {
  return Object.entries(partitions ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** Whether an artifact with these partition keys (and time partition) can match the filters at all. */
export function keysCover(
  keys: readonly string[],
  timePartitioned: boolean,
  partitions: Record<string, string>
): boolean {
  return Object.keys(partitions).every(k => keys.includes(k) || (k === 'time_partition' && timePartitioned));
}
