import react from "@vitejs/plugin-react";
import { readFileSync } from "node:fs";
import { defineConfig } from "vite";

// The console is built against the API's OpenAPI document: a screen whose routes the API does not
// have (apps, before they exist) is left out rather than probed with requests that fail.
const openapi = JSON.parse(readFileSync(new URL("../functions/stepstore_functions/openapi.json", import.meta.url), "utf8"));
const hasRoute = (path: string, method: string) => !!openapi.paths?.[path]?.[method];

// The build goes into the Python package, which ships it: the local stack serves it with no Node.
// Assets live under /_console/, a prefix no API route uses, so the console and the API share one origin.
export default defineConfig({
  plugins: [react()],
  define: {
    __API_HAS_APPS__: JSON.stringify(hasRoute("/apps", "get")),
    __API_HAS_CONNECTION_TEST__: JSON.stringify(hasRoute("/connections/{name}/test", "post")),
  },
  base: "/",
  build: {
    outDir: "../sdk/stepstore/console_dist",
    emptyOutDir: true,
    assetsDir: "_console",
    chunkSizeWarningLimit: 6000,
    sourcemap: false,
  },
  server: {
    // `npm run dev` against a running `stepstore local up` on its default port.
    proxy: { "^/(?!_console|@|src|node_modules).*": "http://127.0.0.1:8765" },
  },
});
