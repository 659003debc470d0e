import { createSignal, Show } from "solid-js";
import { api, errorMessage, unwrap } from "../../lib/api.ts";
import { useSession } from "../app/SessionContext.tsx";
import styles from "./FeedView.module.css";

/** The feed. Until agents produce cards it teaches what to do next. */
export function FeedView() {
  const session = useSession();
  const [inviteUrl, setInviteUrl] = createSignal("");
  const [error, setError] = createSignal("");
  const isAdmin = () => session.state()?.user?.role === "admin";

  const invite = async () => {
    setError("");
    try {
      const res = await unwrap(api.api.invites.$post({ json: { role: "reviewer" } }));
      setInviteUrl(res.url);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section class={styles.empty} aria-labelledby="feed-empty-title">
      <h1 id="feed-empty-title" class={styles.title}>
        Nothing to review
      </h1>
      <p class={styles.text}>
        When a signal matters, Flick's agents turn it into a card here: swipe right to accept, left to reject.
        Connect a source (GitHub, Sentry, metrics, feedback) and cards will arrive on their own.
      </p>
      <Show when={isAdmin()}>
        <button class={styles.action} type="button" onClick={invite}>
          Invite a teammate
        </button>
        <Show when={inviteUrl()}>
          <input
            class={styles.link}
            readOnly
            value={inviteUrl()}
            aria-label="Invitation link"
            data-testid="invite-url"
          />
          <p class={styles.text}>Send this link to your teammate. It works once, for three days.</p>
        </Show>
        <Show when={error()}>
          <p class={styles.error} role="alert">
            {error()}
          </p>
        </Show>
      </Show>
    </section>
  );
}
