import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { api } from "./api/client";
import type { WhoAmI } from "./api/types";
import { signOut, useToken } from "./auth";
import { useRoute, type Route } from "./router";
import { AssetScreen, AssetsScreen } from "./screens/Assets";
import { ConnectionScreen, ConnectionsScreen } from "./screens/Connections";
import { FlowScreen } from "./screens/Flow";
import { FlowsScreen } from "./screens/Flows";
import { SignIn } from "./screens/SignIn";
import { Empty } from "./components/ui";

const SECTIONS: { key: string; label: string; href: string; matches: Route["name"][] }[] = [
  { key: "flows", label: "Flows", href: "#/flows", matches: ["flows", "flow"] },
  { key: "assets", label: "Assets", href: "#/assets", matches: ["assets", "asset"] },
  { key: "connections", label: "Connections", href: "#/connections", matches: ["connections", "connection"] },
];

export function App() {
  const token = useToken();
  const queries = useQueryClient();
  useEffect(() => {
    if (!token) queries.clear(); // nothing of the last user stays in memory after sign-out
  }, [token, queries]);
  if (!token) return <SignIn />;
  return <Shell />;
}

function Shell() {
  const route = useRoute();
  const me = useQuery({ queryKey: ["me"], queryFn: () => api.get<WhoAmI>("/me"), staleTime: 300_000 });
  useEffect(() => {
    document.title = `StepStore · ${SECTIONS.find((s) => s.matches.includes(route.name))?.label ?? "Console"}`;
  }, [route.name]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href="#/flows" aria-label="StepStore home">
          <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <path d="M8 22h6v-5h5v-5h5" fill="none" stroke="#fff" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <span>StepStore</span>
        </a>
        <nav className="nav" aria-label="Main">
          {SECTIONS.map((s) => (
            <a key={s.key} href={s.href} className="nav-link" aria-current={s.matches.includes(route.name) ? "page" : undefined}>
              {s.label}
            </a>
          ))}
        </nav>
        <div className="user">
          {me.data ? (
            <span className="user-name" title={`role: ${me.data.role}`}>
              {me.data.user}
            </span>
          ) : null}
          <button type="button" className="button button-quiet" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </div>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case "flows":
      return <FlowsScreen />;
    case "flow":
      return <FlowScreen flowId={route.flowId} step={route.step} />;
    case "assets":
      return <AssetsScreen />;
    case "asset":
      return <AssetScreen assetId={route.assetId} />;
    case "connections":
      return <ConnectionsScreen />;
    case "connection":
      return <ConnectionScreen name={route.name_} owner={route.owner} />;
    default:
      return (
        <Empty title="There is nothing at this address">
          <a href="#/flows">Go to your flows</a>
        </Empty>
      );
  }
}
