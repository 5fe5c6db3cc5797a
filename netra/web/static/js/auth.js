// Sign-in: the development login form (auth_mode "dev"), a link to the OAuth login when OAuth is
// configured (GET /api/config tells which), sign-out (POST /auth/logout, then the token is forgotten).
// An OAuth sign-in ends on this page with a one-time code in an HttpOnly cookie, never a token in the
// address: the page trades it for a token with POST /auth/exchange (204 when there is none).

import { request, token } from "./api.js";
import { $, show } from "./dom.js";

export class Auth {
  constructor(app) {
    this.app = app;
  }

  async start() {
    this.config = await request("/api/config");
    show($("dev-login"), this.config.auth_mode === "dev");
    show($("oauth"), this.config.oauth_enabled);
    this.bind();
    if (token.get()) return this.restore();
    return this.config.oauth_enabled ? this.finishOAuth() : this.showSignIn("");
  }

  // Back from the identity provider: the callback left a one-time code the server trades for a token.
  async finishOAuth() {
    try {
      const answer = await request("/auth/exchange", { method: "POST" });
      return answer ? this.accept(answer) : this.showSignIn("");
    } catch (error) {
      this.showSignIn(`Sign-in failed: ${error.message}`);
    }
  }

  bind() {
    $("dev-login").addEventListener("submit", (event) => this.devLogin(event));
    $("sign-out").addEventListener("click", () => this.signOut());
  }

  // A token kept from before a reload: still good if /auth/me answers.
  async restore() {
    try {
      this.app.signedIn(await request("/auth/me"));
    } catch (error) {
      token.clear();
      this.showSignIn(error.status === 401 ? "Your session ended: sign in again." : error.message);
    }
  }

  devLogin(event) {
    event.preventDefault();
    const body = { email: $("email").value.trim() };
    request("/auth/dev-login", { method: "POST", body }).then((answer) => this.accept(answer), (error) => {
      $("signin-error").textContent = `Sign-in failed: ${error.message}`;
    });
  }

  accept(answer) {
    token.set(answer.access_token);
    this.app.signedIn(answer.user);
  }

  async signOut() {
    await request("/auth/logout", { method: "POST" }).catch(() => null);
    this.expired("You are signed out.");
  }

  expired(message) {
    token.clear();
    this.app.signedOut();
    this.showSignIn(message);
  }

  showSignIn(message) {
    show($("signin-view"), true);
    $("signin-error").textContent = message;
    if (!$("dev-login").hidden) $("email").focus();
  }
}
