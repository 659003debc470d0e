import type { AuthState, User } from "@flick/shared";
import { createContext, createResource, type ParentProps, type Resource, useContext } from "solid-js";
import { api, unwrap } from "../../lib/api.ts";

interface Session {
  state: Resource<AuthState>;
  setUser(user: User): void;
  refresh(): void;
  logout(): Promise<void>;
}

const SessionContext = createContext<Session>();

export function SessionProvider(props: ParentProps) {
  const [state, { mutate, refetch }] = createResource(() => unwrap(api.api.auth.state.$get()));
  const session: Session = {
    state,
    setUser: (user) => mutate({ needsSetup: false, user }),
    refresh: () => void refetch(),
    async logout() {
      await unwrap(api.api.auth.logout.$post());
      mutate({ needsSetup: false, user: null });
    },
  };
  return <SessionContext.Provider value={session}>{props.children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
