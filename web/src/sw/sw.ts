/// <reference lib="webworker" />
import { clientsClaim } from "workbox-core";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { NetworkFirst } from "workbox-strategies";

declare const self: ServiceWorkerGlobalScope;

// The app shell: every built asset, versioned by the build.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// App routes open the cached shell offline; the API, ingest and health endpoints never do.
registerRoute(
  new NavigationRoute(createHandlerBoundToURL("/index.html"), {
    denylist: [/^\/api\//, /^\/ingest\//, /^\/healthz/, /^\/readyz/],
  }),
);

// The last feed a person saw (and who they are), so the phone opens with cards offline; the
// network wins whenever it answers.
registerRoute(
  ({ url, request }) =>
    request.method === "GET" && (url.pathname === "/api/feed" || url.pathname === "/api/auth/state"),
  new NetworkFirst({ cacheName: "flick-feed", networkTimeoutSeconds: 4 }),
);

// The page asks before switching versions (update prompt), so a half-finished swipe is never reloaded away.
self.addEventListener("message", (event) => {
  if ((event.data as { type?: string } | undefined)?.type === "SKIP_WAITING") void self.skipWaiting();
});
clientsClaim();
