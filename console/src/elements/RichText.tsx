import DOMPurify from "dompurify";
import { Marked } from "marked";
import { useMemo } from "react";
import type { PageElement } from "../api/types";

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  // Links open outside the console and tell the target nothing about it.
  if (node.tagName === "A" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  // Images only from the markdown itself (data: URLs): anything else would be a request to a host
  // the page's author chose (a tracking pixel) and is refused by the CSP anyway; its alt text stays.
  if (node.tagName === "IMG" && !/^data:image\/(png|jpe?g|gif|webp);/i.test(node.getAttribute("src") ?? "")) {
    node.removeAttribute("src");
    node.removeAttribute("srcset");
    node.setAttribute("data-blocked", "true");
  }
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Raw HTML inside the markdown is shown as the text it is, never parsed (not even by the sanitizer,
// whose parsing Chrome would report as CSP violations for handlers it then removes).
const markdown = new Marked({ gfm: true, breaks: false, async: false });
markdown.use({ renderer: { html: (token) => escapeHtml(token.text) } });

/** Markdown to HTML (raw HTML escaped), then through DOMPurify: stored text never reaches the page
 * unsanitized. */
export function renderMarkdown(text: string): string {
  const html = markdown.parse(text) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
    FORBID_ATTR: ["style"],
  });
}

export function RichTextView({ element }: { element: PageElement }) {
  const html = useMemo(() => renderMarkdown(typeof element.content === "string" ? element.content : ""), [element.content]);
  const border = !!element.params?.border;
  // Sanitized above; this is the one place the console sets HTML.
  return <div className={`markdown${border ? " markdown-border" : ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}
