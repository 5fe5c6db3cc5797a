// The page's error boundary: an uncaught error, a rejected promise or a script that failed to
// load becomes a visible message, so the page never goes blank. Loaded before main.js, imports nothing.

export function showFatal(message) {
  const box = document.getElementById("fatal");
  if (!box) return;
  box.querySelector(".fatal-text").textContent = `Something went wrong: ${message}`;
  box.hidden = false;
}

function reasonOf(value) {
  return value && value.message ? value.message : String(value);
}

function onError(event) {
  const target = event.target;
  if (target && target !== window && target.tagName) showFatal(`could not load ${target.src || target.href || target.tagName.toLowerCase()}`);
  else showFatal(event.message || reasonOf(event.error));
}

window.addEventListener("error", onError, true);
window.addEventListener("unhandledrejection", (event) => showFatal(reasonOf(event.reason)));
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("fatal-dismiss").addEventListener("click", () => {
    document.getElementById("fatal").hidden = true;
  });
});
