// A report as formatted HTML: the server renders the markdown (GET /api/reports/{id}/html,
// markdown-it-py with raw HTML escaped); the page takes the <main> of that document, marks each
// cited figure with its provenance (the report's structured.citations), inlines the spend chart
// (GET /api/charts/spend.svg, fetched with the token) and offers Markdown and HTML downloads.

import { download, request } from "./api.js";
import { el } from "./dom.js";

const CHART_PATH = "/api/charts/spend.svg?days=14";
const APPENDIX = "Appendix";
const SECTION = "h4"; // a report's "## Section" once moved two levels down
// a number as reports quote them: $1,234.50, 12.5%, 2,041 ms, 14.0 (not inside names like gpt-4.1);
// one capturing group, so text.split(NUMBER) puts the numbers at the odd indexes
const NUMBER = /((?<![\w.$-])\$?\d(?:[\d,]*\d)?(?:\.\d+)?(?:%| ms)?(?![\w-]))/;
const CAPTION = "Spend per day by model (the last 14 days of data), drawn from the cost_analyzer tool.";
const SKIPPED = new Set(["CODE", "PRE", "SCRIPT", "STYLE"]);
let chart = null;

export async function reportCard(reportId, structured, grounded) {
  const body = el("div", { class: "report-body" });
  body.append(...importMain(await request(`/api/reports/${reportId}/html`, { as: "text" })));
  markFigures(body, citationsOf(structured));
  body.insertBefore(await chartFigure(), chartPlace(body));
  return el("article", { class: "msg report", "data-report-id": reportId, "aria-label": "Report" },
    reportBar(reportId, grounded), body);
}

function reportBar(reportId, grounded) {
  const badge = grounded ? ["badge ok", "Every figure grounded in a tool call"] : ["badge warn", "Some numbers are not grounded"];
  return el("div", { class: "report-bar" }, el("span", { class: badge[0] }, badge[1]),
    downloadButton("Download Markdown", `/api/reports/${reportId}/markdown`, `netra-report-${reportId}.md`),
    downloadButton("Download HTML", `/api/reports/${reportId}/html?download=1`, `netra-report-${reportId}.html`));
}

function downloadButton(label, path, filename) {
  return el("button", { type: "button", class: "small", onclick: () => download(path, filename) }, label);
}

// The server's sanitised document: its <main>, headings moved two levels down (the page has its own h1 and h2).
function importMain(html) {
  const main = new DOMParser().parseFromString(mainOf(html), "text/html").querySelector("main");
  const nodes = main ? [...main.childNodes].map((node) => document.importNode(node, true)) : [];
  const holder = el("div", {}, nodes);
  for (const heading of holder.querySelectorAll("h1, h2, h3, h4, h5")) demote(heading);
  for (const table of holder.querySelectorAll("table")) table.replaceWith(el("div", { class: "table-wrap" }, table.cloneNode(true)));
  return [...holder.childNodes];
}

// Only the <main> element: the page's own <style> would only be refused by our CSP (and logged).
function mainOf(html) {
  const start = html.indexOf("<main>");
  return start < 0 ? "" : html.slice(start, html.lastIndexOf("</main>") + "</main>".length);
}

function demote(heading) {
  const level = Math.min(6, Number(heading.tagName[1]) + 2);
  const moved = el(`h${level}`, {}, ...heading.childNodes);
  heading.replaceWith(moved);
}

function citationsOf(structured) {
  const byText = new Map();
  for (const entry of (structured && structured.citations) || []) {
    byText.set(entry.text, [...(byText.get(entry.text) || []), entry]);
  }
  return byText;
}

function provenance(entries) {
  const lines = entries.map((entry) => `${entry.label || entry.figure}: ${entry.tool} (${entry.call_id})`);
  return [...new Set(lines)].slice(0, 4).join("; ");
}

// Wrap each cited figure of the body (before the appendix, outside code) in a focusable span whose
// provenance shows on hover and on keyboard focus.
function markFigures(body, byText) {
  const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
  const nodes = [];
  const appendix = [...body.querySelectorAll(SECTION)].find((h) => h.textContent.startsWith(APPENDIX));
  while (walker.nextNode()) if (markable(walker.currentNode, appendix)) nodes.push(walker.currentNode);
  for (const node of nodes) node.replaceWith(...marked(node.textContent, byText));
}

function markable(node, appendix) {
  if (appendix && appendix.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_FOLLOWING) return false;
  for (let parent = node.parentElement; parent; parent = parent.parentElement) if (SKIPPED.has(parent.tagName)) return false;
  return true;
}

function marked(text, byText) {
  const parts = text.split(NUMBER);
  return parts.map((part, i) => (i % 2 === 1 && byText.has(part) ? figureSpan(part, byText.get(part)) : part));
}

function figureSpan(text, entries) {
  const note = provenance(entries);
  return el("span", { class: "figure", tabindex: 0, title: note, "data-provenance": note,
    "aria-label": `${text} (${note})` }, text);
}

// Right after the first section (the summary), else before the appendix, else at the end.
function chartPlace(body) {
  const sections = [...body.querySelectorAll(SECTION)];
  const appendix = sections.find((h) => h.textContent.startsWith(APPENDIX));
  return sections.length > 1 && sections[1] !== appendix ? sections[1] : appendix || null;
}

async function chartFigure() {
  chart = chart || request(CHART_PATH, { as: "text" });
  const svg = await chart.then(svgOf, chartFailed);
  return el("figure", { class: "chart" }, svg, el("figcaption", {}, CAPTION));
}

function chartFailed(error) {
  chart = null;
  return el("p", { class: "error-text" }, `Chart unavailable: ${error.message}`);
}

function svgOf(text) {
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  return document.importNode(svg, true);
}

// A new run may have new data: the next report fetches the chart again.
export function forgetChart() {
  chart = null;
}
