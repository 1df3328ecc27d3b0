// Sign-in and sign-up forms.

import { rawRequest } from "./api.js";
import { h } from "./dom.js";
import * as session from "./session.js";

function field(label, attrs) {
  const input = h("input", { class: "input", ...attrs });
  return { input, node: h("label", { class: "field" }, h("span", { class: "field-label" }, label), input) };
}

const SIGN_ON_ERRORS = {
  sso_email_not_verified: "Your provider has not verified your email address, so it cannot sign you in here.",
  sso_email_domain_not_allowed: "Accounts of your email domain cannot sign in here.",
  sso_email_missing: "Your provider did not share your email address.",
  sso_account_unverified: "An account here uses your address but never confirmed it: sign in with its password.",
  sso_denied: "Single sign-on was cancelled.",
  sso_invalid_state: "That sign-in expired or was started elsewhere; try again.",
  account_disabled: "An administrator disabled this account.",
  sso_provider_unavailable: "The sign-in provider cannot be reached; try again later.",
};

/** `invitationToken`: signing up to follow that invitation (see invite-view.js). */
export function mountAuthView(container, mode, { invitationToken } = {}) {
  const signingUp = mode === "signup";
  document.title = `${signingUp ? "Create an account" : "Sign in"} · Taskwire`;
  const name = field("Name", { name: "name", autocomplete: "name", required: true, maxlength: 100 });
  const email = field("Email", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: 254 });
  const password = field("Password", {
    name: "password", type: "password", required: true, minlength: signingUp ? 12 : 1,
    autocomplete: signingUp ? "new-password" : "current-password",
  });
  // Shown once the server says the account has two-factor sign-in on.
  const code = field("Authentication code", {
    name: "code", autocomplete: "one-time-code", inputmode: "text", maxlength: 20, "data-testid": "two-factor-code",
  });
  code.node.hidden = true;
  const codeHint = h("p", { class: "field-hint", hidden: true },
    "The 6-digit code from your authenticator app, or one of your recovery codes.");
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, signingUp ? "Create account" : "Sign in");
  const form = h("form", { class: "auth-form", novalidate: false },
    signingUp ? name.node : null, email.node, password.node, code.node, codeHint,
    signingUp ? h("p", { class: "field-hint" }, "At least 12 characters, and not one of the common passwords.") : null,
    error, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      if (signingUp) {
        await session.signUp(name.input.value.trim(), email.input.value.trim(), password.input.value, invitationToken);
      }
      else await session.signIn(email.input.value.trim(), password.input.value, code.input.value.trim());
    } catch (problem) {
      if (problem.code === "two_factor_required") {
        code.node.hidden = false;
        codeHint.hidden = false;
        code.input.required = true;
        code.input.focus();
        submit.disabled = false;
        return;
      }
      error.textContent = problem.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });

  // Single sign-on: one button per provider; a failed attempt comes back with ?sso_error=.
  const providers = h("div", { class: "sso-providers", "data-testid": "sso-providers" });
  rawRequest("GET", "/auth/sso/providers").then(({ status, data }) => {
    if (status !== 200 || !data.items.length) return;
    providers.append(h("p", { class: "sso-or" }, "or"), ...data.items.map((provider) =>
      h("a", { class: "btn btn-block sso-button", href: provider.start_url }, `Sign in with ${provider.name}`)));
  }).catch(() => {});
  const failure = new URLSearchParams(window.location.search).get("sso_error");
  if (failure) {
    error.textContent = SIGN_ON_ERRORS[failure] || "Single sign-on did not work; try again.";
    error.hidden = false;
  }

  const other = signingUp
    ? h("p", { class: "auth-switch" }, "Already have an account? ", h("a", { href: "/signin", "data-link": true }, "Sign in"))
    : h("p", { class: "auth-switch" }, "New to Taskwire? ", h("a", { href: "/signup", "data-link": true }, "Create an account"),
      " · ", h("a", { href: "/forgot-password", "data-link": true }, "Forgot your password?"));

  container.append(h("section", { class: "auth-card", "aria-labelledby": "auth-title" },
    h("h1", { id: "auth-title" }, signingUp ? "Create your account" : "Sign in to Taskwire"),
    h("p", { class: "auth-lead" }, "Plan together. Every change shows up for everyone, live."),
    form, providers, other));
  (signingUp ? name.input : email.input).focus();
  return () => {};
}
