/**
 * Ask the backend again every `appPolling.interval` ms while `again` says so:
 * an app on its way somewhere is asked about every 2 s (no backoff: starting
 * takes seconds and the user is watching), nothing at all once it settles, and
 * nothing while the page or the widget is hidden.
 */
import { Poll } from '@lumino/polling';

/** The interval (tests shorten it). */
export const appPolling = { interval: 2000 };

export interface WatchOptions<T> {
  name: string;
  fetch: () => Promise<T>;
  onData: (value: T) => void;
  onError?: (error: unknown) => void;
  /** Whether to ask again after this answer. */
  again: (value: T) => boolean;
  /** Also stand by while this says so (a widget in a background tab). */
  hidden?: () => boolean;
}

export interface Watcher {
  dispose(): void;
}

export function watch<T>(options: WatchOptions<T>): Watcher {
  let moving = false; // whether the last answer asked for another
  const poll: Poll = new Poll({
    name: options.name,
    frequency: { interval: appPolling.interval, backoff: false },
    standby: () => (options.hidden?.() ? true : 'when-hidden'),
    factory: async () => {
      let value: T;
      try {
        value = await options.fetch();
      } catch (error) {
        if (!poll.isDisposed) {
          options.onError?.(error);
          if (!moving) {
            void poll.stop(); // nothing was changing: the sidebar's Refresh asks again
          }
        }
        return; // while something was changing, asked again at the next tick
      }
      if (poll.isDisposed) {
        return;
      }
      options.onData(value);
      moving = options.again(value);
      if (!moving) {
        void poll.stop();
      }
    }
  });
  return { dispose: () => poll.dispose() };
}
