import { createEffect, lazy, Match, Suspense, Switch } from "solid-js";
import { AppShell } from "./components/app/AppShell.tsx";
import { useSession } from "./components/app/SessionContext.tsx";
import { AuthInvite } from "./components/auth/AuthInvite.tsx";
import { AuthLogin } from "./components/auth/AuthLogin.tsx";
import { AuthSetup } from "./components/auth/AuthSetup.tsx";
import { FeedProvider } from "./components/feed/FeedContext.tsx";
import { FeedView } from "./components/feed/FeedView.tsx";
import { errorMessage } from "./lib/api.ts";
import { navigate, path } from "./lib/router.ts";

// Settings are rarely opened: their code loads only when asked for.
const SettingsView = lazy(() => import("./components/settings/SettingsView.tsx"));

export function App() {
  const session = useSession();

  // Signed-out people land on sign-in; signed-in people never see the sign-in forms.
  createEffect(() => {
    const state = session.state();
    if (!state) return;
    const p = path();
    if (state.user && (p === "/login" || p === "/setup" || p === "/invite")) navigate("/", { replace: true });
    else if (!state.user && p !== "/setup" && p !== "/invite") navigate("/login", { replace: true });
  });

  return (
    <Switch fallback={<p role="status">Loading…</p>}>
      <Match when={session.state.error}>
        <p role="alert">{errorMessage(session.state.error)}</p>
      </Match>
      <Match when={path() === "/setup"}>
        <AuthSetup />
      </Match>
      <Match when={path() === "/invite"}>
        <AuthInvite />
      </Match>
      <Match when={session.state()?.user && path() === "/settings"}>
        <AppShell>
          <Suspense fallback={<p role="status">Loading…</p>}>
            <SettingsView admin={session.state()?.user?.role === "admin"} />
          </Suspense>
        </AppShell>
      </Match>
      <Match when={session.state()?.user}>
        <AppShell>
          <FeedProvider>
            <FeedView />
          </FeedProvider>
        </AppShell>
      </Match>
      <Match when={session.state() && path() === "/login"}>
        <AuthLogin />
      </Match>
    </Switch>
  );
}
