/**
 * `npm run test:fast`: the edit-test loop. Domain, services, store, HTTP and conformance tests on
 * SQLite only, without building dist/ or the console, and without the CLI, process, two-node and
 * browser tests. `npm test` runs everything, on both databases, as CI does.
 *
 * Test files share their worker's module graph (isolate: false): the app's modules are imported once
 * per worker instead of once per file, which was a third of the run. Every test builds its own
 * Keyward and store, so nothing else is shared; `npm test` keeps files isolated. Two workers on this
 * 2-core machine kind: the suites wait on sockets and timers as much as they compute. Route schemas are
 * compiled once per process (src/server/validation.ts), so a test's Keyward starts in about 0.13 s rather
 * than 0.8 s: 906 to 912 tests in 35 to 38 s (61 to 63 s before), 2026-12-01.
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/architecture.test.ts', 'test/pointers.test.ts', 'test/{domain,services,store,protocols,conformance,server,sdk}/**/*.test.ts'],
    exclude: ['test/server/process.test.ts', 'test/sdk/two-nodes.test.ts', 'node_modules/**'],
    isolate: false,
    maxWorkers: 2,
  },
});
