import type { Role } from "@flick/shared";
import type { Config } from "./config.ts";
import type { DatabaseHandle } from "./db/client.ts";
import type { Clock } from "./lib/clock.ts";
import type { Logger } from "./lib/logger.ts";
import type { FeedPageCache } from "./services/cards/feed-cache.ts";
import type { CardEventHub } from "./services/cards/hub.ts";
import type { SourceCache } from "./services/signals/ingest.ts";
import type { RefusalLog } from "./services/signals/refusals.ts";
import type { SignalWriter } from "./services/signals/writer.ts";

/** Everything the app needs from the outside world; built in main.ts, faked in tests. */
export interface Deps {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  clock: Clock;
}

/** Per-process helpers built from Deps: ingest's group-commit writer, the live card-event hub, the feed's first-page cache. */
export interface Services {
  signalWriter: SignalWriter;
  cardHub: CardEventHub;
  feedCache: FeedPageCache;
  sources: SourceCache;
  /** The last request each source refused, for Settings. */
  refusals: RefusalLog;
}

export interface AuthUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}

export type Auth =
  | { via: "session"; user: AuthUser; sessionId: string }
  | { via: "token"; user: AuthUser; tokenId: string };

export interface AppEnv {
  Variables: {
    deps: Deps;
    services: Services;
    requestId: string;
    log: Logger;
    auth: Auth | null;
  };
}
