// A DataFrame as the SDK's frame_to_json writes it (column-major, dtypes kept), read for display.

export type Cell = string | number | boolean | null;

interface ColumnJson {
  name: unknown;
  dtype: string;
  values: unknown[];
  categories?: unknown[];
  categories_dtype?: { dtype: string };
}

interface IndexJson {
  range?: [number, number, number];
  name?: unknown;
  dtype?: string;
  values?: unknown[];
}

export interface FrameJson {
  columns: ColumnJson[];
  index: IndexJson;
  rows: number;
}

export interface Frame {
  names: string[];
  kinds: ("number" | "text" | "time" | "bool")[];
  rows: number;
  cell(row: number, column: number): Cell;
}

function scalar(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") {
    const v = value as { nan?: boolean; ts?: string };
    if (v.nan) return Number.NaN;
    if (typeof v.ts === "string") return v.ts;
    return JSON.stringify(value);
  }
  if (value === "inf") return Number.POSITIVE_INFINITY;
  if (value === "-inf") return Number.NEGATIVE_INFINITY;
  return value as Cell;
}

function timedelta(ns: number): string {
  const negative = ns < 0;
  let rest = Math.abs(ns) / 1e9;
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");
  return `${negative ? "-" : ""}${days} days ${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
}

function columnReader(column: ColumnJson): { kind: Frame["kinds"][number]; read: (i: number) => Cell } {
  const dtype = column.dtype;
  if (column.categories) {
    const categories = column.categories.map(scalar);
    return { kind: "text", read: (i) => (Number(column.values[i]) < 0 ? null : categories[Number(column.values[i])] ?? null) };
  }
  if (dtype.startsWith("datetime")) return { kind: "time", read: (i) => scalar(column.values[i]) };
  if (dtype.startsWith("timedelta"))
    return { kind: "text", read: (i) => (column.values[i] === null ? null : timedelta(Number(column.values[i]))) };
  if (/^(float|int|uint|Int|UInt|Float)/.test(dtype)) return { kind: "number", read: (i) => scalar(column.values[i]) };
  if (dtype === "bool" || dtype === "boolean") return { kind: "bool", read: (i) => scalar(column.values[i]) };
  return { kind: "text", read: (i) => scalar(column.values[i]) };
}

export function readFrame(data: unknown): Frame | null {
  const frame = data as FrameJson | null;
  if (!frame || !Array.isArray(frame.columns) || !frame.index) return null;
  const readers = frame.columns.map(columnReader);
  const names = frame.columns.map((c) => String(scalar(c.name) ?? ""));
  const kinds = readers.map((r) => r.kind);
  const index = frame.index;
  if (!index.range) {
    // A meaningful index (not 0..n-1) is shown as the first column.
    const reader = columnReader({ name: index.name, dtype: index.dtype ?? "object", values: index.values ?? [] });
    names.unshift(String(scalar(index.name) ?? ""));
    kinds.unshift(reader.kind);
    readers.unshift(reader);
  }
  return {
    names,
    kinds,
    rows: Number(frame.rows) || 0,
    cell: (row, column) => readers[column].read(row),
  };
}

export function display(value: Cell): string {
  if (value === null) return "";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return "NaN";
    if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
    return Number.isInteger(value) ? String(value) : String(Math.round(value * 1e6) / 1e6);
  }
  return String(value);
}

export function compare(a: Cell, b: Cell): number {
  const aMissing = a === null || (typeof a === "number" && Number.isNaN(a));
  const bMissing = b === null || (typeof b === "number" && Number.isNaN(b));
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1; // missing last
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

function csvField(value: Cell): string {
  let text = value === null ? "" : typeof value === "number" && Number.isNaN(value) ? "" : display(value);
  // A spreadsheet would run a cell that starts like a formula; keep it text.
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The frame as CSV, built in slices so a large one never becomes one huge string at once. */
export function frameCsv(frame: Frame, order: number[]): Blob {
  const parts: string[] = [frame.names.map((n) => csvField(n)).join(",") + "\r\n"];
  const columns = frame.names.length;
  for (let start = 0; start < order.length; start += 5000) {
    const lines: string[] = [];
    for (const row of order.slice(start, start + 5000)) {
      const fields: string[] = [];
      for (let c = 0; c < columns; c += 1) fields.push(csvField(frame.cell(row, c)));
      lines.push(fields.join(","));
    }
    parts.push(lines.join("\r\n") + "\r\n");
  }
  return new Blob(parts, { type: "text/csv;charset=utf-8" });
}
