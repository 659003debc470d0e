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

// Web push: the server sends {title, body, cardId, url} for cards worth an interruption. One
// notification per card (tag), replacing an older one for the same card.
self.addEventListener("push", (event) => {
  let message: { title?: string; body?: string; cardId?: string; url?: string } = {};
  try {
    message = (event.data?.json() ?? {}) as typeof message;
  } catch {
    message = { title: event.data?.text() };
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "Flick: a new card", {
      body: message.body ?? "",
      tag: message.cardId ?? "flick",
      icon: "/icon-192.png",
      badge: "/icon-192.png",
      data: { url: message.url ?? "/" },
    }),
  );
});

// A tap opens the card: an open Flick window is focused and sent there, else a new one opens.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data as { url?: string } | null)?.url ?? "/", self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows[0];
      if (open) {
        await open.focus();
        await open.navigate(url.href).catch(() => undefined);
        return;
      }
      await self.clients.openWindow(url.href);
    })(),
  );
});
