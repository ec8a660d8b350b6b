// Set at build time from the OpenAPI document (vite.config.ts).
declare const __API_HAS_APPS__: boolean;
declare const __API_HAS_CONNECTION_TEST__: boolean;
