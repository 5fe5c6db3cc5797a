// The chat page: wires sign-in, the thread sidebar, the conversation, the agent panel and the live
// socket together. Everything the modules share goes through `app`.

import { showFatal } from "./boundary.js";
import { token } from "./api.js";
import { AgentPanel } from "./agents.js";
import { Auth } from "./auth.js";
import { Composer } from "./composer.js";
import { Conversation } from "./conversation.js";
import { $, show } from "./dom.js";
import { LiveRun } from "./live.js";
import { LiveSocket } from "./socket.js";
import { ThreadList } from "./threads.js";

const CONNECTION_TEXT = { connected: "", reconnecting: "Connection lost: reconnecting…", idle: "" };
const OPEN_KEY = "netra.thread";
const NARROW = window.matchMedia("(max-width: 760px)");

const app = {
  // The app view shows once the first thread (or a new conversation) is open, so nothing typed is lost.
  async signedIn(user) {
    app.socket.open(token.get());
    await app.threads.load();
    await app.openFirst();
    layout(true, user.email);
  },

  // After a reload: the thread of the run that was live, else the thread that was open, else a new conversation.
  async openFirst() {
    const live = app.live.stored();
    const first = [live && live.thread_id, sessionStorage.getItem(OPEN_KEY)].find((id) => id && app.threads.find(id));
    await (first ? app.threads.open(first) : app.openThread(null));
  },

  signedOut() {
    sessionStorage.removeItem(OPEN_KEY);
    app.socket.close();
    app.live.detach();
    app.threads.reset();
    app.conversation.clear();
    layout(false, "");
  },

  unauthorized() {
    app.auth.expired("Your session ended: sign in again.");
  },

  async openThread(thread) {
    app.live.leave();
    app.current = thread;
    rememberOpen(thread);
    closeSidebarOnPhones();
    await app.conversation.load(thread);
    if (!app.live.run) app.live.detach();
  },

  reopenThread() {
    return app.openThread(app.current);
  },

  // The thread a run just started on becomes the open one (the conversation already shows it).
  adopt(thread) {
    if (!thread) return;
    app.current = thread;
    rememberOpen(thread);
    $("thread-title").textContent = thread.title || "Untitled";
  },

  titled(thread) {
    if (app.current && app.current.id === thread.id) $("thread-title").textContent = thread.title;
  },

  // Ask on the open thread (a new thread when none is open).
  ask(question) {
    app.conversation.startLive(question);
    app.live.ask(question, app.current ? app.current.id : null);
  },

  connection(state) {
    $("connection").dataset.state = state;
    $("connection").textContent = CONNECTION_TEXT[state] || "";
  },
};

// The open thread, so that a reload comes back to it.
function rememberOpen(thread) {
  if (thread) sessionStorage.setItem(OPEN_KEY, thread.id);
  else sessionStorage.removeItem(OPEN_KEY);
}

function layout(signedIn, email) {
  if (signedIn) show($("signin-view"), false);
  show($("app-view"), signedIn);
  show($("sign-out"), signedIn);
  $("who").textContent = email;
  if (signedIn) $("composer-input").focus();
}

function reportError(error) {
  showFatal(error.message || String(error));
}

function closeSidebarOnPhones() {
  if (!NARROW.matches) return;
  $("sidebar").classList.remove("open");
  $("toggle-threads").setAttribute("aria-expanded", "false");
}

function toggleSidebar() {
  const open = $("sidebar").classList.toggle("open");
  $("toggle-threads").setAttribute("aria-expanded", String(open));
}

async function boot() {
  Object.assign(app, { agents: new AgentPanel(), composer: new Composer(app), conversation: new Conversation(app),
    live: new LiveRun(app), socket: new LiveSocket(app), threads: new ThreadList(app), auth: new Auth(app) });
  bindPage();
  show($("loading"), false);
  await app.auth.start();
}

function bindPage() {
  $("toggle-threads").addEventListener("click", toggleSidebar);
  show($("toggle-threads"), true);
  window.addEventListener("netra:unauthorized", () => token.get() && app.unauthorized());
}

boot().catch(reportError);
