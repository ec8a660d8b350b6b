import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, seg } from "../api/client";
import type { ElementOut, PageElement } from "../api/types";

/** An input's value: shown at once, sent to the API, and the API's refusal kept next to it. */
export function useElementValue<T>(flowId: string, step: string, element: PageElement, initial: T) {
  const [value, setValue] = useState<T>(initial);
  const stored = JSON.stringify(element.value ?? null);
  useEffect(() => setValue(initial), [stored]); // eslint-disable-line react-hooks/exhaustive-deps
  const save = useMutation({
    mutationFn: (next: unknown) =>
      api.put<ElementOut>(`/flows/${seg(flowId)}/steps/${seg(step)}/elements/${seg(element.id)}/value`, { value: next }),
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
