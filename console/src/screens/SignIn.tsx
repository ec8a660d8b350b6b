import { useState, type FormEvent } from "react";
import { ApiError, request } from "../api/client";
import type { WhoAmI } from "../api/types";
import { signIn } from "../auth";

export function SignIn() {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim();
    if (!value) {
      setError("Paste your StepStore token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await request<WhoAmI>("GET", "/me", { token: value }); // check it before keeping it
      setToken("");
      signIn(value);
    } catch (problem) {
      setError(
        problem instanceof ApiError && (problem.status === 401 || problem.status === 403)
          ? "This token is not valid. Ask your StepStore admin for a token (stepstore users create NAME)."
          : problem instanceof Error
            ? problem.message
            : String(problem),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="signin">
      <form className="signin-card" onSubmit={submit} noValidate>
        <div className="brand brand-large">
          <svg viewBox="0 0 32 32" width="36" height="36" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="currentColor" />
            <path d="M8 22h6v-5h5v-5h5" fill="none" stroke="#fff" strokeWidth="3" strokeLinecap="round" strokeLinejoin="round" />
          </svg>
          <span>StepStore</span>
        </div>
        <h1>Sign in</h1>
        <p className="muted">Your flows, their pages, assets and connections.</p>
        <label htmlFor="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="sst_…"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "token-error" : "token-help"}
          autoFocus
        />
        {error ? (
          <p id="token-error" className="field-error" role="alert">
            {error}
          </p>
        ) : (
          <p id="token-help" className="hint">
            Kept in this browser tab only, until you sign out or close it.
          </p>
        )}
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
