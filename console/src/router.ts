// Hash routes (#/flows/...): the console is one file at "/", and its paths never meet the API's.
import { useSyncExternalStore } from "react";

export type Route =
  | { name: "flows" }
  | { name: "flow"; flowId: string; step: string | null }
  | { name: "assets" }
  | { name: "asset"; assetId: string }
  | { name: "connections" }
  | { name: "connection"; name_: string; owner: string | null }
  | { name: "notFound" };

function current(): string {
  return window.location.hash.replace(/^#/, "") || "/";
}

export function parse(hash: string): Route {
  const [path, queryText] = hash.split("?");
  const query = new URLSearchParams(queryText ?? "");
  const parts = path.split("/").filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "flows")) return { name: "flows" };
  if (parts[0] === "flows" && parts.length === 2) return { name: "flow", flowId: parts[1], step: null };
  if (parts[0] === "flows" && parts.length === 4 && parts[2] === "steps")
    return { name: "flow", flowId: parts[1], step: parts[3] };
  if (parts[0] === "assets" && parts.length === 1) return { name: "assets" };
  if (parts[0] === "assets" && parts.length === 2) return { name: "asset", assetId: parts[1] };
  if (parts[0] === "connections" && parts.length === 1) return { name: "connections" };
  if (parts[0] === "connections" && parts.length === 2)
    return { name: "connection", name_: parts[1], owner: query.get("owner") };
  return { name: "notFound" };
}

export function href(...segments: string[]): string {
  return "#/" + segments.map(encodeURIComponent).join("/");
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, "");
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(
    (listener) => {
      window.addEventListener("hashchange", listener);
      return () => window.removeEventListener("hashchange", listener);
    },
    current,
  );
  return parse(hash);
}
