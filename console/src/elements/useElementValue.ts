import { useMutation, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { api, seg } from "../api/client";
import type { ElementOut, PageElement } from "../api/types";
import type { LoadedPage } from "../screens/StepPage";

/** An input's value: shown at once, sent to the API, and the API's refusal kept next to it. */
export function useElementValue<T>(flowId: string, step: string, element: PageElement, initial: T) {
  const [value, setValue] = useState<T>(initial);
  const stored = JSON.stringify(element.value ?? null);
  // What this control itself last stored: the cached page then holds it, and that must not reset
  // what the user is typing meanwhile. Only a value changed elsewhere (a new page) resets the control.
  const ownSave = useRef<string | null>(null);
  useEffect(() => {
    if (stored !== ownSave.current) setValue(initial);
  }, [stored]); // eslint-disable-line react-hooks/exhaustive-deps
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: (next: unknown) =>
      api.put<ElementOut>(`/flows/${seg(flowId)}/steps/${seg(step)}/elements/${seg(element.id)}/value`, { value: next }),
    onSuccess: (saved) => {
      ownSave.current = JSON.stringify(saved.element.value ?? null);
      rememberValue(queries, flowId, step, element.id, saved.element.value);
    },
  });
  return {
    value,
    setValue,
    save: (next: unknown) => save.mutate(next),
    saving: save.isPending,
    saved: save.isSuccess && !save.isPending,
    error: save.isError ? save.error.message : null,
  };
}

/** Keep the cached page in step with a value the API stored, so the element shows it when it is
 * drawn again (values do not move the page's version, so the page is not read again for them). */
export function rememberValue(queries: QueryClient, flowId: string, step: string, elementId: string, value: unknown) {
  const cached = queries.getQueryData<LoadedPage>(["page", flowId, step]);
  if (!cached?.layout) return;
  for (const section of cached.layout.sections ?? [])
    for (const card of section.cards ?? [])
      for (const element of card.content ?? []) if (element.id === elementId) element.value = value;
  for (const element of (cached.meta.future_elements ?? []) as unknown as PageElement[])
    if (element.id === elementId) element.value = value;
}
