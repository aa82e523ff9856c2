/**
 * "Something about the apps changed": the app view's Start/Stop and the
 * execution view's "Dashboard" say so, and the Apps tab asks again.
 */
type Listener = () => void;

const listeners = new Set<Listener>();

/** Call `listener` on each change until the returned function is called. */
export function onAppsChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function appsChanged(): void {
  for (const listener of [...listeners]) {
    listener();
  }
}
