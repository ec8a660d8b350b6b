import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { ApiError, api, seg } from "../api/client";
import type { ActionOut, PageElement, PageLayout, PageOut, PageVersionOut, StepOut } from "../api/types";
import { Empty, ErrorBox, Loading } from "../components/ui";
import { ElementView } from "../elements/ElementView";
import { dateTime } from "../format";

const VERSION_POLL_MS = 2_000;

export interface LoadedPage {
  meta: PageOut;
  layout: PageLayout | null;
}

async function loadPage(flowId: string, step: string): Promise<LoadedPage> {
  const meta = await api.get<PageOut>(`/flows/${seg(flowId)}/steps/${seg(step)}/page`);
  if (meta.stored === "none") return { meta, layout: null };
  if (meta.stored === "inline") return { meta, layout: (meta.page ?? null) as PageLayout | null };
  // A large page lives in S3: fetch it through its presigned URL, then lay the user's values on it.
  const response = await fetch(meta.url ?? "", { credentials: "omit", referrerPolicy: "no-referrer" });
  if (!response.ok) throw new Error(`The page could not be downloaded (${response.status}); reload to try again.`);
  const layout = (await response.json()) as PageLayout;
  const values = meta.values as Record<string, unknown>;
  for (const section of layout.sections ?? [])
    for (const card of section.cards ?? [])
      for (const element of card.content ?? []) if (element.id in values) element.value = values[element.id];
  return { meta, layout };
}

export function StepPage({
  flowId,
  step,
  stepState,
  nextStep,
  onMovedOn,
}: {
  flowId: string;
  step: string;
  stepState: StepOut | undefined;
  nextStep: string | null;
  onMovedOn: (next: string) => void;
}) {
  const queries = useQueryClient();
  const pageKey = ["page", flowId, step];
  const page = useQuery({ queryKey: pageKey, queryFn: () => loadPage(flowId, step), staleTime: Infinity });
  // The cheap poll: a new version means the step stored a new page; only then is the page read again.
  const version = useQuery({
    queryKey: ["pageVersion", flowId, step],
    queryFn: () => api.get<PageVersionOut>(`/flows/${seg(flowId)}/steps/${seg(step)}/page/version`),
    refetchInterval: VERSION_POLL_MS,
    enabled: page.isSuccess,
  });
  useEffect(() => {
    if (version.data && page.data && version.data.version !== page.data.meta.version) {
      queries.invalidateQueries({ queryKey: pageKey });
    }
  }, [version.data?.version]); // eslint-disable-line react-hooks/exhaustive-deps

  const [waitingToMoveOn, setWaitingToMoveOn] = useState(false);
  useEffect(() => setWaitingToMoveOn(false), [step]);
  useEffect(() => {
    if (waitingToMoveOn && nextStep) {
      setWaitingToMoveOn(false);
      onMovedOn(nextStep);
    }
  }, [waitingToMoveOn, nextStep, onMovedOn]);

  const hasInputs = useMemo(() => {
    const layout = page.data?.layout;
    return !!layout?.sections?.some((s) => s.cards?.some((c) => c.content?.some((e) => e.input)));
  }, [page.data]);

  if (page.isPending) return <Loading what={`the page of step “${step}”`} />;
  if (page.isError) return <ErrorBox error={page.error} what={`the page of step “${step}”`} retry={() => page.refetch()} />;
  const { meta, layout } = page.data;

  return (
    <article className="step-page" aria-labelledby="page-title">
      <header className="step-page-header">
        <div>
          <p className="eyebrow">Step · {step}</p>
          <h2 id="page-title">{layout?.title || meta.title || step}</h2>
        </div>
        {stepState ? (
          <p className="muted small">
            {stepState.status === "failed" ? <span className="step-error">Failed: {stepState.message}</span> : stepState.message}
            {meta.updated_at ? <> · page updated {dateTime(meta.updated_at)}</> : null}
          </p>
        ) : null}
      </header>
      {!layout ? (
        <Empty title="This step has no page">It shows its progress on the left; a step that stores a page with update_page shows it here.</Empty>
      ) : (
        <>
          {(layout.sections ?? []).map((section) => (
            <section key={section.id} className="page-section" aria-label={section.title || "Section"}>
              {section.show_title !== false && section.title ? <h3 className="section-title">{section.title}</h3> : null}
              {section.subtitle ? <p className="muted">{section.subtitle}</p> : null}
              {section.show_description !== false && section.description ? <p className="muted">{section.description}</p> : null}
              <div className="cards">
                {(section.cards ?? []).map((card) => (
                  <div key={card.id} className="card">
                    {card.show_title !== false && card.title ? <h4 className="card-title">{card.title}</h4> : null}
                    {card.subtitle ? <p className="muted small">{card.subtitle}</p> : null}
                    {card.show_description !== false && card.description ? <p className="muted small">{card.description}</p> : null}
                    <div className="card-body">
                      {(card.content ?? []).map((element) => (
                        <ElementView key={element.id} element={element} flowId={flowId} step={step} />
                      ))}
                    </div>
                  </div>
                ))}
              </div>
            </section>
          ))}
          {meta.future_elements && meta.future_elements.length > 0 ? (
            <section className="page-section" aria-label="More inputs">
              <div className="cards">
                <div className="card">
                  <div className="card-body">
                    {(meta.future_elements as unknown as PageElement[]).map((element) => (
                      <ElementView key={element.id} element={element} flowId={flowId} step={step} />
                    ))}
                  </div>
                </div>
              </div>
            </section>
          ) : null}
          {hasInputs ? (
            <ActionBar flowId={flowId} step={step} nextStep={nextStep} onRan={() => setWaitingToMoveOn(true)} waiting={waitingToMoveOn} />
          ) : null}
        </>
      )}
    </article>
  );
}

