import { render } from "solid-js/web";
import { App } from "./App.tsx";
import { SessionProvider } from "./components/app/SessionContext.tsx";
import { registerServiceWorker } from "./lib/pwa.ts";
import "./styles/global.css";

const root = document.getElementById("root");
if (!root) throw new Error("#root is missing from index.html");

render(
  () => (
    <SessionProvider>
      <App />
    </SessionProvider>
  ),
  root,
);

registerServiceWorker();
