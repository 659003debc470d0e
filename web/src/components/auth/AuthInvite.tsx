import { createResource, Show } from "solid-js";
import { api, errorMessage, unwrap } from "../../lib/api.ts";
import { navigate, takeFragmentToken } from "../../lib/router.ts";
import { useSession } from "../app/SessionContext.tsx";
import styles from "./AuthForm.module.css";
import { AuthForm } from "./AuthForm.tsx";

/** An admin's invitation link: shows what the link grants, then creates the account. */
export function AuthInvite() {
  const session = useSession();
  const token = takeFragmentToken();
  const [link] = createResource(() => unwrap(api.api.auth.link.$post({ json: { token } })));
  return (
    <Show
      // An errored resource throws when read, so only read it once it is ready.
      when={link.state === "ready" ? link() : undefined}
      fallback={
        <main class={styles.page}>
          <div class={styles.card}>
            <div class={styles.brand}>Flick</div>
            <Show when={link.error} fallback={<p class={styles.intro}>Checking your invitation…</p>}>
              <p class={styles.error} role="alert">
                {errorMessage(link.error)}. Ask your admin for a new link.
              </p>
            </Show>
          </div>
        </main>
      }
    >
      {(info) => (
        <AuthForm
          title="Join your team on Flick"
          intro={`You are invited as ${info().role === "admin" ? "an admin" : "a reviewer"}.`}
          submitLabel="Create account"
          busyLabel="Creating…"
          fields={[
            { name: "name", label: "Your name", type: "text", autocomplete: "name" },
            {
              name: "email",
              label: "Email",
              type: "email",
              autocomplete: "username",
              value: info().email ?? "",
              readOnly: info().email !== null,
            },
            {
              name: "password",
              label: "Password (10+ characters)",
              type: "password",
              autocomplete: "new-password",
              minLength: 10,
            },
          ]}
          onSubmit={async (v) => {
            const { user } = await unwrap(
              api.api.auth["accept-invite"].$post({
                json: { token, name: v.name ?? "", email: v.email ?? "", password: v.password ?? "" },
              }),
            );
            session.setUser(user);
            navigate("/", { replace: true });
          }}
        />
      )}
    </Show>
  );
}
