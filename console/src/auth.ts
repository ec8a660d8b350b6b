// The signed-in user's token lives in this tab's session storage only: never in a URL, a cookie or
// a log. An identity provider (Cognito hosted UI, OIDC) would replace signIn with its redirect and
// hand back a token the same way.
import { useSyncExternalStore } from "react";

const KEY = "stepstore.token";
const listeners = new Set<() => void>();

export function currentToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function signIn(token: string): void {
  sessionStorage.setItem(KEY, token);
  listeners.forEach((l) => l());
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l());
}

export function useToken(): string | null {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    currentToken,
  );
}
