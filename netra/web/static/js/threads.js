// The thread sidebar: my threads newest first (GET /api/threads), create, rename inline, delete.

import { request } from "./api.js";
import { $, clear, el, show } from "./dom.js";

export const NEW_TITLE = "New thread";
const PAGE = 100;

export class ThreadList {
  constructor(app) {
    this.app = app;
    this.items = [];
    this.current = null;
    $("new-thread").addEventListener("click", () => this.create());
  }

  async load() {
    const page = await request(`/api/threads?limit=${PAGE}`);
    this.items = page.items;
    this.render();
  }

  reset() {
    this.items = [];
    this.current = null;
    this.render();
  }

  find(id) {
    return this.items.find((thread) => thread.id === id) || null;
  }

  render() {
    clear($("thread-list")).append(...this.items.map((thread) => this.row(thread)));
    show($("no-threads"), this.items.length === 0);
  }

  row(thread) {
    const current = thread.id === this.current;
    const title = thread.title || "Untitled";
    return el("li", { class: current ? "thread current" : "thread", "data-thread-id": thread.id },
      el("button", { type: "button", class: "thread-open", "aria-current": current ? "true" : false,
        onclick: () => this.open(thread.id) }, title),
      el("span", { class: "thread-actions" }, ...this.actions(thread, title)));
  }

  actions(thread, title) {
    return [
      el("button", { type: "button", class: "small", "aria-label": `Rename “${title}”`,
        onclick: () => this.editTitle(thread) }, "Rename"),
      el("button", { type: "button", class: "small", "aria-label": `Delete “${title}”`,
        onclick: () => this.remove(thread) }, "Delete"),
    ];
  }

  open(id) {
    this.current = id;
    this.render();
    return this.app.openThread(this.find(id));
  }

  // A run started: list its thread and mark it current without reloading the conversation;
  // a thread still called "New thread" takes the question as its title.
  async started(id, question) {
    this.current = id;
    await this.load();
    const thread = this.find(id);
    if (thread && thread.title === NEW_TITLE) await this.rename(thread, question.slice(0, 80));
    this.app.adopt(thread);
  }

  async create() {
    const thread = await request("/api/threads", { method: "POST", body: { title: NEW_TITLE } });
    this.items.unshift(thread);
    this.open(thread.id);
    $("composer-input").focus();
  }

  async rename(thread, title) {
    const changed = await request(`/api/threads/${thread.id}`, { method: "PATCH", body: { title } });
    Object.assign(thread, changed);
    this.render();
    if (thread.id === this.current) this.app.titled(thread);
  }

  editTitle(thread) {
    const input = el("input", { type: "text", value: thread.title, maxlength: 300, "aria-label": "Thread title" });
    const form = renameForm(input, () => this.cancelRename(thread));
    form.addEventListener("submit", (event) => this.saveTitle(event, thread, input.value.trim()));
    input.addEventListener("keydown", (event) => event.key === "Escape" && this.cancelRename(thread));
    this.rowOf(thread.id).replaceChildren(form);
    input.select();
  }

  async saveTitle(event, thread, title) {
    event.preventDefault();
    if (title) await this.rename(thread, title);
    this.cancelRename(thread);
  }

  // Back to the list, the focus on the thread that was being renamed.
  cancelRename(thread) {
    this.render();
    this.rowOf(thread.id).querySelector(".thread-open").focus();
  }

  rowOf(id) {
    return $("thread-list").querySelector(`[data-thread-id="${CSS.escape(id)}"]`);
  }

  async remove(thread) {
    if (!window.confirm(`Delete “${thread.title || "Untitled"}” with its runs and reports?`)) return;
    await request(`/api/threads/${thread.id}`, { method: "DELETE" });
    this.items = this.items.filter((item) => item.id !== thread.id);
    if (thread.id === this.current) this.open(null);
    else this.render();
    $("new-thread").focus();
  }
}

function renameForm(input, cancel) {
  return el("form", { class: "rename" }, input, el("button", { type: "submit", class: "small" }, "Save"),
    el("button", { type: "button", class: "small", onclick: cancel }, "Cancel"));
}
