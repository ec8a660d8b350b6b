import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, seg } from "../api/client";
import type { AssetList, AssetOut, AssetType, ShareList, WhoAmI } from "../api/types";
import { Empty, ErrorBox, Loading, PageHeader } from "../components/ui";
import { age, bytes, dateTime } from "../format";
import { href } from "../router";

const TYPES: AssetType[] = ["model", "dataset", "schema", "explainer", "nlprocessor", "knowledge_graph", "datastore", "other"];

function useMe() {
  return useQuery({ queryKey: ["me"], queryFn: () => api.get<WhoAmI>("/me"), staleTime: 300_000 });
}

export function AssetsScreen() {
  const [type, setType] = useState<string>("");
  const [label, setLabel] = useState("");
  const [labelFilter, setLabelFilter] = useState("");
  const [whose, setWhose] = useState<"all" | "mine" | "shared">("all");
  const me = useMe();
  const assets = useQuery({
    queryKey: ["assets", type, labelFilter],
    queryFn: () => api.get<AssetList>("/assets", { type: type || undefined, label: labelFilter || undefined, limit: 500 }),
    placeholderData: keepPreviousData,
  });
  const rows = (assets.data?.assets ?? []).filter((a) =>
    whose === "all" || !me.data ? true : whose === "mine" ? a.owner === me.data.user : a.owner !== me.data.user,
  );

  return (
    <>
      <PageHeader title="Assets" subtitle="Models, datasets, schemas and other assets you own or that were shared with you." />
      <form
        className="panel filters"
        aria-label="Filter assets"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setLabelFilter(label.trim());
        }}
      >
        <label className="filter">
          <span className="small muted">Type</span>
          <select className="control" value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">All types</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span className="small muted">Label</span>
          <input className="control" type="search" value={label} placeholder="Exact label" onChange={(e) => setLabel(e.target.value)} onBlur={() => setLabelFilter(label.trim())} />
        </label>
        <fieldset className="filter segmented">
          <legend className="small muted">Owner</legend>
          {(["all", "mine", "shared"] as const).map((w) => (
            <label key={w} className={`segment${whose === w ? " segment-on" : ""}`}>
              <input type="radio" name="whose" value={w} checked={whose === w} onChange={() => setWhose(w)} />
              {w === "all" ? "All" : w === "mine" ? "Mine" : "Shared with me"}
            </label>
          ))}
        </fieldset>
        <button type="submit" className="visually-hidden">
          Apply
        </button>
      </form>
      <section className="panel">
        {assets.isPending ? (
          <Loading what="assets" />
        ) : assets.isError ? (
          <ErrorBox error={assets.error} what="assets" retry={() => assets.refetch()} />
        ) : rows.length === 0 ? (
          <Empty title={type || labelFilter || whose !== "all" ? "No asset matches these filters" : "No assets yet"}>
            {type || labelFilter || whose !== "all" ? "Clear a filter to see more." : <>Save one from a flow with <code>store.save_asset(...)</code>, or <code>stepstore assets put FILE --label L</code>.</>}
          </Empty>
        ) : (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Label</th>
                  <th scope="col">Type</th>
                  <th scope="col">Name</th>
                  <th scope="col">Owner</th>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Saved</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.asset_id}>
                    <td>
                      <a href={href("assets", a.asset_id)} className="strong-link">
                        {a.label}
                      </a>
                    </td>
                    <td>
                      <span className="chip">{a.type}</span>
                    </td>
                    <td>{a.name ?? <span className="muted">—</span>}</td>
                    <td>{me.data && a.owner === me.data.user ? "you" : a.owner}</td>
                    <td className="num">{a.version}</td>
                    <td className="num">{bytes(a.size)}</td>
                    <td title={dateTime(a.created_at)}>{age(a.created_at)}</td>
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

export function AssetScreen({ assetId }: { assetId: string }) {
  const me = useMe();
  const asset = useQuery({ queryKey: ["asset", assetId], queryFn: () => api.get<AssetOut>(`/assets/${seg(assetId)}`), staleTime: 0 });
  const versions = useQuery({
    queryKey: ["assetVersions", assetId],
    queryFn: () => api.get<AssetList>(`/assets/${seg(assetId)}/versions`),
    enabled: asset.isSuccess,
  });
  const owner = !!asset.data && !!me.data && asset.data.owner === me.data.user;

  if (asset.isPending) return <Loading what="the asset" />;
  if (asset.isError)
    return (
      <>
        <PageHeader title="Asset" subtitle={<a href="#/assets">← All assets</a>} />
        <ErrorBox error={asset.error} what="Asset" retry={() => asset.refetch()} />
      </>
    );
  const a = asset.data;
  return (
    <>
      <PageHeader
        title={
          <>
            {a.label} <span className="chip">{a.type}</span>
          </>
        }
        subtitle={
          <>
            <a href="#/assets">← All assets</a> · version {a.version} · owned by {owner ? "you" : a.owner}
          </>
        }
        actions={
          a.url ? (
            <a className="button button-primary" href={a.url} download={`${a.label}-v${a.version}`} target="_blank" rel="noopener noreferrer">
              Download
            </a>
          ) : null
        }
      />
      <div className="grid-2">
        <section className="panel">
          <h2 className="panel-title">Details</h2>
          <dl className="details">
            <dt>Name</dt>
            <dd>{a.name ?? "—"}</dd>
            <dt>Description</dt>
            <dd>{a.description || "—"}</dd>
            <dt>Format</dt>
            <dd>
              {a.format} ({a.kind})
            </dd>
            <dt>Size</dt>
            <dd>{bytes(a.size)}</dd>
            <dt>Saved</dt>
            <dd>{dateTime(a.created_at)}</dd>
            <dt>Id</dt>
            <dd>
              <code>{a.asset_id}</code>
            </dd>
          </dl>
          <h3 className="subhead">Metadata</h3>
          <KeyValues value={a.metadata} empty="No metadata." />
          {Object.keys(a.attributes ?? {}).length ? (
            <>
              <h3 className="subhead">Attributes</h3>
              <KeyValues value={a.attributes} empty="" />
            </>
          ) : null}
        </section>
        <section className="panel">
          <h2 className="panel-title">Links (lineage)</h2>
          <Links links={a.links as Record<string, unknown>} />
          {owner ? <Shares assetId={a.asset_id} /> : <p className="muted small">Shared with you by {a.owner} (read-only).</p>}
        </section>
      </div>
      <section className="panel">
        <h2 className="panel-title">Versions</h2>
        {versions.isPending ? (
          <Loading what="versions" />
        ) : versions.isError ? (
          <ErrorBox error={versions.error} what="versions" retry={() => versions.refetch()} />
        ) : (
          <div className="table-scroll">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Version
                  </th>
                  <th scope="col">Name</th>
                  <th scope="col">Format</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Saved</th>
                  <th scope="col">
                    <span className="visually-hidden">Download</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {versions.data.assets.map((v) => (
                  <tr key={v.version}>
                    <td className="num">{v.version}</td>
                    <td>{v.name ?? "—"}</td>
                    <td>{v.format}</td>
                    <td className="num">{bytes(v.size)}</td>
                    <td>{dateTime(v.created_at)}</td>
                    <td>
                      <VersionDownload assetId={a.asset_id} version={v.version} label={a.label} />
                    </td>
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

function VersionDownload({ assetId, version, label }: { assetId: string; version: number; label: string }) {
  // Presigned URLs expire, so one is asked for when the user wants the file.
  const fetchUrl = useMutation({
    mutationFn: () => api.get<AssetOut>(`/assets/${seg(assetId)}/versions/${version}`),
    onSuccess: (found) => {
      if (!found.url) return;
      const link = document.createElement("a");
      link.href = found.url;
      link.download = `${label}-v${version}`;
      link.target = "_blank"; // another origin: the browser downloads it in a tab of its own
      link.rel = "noopener noreferrer";
      document.body.appendChild(link);
      link.click();
      link.remove();
    },
  });
  return (
    <button type="button" className="button button-small" onClick={() => fetchUrl.mutate()} disabled={fetchUrl.isPending}>
      {fetchUrl.isError ? "Retry" : "Download"}
    </button>
  );
}

function KeyValues({ value, empty }: { value: unknown; empty: string }) {
  const entries = Object.entries((value ?? {}) as Record<string, unknown>);
  if (entries.length === 0) return empty ? <p className="muted small">{empty}</p> : null;
  return (
    <dl className="details">
      {entries.map(([key, v]) => (
        <div key={key} className="detail-row">
          <dt>{key}</dt>
          <dd>{typeof v === "string" ? v : <code>{JSON.stringify(v)}</code>}</dd>
        </div>
      ))}
    </dl>
  );
}

function Links({ links }: { links: Record<string, unknown> }) {
  const entries = Object.entries(links ?? {});
  if (entries.length === 0) return <p className="muted small">This asset links to no other asset.</p>;
  return (
    <ul className="link-list">
      {entries.map(([name, target]) => (
        <li key={name}>
          <span className="muted small">{name}</span> → <LinkedAsset assetId={String(target)} />
        </li>
      ))}
    </ul>
  );
}

function LinkedAsset({ assetId }: { assetId: string }) {
  const linked = useQuery({ queryKey: ["asset", assetId], queryFn: () => api.get<AssetOut>(`/assets/${seg(assetId)}`) });
  if (linked.isPending) return <span className="muted small">{assetId}</span>;
  if (linked.isError) return <span className="muted small">{assetId} (deleted, or not shared with you)</span>;
  return (
    <>
      <a href={href("assets", assetId)}>{linked.data.label}</a> <span className="chip">{linked.data.type}</span>
      <span className="muted small">v{linked.data.version}</span>
    </>
  );
}

function Shares({ assetId }: { assetId: string }) {
  const queries = useQueryClient();
  const shares = useQuery({ queryKey: ["shares", assetId], queryFn: () => api.get<ShareList>(`/assets/${seg(assetId)}/shares`) });
  const [user, setUser] = useState("");
  const share = useMutation({
    mutationFn: (grantee: string) => api.put(`/assets/${seg(assetId)}/shares/${seg(grantee)}`),
    onSuccess: () => {
      setUser("");
      queries.invalidateQueries({ queryKey: ["shares", assetId] });
    },
  });
  const unshare = useMutation({
    mutationFn: (grantee: string) => api.del(`/assets/${seg(assetId)}/shares/${seg(grantee)}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["shares", assetId] }),
  });
  return (
    <>
      <h3 className="subhead">Shared with</h3>
      {shares.isPending ? (
        <Loading what="shares" />
      ) : shares.isError ? (
        <ErrorBox error={shares.error} what="shares" />
      ) : shares.data.shares.length === 0 ? (
        <p className="muted small">Only you can read this asset.</p>
      ) : (
        <ul className="share-list">
          {shares.data.shares.map((s) => (
            <li key={s.grantee}>
              <span>{s.grantee}</span>
              <button type="button" className="button button-small button-quiet" onClick={() => unshare.mutate(s.grantee)} disabled={unshare.isPending}>
                Unshare
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (user.trim()) share.mutate(user.trim());
        }}
      >
        <label htmlFor="share-user" className="visually-hidden">
          User to share with
        </label>
        <input id="share-user" className="control" placeholder="User name" value={user} onChange={(e) => setUser(e.target.value)} />
        <button type="submit" className="button" disabled={share.isPending || !user.trim()}>
          Share
        </button>
      </form>
      {share.isError ? (
        <p className="field-error" role="alert">
          {share.error.message}
        </p>
      ) : null}
      {unshare.isError ? (
        <p className="field-error" role="alert">
          {unshare.error.message}
        </p>
      ) : null}
    </>
  );
}
