// Vite 8 builds keybound's bundler entries with no plugin (Vite 7 and older: vite-plugin-wasm).
// Workers as ES modules: the default (iife) format refuses top-level await.
export default {
  worker: { format: "es" },
  build: { target: "esnext" },
};
