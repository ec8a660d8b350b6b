import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../api/client";
import type { ConnectionList, ConnectionOut, WhoAmI } from "../api/types";
import { Empty, ErrorBox, Loading, PageHeader } from "../components/ui";
import { age, dateTime } from "../format";
import { ConnectionTest } from "./ConnectionTest";

function connectionHref(c: { name: string; owner: string }, me: string | undefined): string {
  const base = `#/connections/${encodeURIComponent(c.name)}`;
  return me && c.owner !== me ? `${base}?owner=${encodeURIComponent(c.owner)}` : base;
}

export function ConnectionsScreen() {
  const me = useQuery({ queryKey: ["me"], queryFn: () => api.get<WhoAmI>("/me"), staleTime: 300_000 });
  const list = useQuery({ queryKey: ["connections"], queryFn: () => api.get<ConnectionList>("/connections") });
  return (
    <>
      <PageHeader title="Connections" subtitle="Database and S3 credentials your flows use. Secrets are never shown here." />
      <section className="panel">
        {list.isPending ? (
          <Loading what="connections" />
        ) : list.isError ? (
          <ErrorBox error={list.error} what="connections" retry={() => list.refetch()} />
        ) : list.data.connections.length === 0 ? (
          <Empty title="No connections yet">
            Add one with <code>stepstore connections add NAME --type postgresql --set host=… --secret password</code>.
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Type</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Shared with</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.connections.map((c) => (
                  <tr key={`${c.owner}/${c.name}`}>
                    <td>
                      <a className="strong-link" href={connectionHref(c, me.data?.user)}>
                        {c.name}
                      </a>
                      {c.description ? <div className="muted small">{c.description}</div> : null}
                    </td>
                    <td>
                      <span className="chip">{c.type}</span>
                    </td>
                    <td>{me.data && c.owner === me.data.user ? "you" : c.owner}</td>
                    <td>{c.shared_with && c.shared_with.length ? c.shared_with.join(", ") : <span className="muted">—</span>}</td>
                    <td title={dateTime(c.updated_at)}>{age(c.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

export function ConnectionScreen({ name, owner }: { name: string; owner: string | null }) {
  const queries = useQueryClient();
  const me = useQuery({ queryKey: ["me"], queryFn: () => api.get<WhoAmI>("/me"), staleTime: 300_000 });
  const key = ["connection", owner ?? "", name];
  const connection = useQuery({
    queryKey: key,
    queryFn: () => api.get<ConnectionOut>(`/connections/${seg(name)}`, { owner: owner ?? undefined }),
  });
  const [user, setUser] = useState("");
  const share = useMutation({
    mutationFn: (grantee: string) => api.put(`/connections/${seg(name)}/shares/${seg(grantee)}`),
    onSuccess: () => {
      setUser("");
      queries.invalidateQueries({ queryKey: key });
    },
  });
  const unshare = useMutation({
    mutationFn: (grantee: string) => api.del(`/connections/${seg(name)}/shares/${seg(grantee)}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: key }),
  });
  if (connection.isPending) return <Loading what="the connection" />;
  if (connection.isError)
    return (
      <>
        <PageHeader title={name} subtitle={<a href="#/connections">← All connections</a>} />
        <ErrorBox error={connection.error} what={`Connection “${name}”`} retry={() => connection.refetch()} />
      </>
    );
  const c = connection.data;
  const mine = !!me.data && c.owner === me.data.user;
  return (
    <>
      <PageHeader
        title={
          <>
            {c.name} <span className="chip">{c.type}</span>
          </>
        }
        subtitle={
          <>
            <a href="#/connections">← All connections</a> · owned by {mine ? "you" : c.owner} · version {c.version}
          </>
        }
      />
      <div className="grid-2">
        <section className="panel">
          <h2 className="panel-title">Details</h2>
          <dl className="details">
            <dt>Description</dt>
            <dd>{c.description || "—"}</dd>
            <dt>Credential fields</dt>
            <dd>
              {c.credential_fields.length ? c.credential_fields.map((f) => <span key={f} className="chip">{f}</span>) : "—"}
              <p className="hint">Values stay in the secret store; flows read them through the SDK.</p>
            </dd>
            <dt>Created</dt>
            <dd>{dateTime(c.created_at)}</dd>
            <dt>Updated</dt>
            <dd>{dateTime(c.updated_at)}</dd>
          </dl>
          <ConnectionTest name={c.name} owner={mine ? null : c.owner} />
        </section>
        <section className="panel">
          <h2 className="panel-title">Shared with</h2>
          {!mine ? (
            <p className="muted small">Shared with you by {c.owner}.</p>
          ) : (
            <>
              {c.shared_with && c.shared_with.length ? (
                <ul className="share-list">
                  {c.shared_with.map((grantee) => (
                    <li key={grantee}>
                      <span>{grantee}</span>
                      <button type="button" className="button button-small button-quiet" onClick={() => unshare.mutate(grantee)} disabled={unshare.isPending}>
                        Unshare
                      </button>
                    </li>
                  ))}
                </ul>
              ) : (
                <p className="muted small">Only you can use this connection.</p>
              )}
              <form
                className="inline-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (user.trim()) share.mutate(user.trim());
                }}
              >
                <label htmlFor="share-connection" className="visually-hidden">
                  User to share with
                </label>
                <input id="share-connection" className="control" placeholder="User name" value={user} onChange={(e) => setUser(e.target.value)} />
                <button type="submit" className="button" disabled={share.isPending || !user.trim()}>
                  Share
                </button>
              </form>
              {share.isError || unshare.isError ? (
                <p className="field-error" role="alert">
                  {(share.error ?? unshare.error)?.message}
                </p>
              ) : null}
            </>
          )}
        </section>
      </div>
    </>
  );
}
