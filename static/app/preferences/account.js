// The pages the links of account emails open: asking for a password reset, choosing a
// new password with the link's token, confirming an email address.

import { api } from "../api.js";
import { h } from "../dom.js";
import { navigate } from "../router.js";
import { toast } from "../toast.js";

function card(title, lead, ...children) {
  return h("section", { class: "auth-card", "aria-labelledby": "account-title" },
    h("h1", { id: "account-title" }, title), h("p", { class: "auth-lead" }, lead), ...children);
}

function submitting(form, submit, error, action) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await action();
    } catch (problem) {
      error.textContent = problem.message;
      error.hidden = false;
      submit.disabled = false;
    }
  });
}

export function mountForgotPassword(container) {
  document.title = "Reset your password · Taskwire";
  const email = h("input", { class: "input", type: "email", name: "email", id: "forgot-email", required: true,
                             autocomplete: "email", maxlength: 254 });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Email me a link");
  const form = h("form", { class: "auth-form" },
    h("label", { class: "field", for: "forgot-email" }, h("span", { class: "field-label" }, "Email"), email), error, submit);
  const page = card("Reset your password", "We will email you a link to choose a new one.", form,
    h("p", { class: "auth-switch" }, h("a", { href: "/signin", "data-link": true }, "Back to sign in")));
  submitting(form, submit, error, async () => {
    await api("POST", "/auth/password-reset", { body: { email: email.value.trim() } });
    form.replaceWith(h("p", { role: "status", "data-testid": "reset-sent" },
      `If an account uses ${email.value.trim()}, a link to reset its password is on its way. It works once, for an hour.`));
  });
  container.append(page);
  email.focus();
  return () => {};
}

export function mountResetPassword(container, token) {
  document.title = "Choose a new password · Taskwire";
  const password = h("input", { class: "input", type: "password", name: "password", id: "reset-password", required: true,
                                minlength: 10, autocomplete: "new-password" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Set new password");
  const form = h("form", { class: "auth-form" },
    h("label", { class: "field", for: "reset-password" }, h("span", { class: "field-label" }, "New password"), password),
    h("p", { class: "field-hint" }, "At least 10 characters. Every other session of your account will be signed out."),
    error, submit);
  submitting(form, submit, error, async () => {
    await api("POST", "/auth/password-reset/confirm", { body: { token, password: password.value } });
    toast("Your password is changed. Sign in with it.");
    navigate("/signin", { replace: true });
  });
  container.append(card("Choose a new password", "Pick a new password for your Taskwire account.", form));
  password.focus();
  return () => {};
}

// A link works once, and the view may mount twice for one visit (signed in, the restored
// session renders it again): one request per token.
const confirming = new Map();

export function mountVerifyEmail(container, token) {
  document.title = "Confirm your email · Taskwire";
  const status = h("p", { role: "status", "data-testid": "verify-status" }, "Confirming…");
  container.append(card("Confirm your email", "Thanks for checking your inbox.", status,
    h("p", { class: "auth-switch" }, h("a", { href: "/", "data-link": true }, "Go to Taskwire"))));
  if (!confirming.has(token)) confirming.set(token, api("POST", "/auth/verify-email", { body: { token } }));
  confirming.get(token)
    .then(({ email }) => { status.textContent = `${email} is confirmed. You can sign in.`; })
    .catch((problem) => { status.textContent = problem.message; });
  return () => {};
}
