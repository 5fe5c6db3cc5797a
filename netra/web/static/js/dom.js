// Small DOM helpers: elements are built with createElement and textContent, never from HTML strings.

export const $ = (id) => document.getElementById(id);

// el("button", {type: "button", onclick: fn}, "Send") -> <button type="button">Send</button>
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) setAttribute(node, name, value);
  node.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function setAttribute(node, name, value) {
  if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
  else if (value === true) node.setAttribute(name, "");
  else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function show(node, visible) {
  node.hidden = !visible;
}

// Tell assistive technology about agent progress through the polite live region.
export function announce(text) {
  $("agent-status").textContent = text;
}

export function formatMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export function formatNumber(value) {
  if (typeof value !== "number") return String(value);
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : 4;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

export function scrollIntoView(node) {
  node.scrollIntoView({ block: "nearest" });
}
