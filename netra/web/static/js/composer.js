// The question box: Enter sends, Shift+Enter is a new line; Send and Stop buttons; example prompts.

import { $, el } from "./dom.js";

export const EXAMPLES = [
  "How can we cut our LLM spend by 30% without hurting quality?",
  "What was the p95 latency of gpt-4o last week?",
  "Which features and models drive our cost?",
];

export class Composer {
  constructor(app) {
    this.app = app;
    $("composer").addEventListener("submit", (event) => this.submit(event));
    $("composer-input").addEventListener("keydown", (event) => this.key(event));
    $("stop").addEventListener("click", () => this.app.live.stop());
  }

  key(event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    $("composer").requestSubmit();
  }

  submit(event) {
    event.preventDefault();
    const question = $("composer-input").value.trim();
    if (!question || this.app.live.busy()) return;
    $("composer-input").value = "";
    this.app.ask(question);
  }

  // Whether the next question asks for approval before the actions are planned.
  approval() {
    return $("approval").checked;
  }

  // While a run is live: Send is off and Stop is shown (enabled once the run has an id).
  busy(live, stoppable = false) {
    $("send").disabled = live;
    $("stop").hidden = !live;
    $("stop").disabled = !stoppable;
    $("stop").textContent = "Stop";
  }

  stopping() {
    $("stop").disabled = true;
    $("stop").textContent = "Stopping…";
  }

  examples() {
    const buttons = EXAMPLES.map((question) => el("li", {},
      el("button", { type: "button", class: "example", onclick: () => this.app.ask(question) }, question)));
    return el("section", { class: "examples", "aria-labelledby": "examples-heading" },
      el("h3", { id: "examples-heading" }, "Try one of these"), el("ul", {}, buttons));
  }
}
