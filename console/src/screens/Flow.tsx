import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, seg } from "../api/client";
import type { FlowOut, StepOut } from "../api/types";
import { Empty, ErrorBox, Loading, PageHeader, ProgressBar, StatusBadge } from "../components/ui";
import { age, dateTime, duration } from "../format";
import { href, navigate } from "../router";
import { StepPage } from "./StepPage";

const LIVE_MS = 2_000;

function settled(flow: FlowOut | undefined): boolean {
  return !!flow && flow.steps.length > 0 && flow.steps.every((s) => s.status === "completed" || s.status === "failed");
}

export function FlowScreen({ flowId, step }: { flowId: string; step: string | null }) {
  const flow = useQuery({
    queryKey: ["flow", flowId],
    queryFn: () => api.get<FlowOut>(`/flows/${seg(flowId)}`),
    refetchInterval: (query) => (settled(query.state.data) ? 10_000 : LIVE_MS),
  });
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1_000);
    return () => window.clearInterval(timer);
  }, []);

  if (flow.isPending) return <Loading what="the flow" />;
  if (flow.isError)
    return (
      <>
        <PageHeader title={flowId} subtitle={<a href="#/flows">← All flows</a>} />
        <ErrorBox error={flow.error} what={`Flow “${flowId}”`} retry={() => flow.refetch()} />
      </>
    );
  const data = flow.data;
  const selected = step ?? data.current_step ?? data.steps[data.steps.length - 1]?.name ?? null;
  const failed = data.steps.some((s) => s.status === "failed");
  const status = failed ? "failed" : settled(data) ? "completed" : data.steps.some((s) => s.status !== "pending") ? "running" : "pending";

  return (
    <>
      <PageHeader
        title={
          <>
            {data.flow_id} <StatusBadge status={status} />
          </>
        }
        subtitle={
          <>
            <a href="#/flows">← All flows</a> · started {age(data.created_at, now)} · {data.steps.length}{" "}
            {data.steps.length === 1 ? "step" : "steps"}
          </>
        }
      />
      {data.steps.length === 0 ? (
        <Empty title="This flow has no steps yet" />
      ) : (
        <div className="flow-layout">
          <nav className="panel steps" aria-label="Steps">
            <h2 className="panel-title">Steps</h2>
            <ol className="step-list">
              {data.steps.map((s) => (
                <StepItem key={s.name} flowId={data.flow_id} step={s} selected={s.name === selected} current={s.name === data.current_step} now={now} />
              ))}
            </ol>
          </nav>
          <section className="step-detail" aria-label="Step page">
            {selected ? (
              <StepPage
                flowId={data.flow_id}
                step={selected}
                stepState={data.steps.find((s) => s.name === selected)}
                onMovedOn={(next) => navigate(href("flows", data.flow_id, "steps", next))}
                nextStep={nextStepAfter(data, selected)}
              />
            ) : null}
          </section>
        </div>
      )}
    </>
  );
}

function nextStepAfter(flow: FlowOut, name: string): string | null {
  const here = flow.steps.find((s) => s.name === name);
  if (!here) return null;
  const later = flow.steps.filter((s) => s.position > here.position).sort((a, b) => a.position - b.position);
  return later[0]?.name ?? null;
}

function stepDuration(step: StepOut, now: number): string {
  const start = Date.parse(step.created_at);
  if (step.status === "pending") return "";
  const end = step.status === "running" ? now : Date.parse(step.updated_at);
  return duration(end - start);
}

function StepItem({ flowId, step, selected, current, now }: { flowId: string; step: StepOut; selected: boolean; current: boolean; now: number }) {
  return (
    <li className={`step-item${selected ? " step-selected" : ""}`}>
      <a href={href("flows", flowId, "steps", step.name)} aria-current={selected ? "page" : undefined} className="step-link">
        <span className="step-head">
          <span className="step-number" aria-hidden="true">
            {step.position + 1}
          </span>
          <span className="step-name">{step.name}</span>
          <StatusBadge status={step.status} />
        </span>
        <span className="step-progress">
          <ProgressBar value={step.progress} label={`${step.name} progress`} />
          <span className="small">{Math.round(step.progress)}%</span>
        </span>
        {step.message ? (
          <span className={step.status === "failed" ? "step-error" : "muted small step-message"} role={step.status === "failed" ? "alert" : undefined}>
            {step.status === "failed" ? "Error: " : ""}
            {step.message}
          </span>
        ) : null}
        <span className="muted small" title={`updated ${dateTime(step.updated_at)}`}>
          {current ? "current · " : ""}
          {step.status === "pending" ? "not started" : `${step.status === "running" ? "running for" : "took"} ${stepDuration(step, now)}`}
        </span>
      </a>
    </li>
  );
}
