import { useQueryClient } from "@tanstack/react-query";
import { useId, useRef, useState, type DragEvent } from "react";
import type { PageElement } from "../api/types";
import { bytes, dateTime } from "../format";
import { uploadFile, type UploadProgress } from "../upload";
import { Field } from "./ElementView";
import { rememberValue } from "./useElementValue";

interface Uploaded {
  file_name?: string;
  format?: string;
  size?: number;
  uploaded_at?: string;
}

export function DataSourceInput({ element, flowId, step }: { element: PageElement; flowId: string; step: string }) {
  const queries = useQueryClient();
  const p = element.params ?? {};
  const formats = ((p.options as string[] | undefined) ?? ["csv"]).map((f) => f.toLowerCase());
  const anyFile = formats.includes("*");
  const accept = anyFile ? undefined : formats.map((f) => `.${f}`).join(",");
  const [uploaded, setUploaded] = useState<Uploaded | null>((element.value as Uploaded | null) ?? null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const id = useId();
  const current = (element.value as Uploaded | null) ?? uploaded;
  const shown = uploaded ?? current;

  async function send(file: File) {
    setError(null);
    const extension = file.name.includes(".") ? file.name.split(".").pop()!.toLowerCase() : "";
    if (!anyFile && !formats.includes(extension)) {
      setError(`“${file.name}” is not one of the accepted formats: ${formats.join(", ")}.`);
      return;
    }
    try {
      const result = await uploadFile(flowId, step, element.id, file, setProgress);
      setUploaded((result.element.value as Uploaded) ?? { file_name: file.name, size: file.size });
      rememberValue(queries, flowId, step, element.id, result.element.value);
      queries.invalidateQueries({ queryKey: ["pageVersion", flowId, step] });
    } catch (problem) {
      setError(problem instanceof Error ? problem.message : String(problem));
    } finally {
      setProgress(null);
    }
  }

  function dropped(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files?.[0];
    if (file) void send(file);
  }

  const busy = progress !== null;
  const percent = progress && progress.total > 0 ? Math.round((progress.loaded / progress.total) * 100) : busy ? 100 : 0;
  return (
    <Field element={element} htmlFor={id} error={error} required={p.required !== false}>
      <div
        className={`dropzone${dragging ? " dropzone-active" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={dropped}
      >
        <input
          ref={picker}
          id={id}
          type="file"
          className="visually-hidden"
          accept={accept}
          disabled={busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            if (file) void send(file);
          }}
        />
        <p>
          <button type="button" className="button" onClick={() => picker.current?.click()} disabled={busy}>
            Choose a file
          </button>{" "}
          <span className="muted">or drop it here</span>
        </p>
        <p className="hint">Accepted: {anyFile ? "any file" : formats.join(", ")}</p>
        {busy ? (
          <div className="upload-progress" aria-live="polite">
            <div className="progress" role="progressbar" aria-label="Upload progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
              <div className="progress-fill" style={{ width: `${percent}%` }} />
            </div>
            <span className="small">
              {progress!.phase === "checking" ? "Preparing" : progress!.phase === "uploading" ? "Uploading" : "Finishing"} · {percent}% of{" "}
              {bytes(progress!.total)}
            </span>
          </div>
        ) : null}
        {shown && shown.file_name ? (
          <p className="uploaded" aria-live="polite">
            <span className="file-icon" aria-hidden="true">
              ▤
            </span>{" "}
            <span className="file-name">{shown.file_name}</span> <span className="muted small">· {bytes(shown.size)}</span>
            {shown.uploaded_at ? <span className="muted small"> · uploaded {dateTime(shown.uploaded_at)}</span> : null}
          </p>
        ) : null}
      </div>
    </Field>
  );
}
