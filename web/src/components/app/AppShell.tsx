import { type ParentProps, Show } from "solid-js";
import { navigate, path } from "../../lib/router.ts";
import styles from "./AppShell.module.css";
import { useSession } from "./SessionContext.tsx";

export function AppShell(props: ParentProps) {
  const session = useSession();
  return (
    <div class={styles.shell}>
      <header class={styles.bar}>
        <span class={styles.brand}>Flick</span>
        <span class={styles.who} data-testid="current-user">
          {session.state()?.user?.name} · {session.state()?.user?.role}
        </span>
        <Show when={session.state()?.user}>
          <a
            class={styles.button}
            href={path() === "/settings" ? "/" : "/settings"}
            onClick={(e) => {
              e.preventDefault();
              navigate(path() === "/settings" ? "/" : "/settings");
            }}
          >
            {path() === "/settings" ? "Feed" : "Settings"}
          </a>
        </Show>
        <button
          class={styles.button}
          type="button"
          onClick={async () => {
            await session.logout();
            navigate("/login", { replace: true });
          }}
        >
          Sign out
        </button>
      </header>
      <div class={styles.content}>{props.children}</div>
    </div>
  );
}
