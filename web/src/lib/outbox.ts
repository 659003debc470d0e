/**
 * Decisions made offline, kept in IndexedDB until they reach the server. Each entry carries its
 * idempotency key, so sending one twice (a retry after a lost reply) still decides only once.
 */
export interface OutboxEntry {
  key: string;
  url: string;
  body: unknown;
  cardId: string;
  title: string;
  createdAt: number;
}

const DB = "flick";
const STORE = "outbox";

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(mode: IDBTransactionMode, f: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = f(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const outbox = {
  add: (entry: OutboxEntry) => run("readwrite", (s) => s.put(entry)).then(() => undefined),
  remove: (key: string) => run("readwrite", (s) => s.delete(key)).then(() => undefined),
  all: async () =>
    ((await run("readonly", (s) => s.getAll())) as OutboxEntry[]).sort((a, b) => a.createdAt - b.createdAt),
};
