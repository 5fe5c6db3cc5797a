// A run paused for approval (docs/web.md, "Human in the loop"): the recommendations it offers, each
// with the saving the tools computed, a checkbox to drop it, and two buttons: "Approve all" and
// "Drop selected". Deciding starts a new run of the thread (`decide` over the socket).

import { request } from "./api.js";
import { el } from "./dom.js";

// The payload of a paused thread, from its state (null when it waits for nothing).
export async function pausedPayload(threadId) {
  const state = await request(`/threads/${threadId}/state`);
  const pending = (state.interrupts || []).find((item) => item.value && item.value.kind === "approve_recommendations");
  return pending ? pending.value : null;
}

// A saving as the tools computed it, or what the telemetry lacked.
function saving(rec) {
  if (typeof rec.monthly_saving_usd !== "number") return "saving not in the telemetry";
  return `$${rec.monthly_saving_usd.toFixed(2)} per month`;
}

function row(rec) {
  const box = el("input", { type: "checkbox", value: rec.policy_id, "aria-label": `Drop ${rec.policy_id}` });
  return el("li", { class: "approval-item", "data-policy": rec.policy_id },
    el("label", {}, box, el("span", { class: "approval-title" }, rec.title)),
    el("p", { class: "muted" }, el("code", {}, rec.policy_id), ` · ${saving(rec)} · quality risk ${rec.quality_risk || "unknown"}`));
}

function intro(payload) {
  return [el("h3", {}, "Approve the recommendations"),
    el("p", {}, "Netra paused before planning the actions. Tick the recommendations to drop, or approve them all."),
    el("ul", { class: "approval-list" }, payload.recommendations.map(row))];
}

// The card and its two buttons; `decide` is called once, with true or {"drop": [ids]}.
class ApprovalCard {
  constructor(payload, decide) {
    this.decide = decide;
    this.approve = el("button", { type: "button", class: "primary", onclick: () => this.once(true) }, "Approve all");
    this.drop = el("button", { type: "button", disabled: true, onclick: () => this.once({ drop: this.ticked() }) },
      "Drop selected");
    this.node = el("section", { class: "msg approval", "aria-label": "Approve the recommendations",
      onchange: () => this.changed() }, intro(payload), el("div", { class: "composer-buttons" }, this.approve, this.drop));
  }

  ticked() {
    return [...this.node.querySelectorAll("input:checked")].map((box) => box.value);
  }

  changed() {
    this.drop.disabled = this.ticked().length === 0;
  }

  once(decision) {
    this.approve.disabled = true;
    this.drop.disabled = true;
    this.decide(decision);
  }
}

export function approvalCard(payload, decide) {
  return new ApprovalCard(payload, decide).node;
}

// What the thread shows for a decision (the server stores the same text as the user's message).
export function decisionText(decision) {
  return decision === true ? "Approve all recommendations" : `Drop: ${decision.drop.join(", ")}`;
}
