import type { PageElement } from "../api/types";

const TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml", // an <img> never runs an SVG's scripts
};

export function ImageView({ element }: { element: PageElement }) {
  const extension = String(element.params?.extension ?? "png").toLowerCase();
  const size = String(element.params?.size ?? "medium");
  const type = TYPES[extension];
  const data = typeof element.content === "string" ? element.content : "";
  if (!type || !/^[A-Za-z0-9+/=\s]*$/.test(data)) return <p className="muted small">This image's format ({extension}) cannot be shown.</p>;
  return (
    <img
      className={`image image-${["small", "medium", "large"].includes(size) ? size : "medium"}`}
      src={`data:${type};base64,${data.replace(/\s/g, "")}`}
      alt={element.title || element.description || "Image"}
      loading="lazy"
    />
  );
}
