import { defineConfig } from "vite";

// The server embeds dist (clients/web/embed.go) and serves it at "/", so
// asset paths are relative.
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    // `npm run dev` talks to a local server (make run) through the dev server.
    proxy: { "/switchboard.v1.": "http://127.0.0.1:8080" },
  },
});
