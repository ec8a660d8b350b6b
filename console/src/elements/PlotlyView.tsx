import { useEffect, useRef, useState } from "react";
import type { PageElement } from "../api/types";

interface Figure {
  data?: unknown[];
  layout?: Record<string, unknown>;
  frames?: unknown[];
}

/** A Plotly figure drawn by plotly.js (its CSP-safe "strict" bundle, loaded on first use). */
export function PlotlyView({ element }: { element: PageElement }) {
  const target = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  const figure = (element.content ?? {}) as Figure;
  const height = (element.params?.height as number | null | undefined) ?? null;

  useEffect(() => {
    let cancelled = false;
    const node = target.current;
    import("plotly.js-strict-dist-min")
      .then((module) => {
        if (cancelled || !node) return;
        const Plotly = (module as { default?: PlotlyApi }).default ?? (module as unknown as PlotlyApi);
        const layout = { ...(figure.layout ?? {}), autosize: true, ...(height ? { height } : {}) };
        delete (layout as Record<string, unknown>).width;
        return Plotly.react(node, figure.data ?? [], layout, { responsive: true, displaylogo: false });
      })
      .catch((problem: unknown) => setError(problem instanceof Error ? problem.message : String(problem)));
    return () => {
      cancelled = true;
      import("plotly.js-strict-dist-min").then((module) => {
        const Plotly = (module as { default?: PlotlyApi }).default ?? (module as unknown as PlotlyApi);
        if (node) Plotly.purge(node);
      });
    };
  }, [element.content, height]); // eslint-disable-line react-hooks/exhaustive-deps

  if (error) return <p className="field-error">The chart could not be drawn: {error}</p>;
  return <div ref={target} className="plotly-chart" role="img" aria-label={element.title || "Chart"} style={height ? { minHeight: height } : undefined} />;
}

interface PlotlyApi {
  react(node: HTMLElement, data: unknown[], layout: unknown, config: unknown): Promise<unknown>;
  purge(node: HTMLElement): void;
}
