import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // JupyterLab's components need browser APIs jsdom lacks: tests get a stand-in with its icons.
    alias: {
      '@jupyterlab/ui-components': fileURLToPath(new URL('./test/stubs/ui-components.tsx', import.meta.url))
    }
  },
  test: {
    environment: 'jsdom',
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    pool: 'threads',
    poolOptions: { threads: { maxThreads: 2, minThreads: 1 } }
  }
});
