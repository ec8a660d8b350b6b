import { useMemo, useState } from "react";
import type { PageElement } from "../api/types";
import { compare, display, frameCsv, readFrame } from "./frame";

const PAGE_SIZES = [10, 25, 100];

/** A Table: one page of rows in the DOM at a time, sorted and searched on an index of row numbers. */
export function TableView({ element }: { element: PageElement }) {
  const frame = useMemo(() => readFrame(element.content), [element.content]);
  const [sort, setSort] = useState<{ column: number; descending: boolean } | null>(null);
  const [pageSize, setPageSize] = useState(10);
  const [page, setPage] = useState(0);
  const [search, setSearch] = useState("");
  const searchable = element.params?.searchable !== false;
  const downloadable = !!element.params?.downloadable;

  const order = useMemo(() => {
    if (!frame) return [];
    let rows = Array.from({ length: frame.rows }, (_, i) => i);
    const needle = search.trim().toLowerCase();
    if (needle) {
      rows = rows.filter((r) => frame.names.some((_, c) => display(frame.cell(r, c)).toLowerCase().includes(needle)));
    }
    if (sort) {
      rows.sort((a, b) => {
        const result = compare(frame.cell(a, sort.column), frame.cell(b, sort.column));
        return sort.descending ? -result : result;
      });
    }
    return rows;
  }, [frame, sort, search]);

  if (!frame) return <p className="muted small">This table's data cannot be read.</p>;
  const pages = Math.max(1, Math.ceil(order.length / pageSize));
  const current = Math.min(page, pages - 1);
  const shown = order.slice(current * pageSize, current * pageSize + pageSize);
  const name = (element.title || "table").replace(/[^\w.-]+/g, "_").slice(0, 80) || "table";

  function download() {
    const url = URL.createObjectURL(frameCsv(frame!, order));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${name}.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  return (
    <div className="table-element">
      <div className="table-tools">
        {searchable ? (
          <input
            type="search"
            className="control control-search"
            placeholder="Search rows"
            aria-label={`Search ${element.title || "table"}`}
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setPage(0);
            }}
          />
        ) : (
          <span />
        )}
        {downloadable ? (
          <button type="button" className="button" onClick={download}>
            Download CSV
          </button>
        ) : null}
      </div>
      <div className="table-scroll">
        <table className="data-table">
          <caption className="visually-hidden">{element.title || "Table"}</caption>
          <thead>
            <tr>
              {frame.names.map((column, c) => {
                const active = sort?.column === c;
                return (
                  <th key={c} scope="col" aria-sort={active ? (sort!.descending ? "descending" : "ascending") : "none"} className={frame.kinds[c] === "number" ? "num" : undefined}>
                    <button
                      type="button"
                      className="sort-button"
                      onClick={() => setSort(active && !sort!.descending ? { column: c, descending: true } : active ? null : { column: c, descending: false })}
                    >
                      {column}
                      <span aria-hidden="true" className="sort-mark">
                        {active ? (sort!.descending ? "▼" : "▲") : "↕"}
                      </span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {shown.map((row) => (
              <tr key={row}>
                {frame.names.map((_, c) => (
                  <td key={c} className={frame.kinds[c] === "number" ? "num" : undefined}>
                    {display(frame.cell(row, c))}
                  </td>
                ))}
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={frame.names.length} className="muted">
                  {search ? "No row matches the search." : "The table is empty."}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      <div className="table-footer">
        <span className="muted small" aria-live="polite">
          {order.length === 0 ? "0 rows" : `Rows ${current * pageSize + 1}–${current * pageSize + shown.length} of ${order.length}`}
          {order.length !== frame.rows ? ` (of ${frame.rows})` : ""}
        </span>
        <label className="small muted">
          Rows per page{" "}
          <select
            className="control control-small"
            value={pageSize}
            onChange={(e) => {
              setPageSize(Number(e.target.value));
              setPage(0);
            }}
          >
            {PAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <div className="pager-buttons">
          <button type="button" className="button button-small" disabled={current === 0} onClick={() => setPage(current - 1)} aria-label="Previous rows">
            ‹ Prev
          </button>
          <span className="small">
            {current + 1} / {pages}
          </span>
          <button type="button" className="button button-small" disabled={current >= pages - 1} onClick={() => setPage(current + 1)} aria-label="Next rows">
            Next ›
          </button>
        </div>
      </div>
    </div>
  );
}
