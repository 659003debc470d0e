import type { ParentProps } from "solid-js";
import { navigate } from "../../lib/router.ts";
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
