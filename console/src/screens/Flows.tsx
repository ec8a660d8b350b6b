import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, seg } from "../api/client";
import type { FlowList } from "../api/types";
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar, StatusBadge } from "../components/ui";
import { age, dateTime } from "../format";
import { href, navigate } from "../router";

const PAGE_SIZE = 20;

export function FlowsScreen() {
  // Cursors of the pages seen so far: [undefined (first page), cursor of page 2, ...].
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const page = cursors.length - 1;
  const flows = useQuery({
    queryKey: ["flows", cursors[page]],
    queryFn: () => api.get<FlowList>("/flows", { limit: PAGE_SIZE, with_status: true, cursor: cursors[page] }),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });

  return (
    <>
      <PageHeader title="Flows" subtitle="Your flows, newest first. Open one to see its steps and pages." />
      <AppsPanel />
      <section className="panel" aria-labelledby="flows-heading">
        <h2 id="flows-heading" className="visually-hidden">
          Flows
        </h2>
        {flows.isPending ? (
          <Loading what="flows" />
        ) : flows.isError ? (
          <ErrorBox error={flows.error} what="flows" retry={() => flows.refetch()} />
        ) : flows.data.flows.length === 0 && page === 0 ? (
          <Empty title="No flows yet">
            A flow appears here once a step runs: <code>StoreInterface("my-flow", step_name="load")</code> in Python,
            or <code>make demo</code> for an example.
          </Empty>
        ) : (
          <>
            <div className="table-scroll">
              <table className="data-table flows-table">
                <thead>
                  <tr>
                    <th scope="col">Flow</th>
                    <th scope="col">Status</th>
                    <th scope="col">Current step</th>
                    <th scope="col" className="col-progress">
                      Progress
                    </th>
                    <th scope="col">Started</th>
                  </tr>
                </thead>
                <tbody>
                  {flows.data.flows.map((flow) => (
                    <tr key={flow.flow_id}>
                      <td>
                        <a href={href("flows", flow.flow_id)} className="strong-link">
                          {flow.flow_id}
                        </a>
                        <div className="muted small">{flow.step_count} {flow.step_count === 1 ? "step" : "steps"}</div>
                      </td>
                      <td>
                        <StatusBadge status={flow.status} />
                      </td>
                      <td>
                        {flow.current_step ? (
                          <a href={href("flows", flow.flow_id, "steps", flow.current_step)}>{flow.current_step}</a>
                        ) : (
                          <span className="muted">none</span>
                        )}
                        {flow.message ? <div className="muted small clip">{flow.message}</div> : null}
                      </td>
                      <td className="col-progress">
                        <div className="progress-cell">
                          <ProgressBar value={flow.progress ?? 0} label={`${flow.flow_id} progress`} />
                          <span className="small">{Math.round(flow.progress ?? 0)}%</span>
                        </div>
                      </td>
                      <td title={dateTime(flow.created_at)}>{age(flow.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav className="pager" aria-label="Flow pages">
              <button type="button" className="button" disabled={page === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
                ← Newer
              </button>
              <span className="muted small">Page {page + 1}</span>
              <button
                type="button"
                className="button"
                disabled={!flows.data.next_cursor}
                onClick={() => setCursors([...cursors, flows.data.next_cursor ?? undefined])}
              >
                Older →
              </button>
            </nav>
          </>
        )}
      </section>
    </>
  );
}

interface AppSummary {
  name: string;
  description?: string | null;
  steps?: unknown[];
}

interface AppRun {
  flow_id: string;
}

/** Registered apps with a Run button, where the API has apps; nothing at all where it has none. */
function AppsPanel() {
  const apps = useQuery({
    queryKey: ["apps"],
    queryFn: () => api.get<{ apps: AppSummary[] }>("/apps"),
    retry: false,
    staleTime: 60_000,
    enabled: __API_HAS_APPS__,
  });
  const run = useMutation({
    mutationFn: (name: string) => api.post<AppRun>(`/apps/${seg(name)}/runs`, {}),
    onSuccess: (started) => navigate(href("flows", started.flow_id)),
  });
  if (!apps.isSuccess || !Array.isArray(apps.data?.apps)) return null;
  return (
    <section className="panel" aria-labelledby="apps-heading">
      <h2 id="apps-heading">Apps</h2>
      {apps.data.apps.length === 0 ? (
        <p className="muted">No apps registered. Register one with <code>stepstore apps register</code>.</p>
      ) : (
        <ul className="app-list">
          {apps.data.apps.map((app) => (
            <li key={app.name} className="app-item">
              <div>
                <strong>{app.name}</strong>
                {app.description ? <div className="muted small">{app.description}</div> : null}
              </div>
              <button type="button" className="button button-primary" disabled={run.isPending} onClick={() => run.mutate(app.name)}>
                Run
              </button>
            </li>
          ))}
        </ul>
      )}
      {run.isError ? (
        <p className="field-error" role="alert">
          {run.error.message}
        </p>
      ) : null}
    </section>
  );
}
