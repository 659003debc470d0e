import { api, unwrap } from "../../lib/api.ts";
import { navigate, takeFragmentToken } from "../../lib/router.ts";
import { useSession } from "../app/SessionContext.tsx";
import { AuthForm } from "./AuthForm.tsx";

/** First run: the link printed on the server's console opens this page with its token. */
export function AuthSetup() {
  const session = useSession();
  const token = takeFragmentToken();
  return (
    <AuthForm
      title="Create the admin account"
      intro={
        token
          ? "You are the first person here. This account will invite the rest of the team."
          : "Open the setup link printed in the server's console to continue."
      }
      submitLabel="Create account"
      busyLabel="Creating…"
      fields={[
        { name: "name", label: "Your name", type: "text", autocomplete: "name" },
        { name: "email", label: "Email", type: "email", autocomplete: "username" },
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
          api.api.auth.setup.$post({
            json: { token, name: v.name ?? "", email: v.email ?? "", password: v.password ?? "" },
          }),
        );
        session.setUser(user);
        navigate("/", { replace: true });
      }}
    />
  );
}
