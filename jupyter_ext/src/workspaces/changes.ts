/**
 * "Something about the workspaces changed": the form, the view and the node
 * panel's "Debug in a workspace" say so, and the Workspaces tab reloads.
 */
type Listener = () => void;

const listeners = new Set<Listener>();

/** Call `listener` on each change until the returned function is called. */
export function onWorkspacesChanged(listener: Listener): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

export function workspacesChanged(): void {
  for (const listener of [...listeners]) {
    listener();
  }
}
