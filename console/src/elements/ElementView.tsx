import type { ReactNode } from "react";
import type { PageElement } from "../api/types";
import { DataSourceInput } from "./DataSource";
import { DateTimeRangeInput, DropdownInput, NumericRangeInput, TextInputField } from "./Inputs";
import { ImageView } from "./ImageView";
import { PlotlyView } from "./PlotlyView";
import { RichTextView } from "./RichText";
import { TableView } from "./TableView";

export function ElementView({ element, flowId, step }: { element: PageElement; flowId: string; step: string }) {
  const props = { element, flowId, step };
  let body: ReactNode;
  switch (element.type) {
    case "rich_text":
      body = <RichTextView element={element} />;
      break;
    case "table":
      body = <TableView element={element} />;
      break;
    case "image":
      body = <ImageView element={element} />;
      break;
    case "plotly_plot":
      body = <PlotlyView element={element} />;
      break;
    case "dropdown":
      body = <DropdownInput {...props} />;
      break;
    case "text_input":
      body = <TextInputField {...props} />;
      break;
    case "numeric_range":
      body = <NumericRangeInput {...props} />;
      break;
    case "date_time_range":
      body = <DateTimeRangeInput {...props} />;
      break;
    case "data_source":
      body = <DataSourceInput {...props} />;
      break;
    default:
      body = <p className="muted small">This console does not show elements of type “{element.type}”.</p>;
  }
  const input = !!element.input;
  return (
    <div className={`element element-${element.type}`} data-element-id={element.id} data-reference-id={element.reference_id ?? undefined}>
      {!input && element.show_title !== false && element.title ? <h5 className="element-title">{element.title}</h5> : null}
      {!input && element.show_description !== false && element.description ? <p className="muted small">{element.description}</p> : null}
      {body}
    </div>
  );
}

/** Title, description and the API's answer around an input control. */
export function Field({
  element,
  htmlFor,
  error,
  saved,
  saving,
  children,
  required,
  group,
}: {
  element: PageElement;
  htmlFor?: string;
  error: string | null;
  saved?: boolean;
  saving?: boolean;
  children: ReactNode;
  required?: boolean;
  group?: boolean;
}) {
  const title = element.title || element.label || element.reference_id || "Input";
  const errorId = `${element.id}-error`;
  const descriptionId = `${element.id}-description`;
  const label = (
    <>
      {title}
      {required ? <span className="required" aria-label="required"> *</span> : null}
    </>
  );
  const content = (
    <>
      {element.show_description !== false && element.description ? (
        <p id={descriptionId} className="muted small field-description">
          {element.description}
        </p>
      ) : null}
      {children}
      <div className="field-status" aria-live="polite">
        {error ? (
          <p id={errorId} className="field-error" role="alert">
            {error}
          </p>
        ) : saving ? (
          <p className="hint">Saving…</p>
        ) : saved ? (
          <p className="hint saved">Saved</p>
        ) : null}
      </div>
    </>
  );
  if (group)
    return (
      <fieldset className="field" aria-describedby={error ? errorId : undefined}>
        <legend className="field-label">{label}</legend>
        {content}
      </fieldset>
    );
  return (
    <div className="field">
      <label className="field-label" htmlFor={htmlFor}>
        {label}
      </label>
      {content}
    </div>
  );
}
