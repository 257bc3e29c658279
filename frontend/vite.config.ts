import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// In `npm run dev` the page talks to a running `factory serve`; point
// FACTORY_SERVE_URL at it (default http://127.0.0.1:7777, where it listens by default).
const serveURL = process.env.FACTORY_SERVE_URL ?? "http://127.0.0.1:7777";

export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // ELK's layout engine is one large script, loaded on demand in a worker.
    chunkSizeWarningLimit: 2500,
    // The timing report is noise on a two-core build machine.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    proxy: {
      "/api": { target: serveURL, changeOrigin: false },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
