// The precache manifest vite-plugin-pwa injects at build time.
interface ServiceWorkerGlobalScope {
  __WB_MANIFEST: Array<import("workbox-precaching").PrecacheEntry | string>;
}
