import { api, unwrap } from "../../lib/api.ts";
import { navigate } from "../../lib/router.ts";
import { useSession } from "../app/SessionContext.tsx";
import { AuthForm } from "./AuthForm.tsx";

export function AuthLogin() {
  const session = useSession();
  return (
    <AuthForm
      title="Sign in"
      submitLabel="Sign in"
      busyLabel="Signing in…"
      fields={[
        { name: "email", label: "Email", type: "email", autocomplete: "username" },
        { name: "password", label: "Password", type: "password", autocomplete: "current-password" },
      ]}
      onSubmit={async (v) => {
        const { user } = await unwrap(
          api.api.auth.login.$post({ json: { email: v.email ?? "", password: v.password ?? "" } }),
        );
        session.setUser(user);
        navigate("/", { replace: true });
      }}
    />
  );
}
