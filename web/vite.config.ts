/** Builds the console into dist/web, which the server serves at `/`. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // The server's Content-Security-Policy allows no inline script.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npx vite --config web/vite.config.ts` against a Keyward on :8080.
    proxy: Object.fromEntries(['/v1', '/ng', '/authz', '/docs'].map((p) => [p, 'http://127.0.0.1:8080'])),
  },
});