function ActionBar({
  flowId,
  step,
  nextStep,
  onRan,
  waiting,
}: {
  flowId: string;
  step: string;
  nextStep: string | null;
  onRan: () => void;
  waiting: boolean;
}) {
  const queries = useQueryClient();
  const action = useMutation({
    mutationFn: () => api.post<ActionOut>(`/flows/${seg(flowId)}/steps/${seg(step)}/action`),
    onSuccess: () => {
      queries.invalidateQueries({ queryKey: ["flow", flowId] });
      onRan();
    },
  });
  const refusal = action.error instanceof ApiError && action.error.status === 422 ? action.error : null;
  const problems = refusal ? splitProblems(refusal.message) : [];
  return (
    <div className="action-bar">
      <div aria-live="polite" className="action-status">
        {action.isSuccess ? (
          <p className="success" role="status">
            Action ran at {dateTime(action.data.ran_at)}.{" "}
            {nextStep ? "Opening the next step…" : waiting ? "Waiting for the next step to start…" : ""}
          </p>
        ) : null}
        {refusal ? (
          <div className="action-refused" role="alert">
            <strong>The action cannot run yet</strong>
            <ul>
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        ) : action.isError ? (
          <p className="field-error" role="alert">
            {action.error.message}
          </p>
        ) : null}
      </div>
      <button type="button" className="button button-primary button-large" onClick={() => action.mutate()} disabled={action.isPending}>
        {action.isPending ? "Running…" : "Run action"}
      </button>
    </div>
  );
}

/** "the action of step 's' cannot run: A; B (the uploaded files are kept)" -> [A, B, (note)] */
export function splitProblems(message: string): string[] {
  const colon = message.indexOf(": ");
  const rest = colon >= 0 ? message.slice(colon + 2) : message;
  const kept = rest.match(/ \(the uploaded files are kept\)$/);
  const body = kept ? rest.slice(0, kept.index) : rest;
  const items = body.split("; ").filter(Boolean);
  return kept ? [...items, "Files you uploaded are kept."] : items;
}
