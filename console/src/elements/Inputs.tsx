import { useId, type FormEvent } from "react";
import type { PageElement } from "../api/types";
import { Field } from "./ElementView";
import { useElementValue } from "./useElementValue";

interface InputProps {
  element: PageElement;
  flowId: string;
  step: string;
}

function params(element: PageElement): Record<string, unknown> {
  return element.params ?? {};
}

function asList(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === null || value === undefined || value === "" ? [] : [value];
}

export function DropdownInput({ element, flowId, step }: InputProps) {
  const p = params(element);
  const options = (p.options as (string | number)[] | undefined) ?? [];
  const labels = (p.labels as string[] | null | undefined) ?? null;
  const multi = !!p.multiselect;
  const max = (p.max_selections as number | null | undefined) ?? null;
  const state = useElementValue<unknown[]>(flowId, step, element, asList(element.value));
  const id = useId();
  const label = (i: number) => (labels ? labels[i] : String(options[i]));
  const selectedIndex = (option: unknown) => state.value.some((v) => v === option);

  if (!multi) {
    const current = options.findIndex((o) => selectedIndex(o));
    return (
      <Field element={element} htmlFor={id} error={state.error} saved={state.saved} saving={state.saving} required={p.required !== false}>
        <select
          id={id}
          className="control"
          value={current >= 0 ? String(current) : ""}
          aria-invalid={state.error ? true : undefined}
          onChange={(e) => {
            const index = Number(e.target.value);
            const picked = e.target.value === "" ? [] : [options[index]];
            state.setValue(picked);
            state.save(picked.length ? picked[0] : null);
          }}
        >
          <option value="">{element.placeholder || "Choose…"}</option>
          {options.map((_, i) => (
            <option key={i} value={String(i)}>
              {label(i)}
            </option>
          ))}
        </select>
      </Field>
    );
  }
  return (
    <Field element={element} error={state.error} saved={state.saved} saving={state.saving} required={p.required !== false} group>
      <div className="checks" role="group">
        {options.map((option, i) => {
          const checked = selectedIndex(option);
          return (
            <label key={i} className="check">
              <input
                type="checkbox"
                checked={checked}
                onChange={() => {
                  const picked = checked ? state.value.filter((v) => v !== option) : [...state.value, option];
                  // Keep the options' order, whatever order they were ticked in.
                  const ordered = options.filter((o) => picked.includes(o));
                  state.setValue(ordered);
                  state.save(ordered);
                }}
              />
              <span>{label(i)}</span>
            </label>
          );
        })}
      </div>
      {max ? <p className="hint">Pick up to {max}.</p> : null}
    </Field>
  );
}

export function TextInputField({ element, flowId, step }: InputProps) {
  const p = params(element);
  const state = useElementValue<string>(flowId, step, element, typeof element.value === "string" ? element.value : "");
  const id = useId();
  const commit = () => {
    if (state.value !== (element.value ?? "")) state.save(state.value);
  };
  return (
    <Field element={element} htmlFor={id} error={state.error} saved={state.saved} saving={state.saving} required={!!p.required}>
      <input
        id={id}
        className="control"
        type="text"
        value={state.value}
        placeholder={element.placeholder || ""}
        aria-invalid={state.error ? true : undefined}
        onChange={(e) => state.setValue(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
        }}
      />
    </Field>
  );
}

function toNumber(text: string): number | null {
  if (text.trim() === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

export function NumericRangeInput({ element, flowId, step }: InputProps) {
  const p = params(element);
  const low = Number(p.min_range);
  const high = Number(p.max_range);
  const single = !!p.single;
  const stepSize = (p.step_size as number | null | undefined) ?? "any";
  const initial = single ? [String(element.value ?? low)] : asList(element.value).map(String);
  const state = useElementValue<string[]>(flowId, step, element, initial.length === (single ? 1 : 2) ? initial : single ? [String(low)] : [String(low), String(high)]);
  const id = useId();
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const numbers = state.value.map(toNumber);
    if (numbers.some((n) => n === null)) return;
    state.save(single ? numbers[0] : numbers);
  };
  const names = single ? ["Value"] : ["From", "To"];
  return (
    <Field element={element} error={state.error} saved={state.saved} saving={state.saving} required={p.required !== false} group>
      <div className="range-row">
        {names.map((name, i) => (
          <label key={name} className="range-part" htmlFor={`${id}-${i}`}>
            <span className="small muted">{name}</span>
            <input
              id={`${id}-${i}`}
              className="control control-number"
              type="number"
              inputMode="decimal"
              min={low}
              max={high}
              step={stepSize}
              value={state.value[i] ?? ""}
              aria-invalid={state.error ? true : undefined}
              onChange={(e) => {
                const next = [...state.value];
                next[i] = e.target.value;
                state.setValue(next);
              }}
              onBlur={() => submit()}
              onKeyDown={(e) => {
                if (e.key === "Enter") submit();
              }}
            />
          </label>
        ))}
      </div>
      <p className="hint">
        Between {low} and {high}
        {single ? "" : ", from ≤ to"}.
      </p>
    </Field>
  );
}

// Times are shown and sent in UTC: the API reads a time without a zone as UTC.
function toLocalInput(iso: unknown): string {
  if (typeof iso !== "string") return "";
  const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(date.getTime())) return "";
  return date.toISOString().slice(0, 16);
}

function fromLocalInput(text: string): string | null {
  if (!text) return null;
  return `${text.length === 16 ? `${text}:00` : text}+00:00`;
}

export function DateTimeRangeInput({ element, flowId, step }: InputProps) {
  const p = params(element);
  const isRange = p.is_range !== false;
  const values = asList(element.value).map(toLocalInput);
  const fallback = isRange ? [toLocalInput(p.min_range), toLocalInput(p.max_range)] : [toLocalInput(p.min_range)];
  const state = useElementValue<string[]>(flowId, step, element, values.length === fallback.length ? values : fallback);
  const id = useId();
  const submit = () => {
    const moments = state.value.map(fromLocalInput);
    if (moments.some((m) => m === null)) return;
    state.save(isRange ? moments : moments[0]);
  };
  const names = isRange ? ["Start", "End"] : ["Time"];
  return (
    <Field element={element} error={state.error} saved={state.saved} saving={state.saving} required={p.required !== false} group>
      <div className="range-row">
        {names.map((name, i) => (
          <label key={name} className="range-part" htmlFor={`${id}-${i}`}>
            <span className="small muted">{name} (UTC)</span>
            <input
              id={`${id}-${i}`}
              className="control"
              type="datetime-local"
              min={toLocalInput(p.min_range)}
              max={toLocalInput(p.max_range)}
              value={state.value[i] ?? ""}
              aria-invalid={state.error ? true : undefined}
              onChange={(e) => {
                const next = [...state.value];
                next[i] = e.target.value;
                state.setValue(next);
              }}
              onBlur={submit}
              onKeyDown={(e) => {
                if (e.key === "Enter") submit();
              }}
            />
          </label>
        ))}
      </div>
      <p className="hint">
        From {toLocalInput(p.min_range).replace("T", " ")} to {toLocalInput(p.max_range).replace("T", " ")} UTC.
      </p>
    </Field>
  );
}
