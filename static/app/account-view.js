// The account page: two-factor sign-in (enrol with a QR code, confirm, recovery codes shown
// once, turn off), the email address, your data and, for the instance administrator, open
// registration, the instance's figures and the accounts with their disable switch
// (docs/identity.md). What needs the password needs, for an account made by single sign-on
// (no password), a recent sign-in: the server then answers reauthentication_required and
// the form offers to sign in again with the provider, which comes back here.

import { api, listAll } from "./api.js";
import { clear, h } from "./dom.js";
import { navigate } from "./router.js";
import * as session from "./session.js";
import { toast } from "./toast.js";

function input(label, attrs) {
  const node = h("input", { class: "input", ...attrs });
  return { node, field: h("label", { class: "field" }, h("span", { class: "field-label" }, label), node) };
}

// The password field of a confirmation, or for an account without a password none, and
// on reauthentication_required the links that sign in again.
function confirmation(me, label = "Current password") {
  const password = me.has_password
    ? input(label, { name: "current_password", type: "password", required: true, autocomplete: "current-password" })
    : null;
  const field = password ? password.field : h("div", { class: "reauth", "data-testid": "reauth" },
    h("p", { class: "field-hint" }, "Your account signs in with single sign-on: this needs a sign-in of the last 10 minutes."));
  return {
    field,
    value: () => (password ? password.node.value : undefined),
    clear: () => { if (password) password.node.value = ""; },
    async handle(error) {
      if (error.code !== "reauthentication_required") return;
      const linked = error.body?.error?.details?.providers || [];
      const { items } = await api("GET", "/auth/sso/providers");
      const links = items.filter((item) => linked.length === 0 || linked.includes(item.id)).map((item) =>
        h("a", { class: "btn btn-small", href: `${item.start_url}?reauthenticate=true`, "data-testid": "reauth-link" },
          `Sign in again with ${item.name}`));
      clear(field).append(h("p", { class: "field-hint" }, "Sign in again to confirm it is you; you come back here."), ...links);
    },
  };
}

function twoFactorSection(me) {
  const body = h("div", { class: "account-body" });
  const section = h("section", { class: "account-section", "aria-labelledby": "tf-title", "data-testid": "two-factor" },
    h("h2", { id: "tf-title" }, "Two-factor sign-in"),
    h("p", { class: "muted" }, "Signing in with your password also asks for a code from an authenticator app."),
    body);

  async function showStatus() {
    const state = await api("GET", "/users/me/two-factor");
    clear(body);
    if (state.enabled) {
      const code = input("Code", { name: "code", autocomplete: "one-time-code", required: true, maxlength: 20 });
      const form = h("form", { class: "account-form" },
        h("p", { "data-testid": "two-factor-state" }, h("strong", {}, "On"),
          ` · ${state.recovery_codes_left} recovery codes left`),
        code.field,
        h("button", { type: "submit", class: "btn btn-danger-ghost" }, "Turn off"));
      form.addEventListener("submit", (event) => submit(event, form, async () => {
        await api("POST", "/users/me/two-factor/disable", { body: { code: code.node.value.trim() } });
        toast("Two-factor sign-in is off.");
        await showStatus();
      }));
      body.append(form);
    } else {
      const password = confirmation(me, "Your password");
      const form = h("form", { class: "account-form" },
        h("p", { "data-testid": "two-factor-state" }, h("strong", {}, "Off")),
        password.field,
        h("button", { type: "submit", class: "btn btn-primary" }, "Set up two-factor sign-in"));
      form.addEventListener("submit", (event) => submit(event, form, async () => {
        const enrolment = await api("POST", "/users/me/two-factor", { body: { password: password.value() } });
        showEnrolment(enrolment);
      }, password));
      body.append(form);
    }
  }

  function showEnrolment(enrolment) {
    const code = input("Code from the app", { name: "code", autocomplete: "one-time-code", inputmode: "numeric",
                                             required: true, maxlength: 20, "data-testid": "enrol-code" });
    const form = h("form", { class: "account-form enrolment" },
      h("ol", { class: "enrol-steps" },
        h("li", {}, "Scan this code with your authenticator app:",
          h("img", { class: "qr", src: enrolment.qr_svg_data_uri, alt: "QR code for your authenticator app",
                     width: 200, height: 200, "data-testid": "enrol-qr" })),
        h("li", {}, "Or type this key: ", h("code", { class: "secret", "data-testid": "enrol-secret" }, enrolment.secret)),
        h("li", {}, "Enter the 6-digit code it shows.")),
      code.field,
      h("button", { type: "submit", class: "btn btn-primary" }, "Turn on"));
    form.addEventListener("submit", (event) => submit(event, form, async () => {
      const { recovery_codes: codes } = await api("POST", "/users/me/two-factor/confirm",
                                                  { body: { code: code.node.value.trim() } });
      showRecoveryCodes(codes);
    }));
    clear(body).append(form);
    code.node.focus();
  }

  function showRecoveryCodes(codes) {
    const done = h("button", { type: "button", class: "btn btn-primary" }, "I have saved them");
    done.addEventListener("click", () => showStatus().catch((error) => toast(error.message, "error")));
    clear(body).append(
      h("p", {}, h("strong", {}, "Two-factor sign-in is on. "),
        "Save these recovery codes somewhere safe: each signs you in once if you lose your phone. ",
        "They are not shown again."),
      h("ul", { class: "recovery-codes", "data-testid": "recovery-codes" }, codes.map((code) => h("li", {}, h("code", {}, code)))),
      done);
  }

  return { section, load: showStatus };
}

async function submit(event, form, work, confirming = null) {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const old = form.querySelector(".form-error");
  if (old) old.remove();
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    form.append(h("p", { class: "form-error", role: "alert" }, error.message));
    button.disabled = false;
    if (confirming) await confirming.handle(error).catch(() => {});
  }
}

function adminSection() {
  const figures = h("dl", { class: "figures", "data-testid": "figures" });
  const registration = h("input", { type: "checkbox", "data-testid": "registration-open" });
  const rows = h("tbody");
  const note = h("p", { class: "field-hint", hidden: true }, "TASKWIRE_REGISTRATION_OPEN=false keeps it closed.");
  const section = h("section", { class: "account-section", "aria-labelledby": "admin-title", "data-testid": "admin" },
    h("h2", { id: "admin-title" }, "Instance"),
    figures,
    h("label", { class: "check" }, registration, "Anyone may create an account"),
    note,
    h("table", { class: "accounts" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Email"), h("th", {}, "Status"), h("th", {}, ""))),
      rows));

  function showInstance(state) {
    registration.checked = state.registration_open;
    registration.disabled = state.registration_closed_by_setting;
    note.hidden = !state.registration_closed_by_setting;
    clear(figures).append(...Object.entries(state.figures).flatMap(([name, value]) =>
      [h("dt", {}, name.replace("_", " ")), h("dd", {}, String(value))]));
  }

  function row(account) {
    const disabled = Boolean(account.disabled_at);
    const toggle = h("button", { type: "button", class: `btn btn-small ${disabled ? "" : "btn-danger-ghost"}` },
      disabled ? "Enable" : "Disable");
    toggle.hidden = account.is_admin;
    toggle.addEventListener("click", async () => {
      toggle.disabled = true;
      try {
        const updated = await api("PATCH", `/admin/accounts/${account.id}`, { body: { disabled: !disabled } });
        current.replaceWith(row(updated));
      } catch (error) {
        toast(error.message, "error");
        toggle.disabled = false;
      }
    });
    const current = h("tr", { "data-testid": "account-row" },
      h("td", {}, account.name), h("td", {}, account.email),
      h("td", {}, account.is_admin ? "Administrator" : disabled ? "Disabled" : "Active"), h("td", {}, toggle));
    return current;
  }

  registration.addEventListener("change", async () => {
    try {
      showInstance(await api("PATCH", "/admin/instance", { body: { registration_open: registration.checked } }));
    } catch (error) {
      toast(error.message, "error");
    }
  });

  async function load() {
    showInstance(await api("GET", "/admin/instance"));
    clear(rows).append(...(await listAll("/admin/accounts")).map(row));
  }
  return { section, load };
}

function emailState(email, verified, pending) {
  return h("p", { "data-testid": "email-state" }, h("strong", {}, email),
    verified ? " · confirmed" : " · not confirmed",
    pending ? h("span", { "data-testid": "pending-email" },
      ` · moving to ${pending} once you follow the link we emailed there`) : "");
}

function emailSection(me) {
  const email = input("New email", { name: "email", type: "email", required: true, maxlength: 254, value: me.email });
  const password = confirmation(me);
  let state = emailState(me.email, me.email_verified, me.pending_email);
  const form = h("form", { class: "account-form", "data-testid": "change-email" }, email.field, password.field,
    h("button", { type: "submit", class: "btn" }, "Change email"));
  form.addEventListener("submit", (event) => submit(event, form, async () => {
    const user = await api("PUT", "/users/me/email", { body: { email: email.node.value.trim(),
                                                              current_password: password.value() } });
    password.clear();
    form.querySelector("button").disabled = false;
    const next = emailState(user.email, user.pending_email ? me.email_verified : false, user.pending_email);
    state.replaceWith(next);
    state = next;
    toast(user.pending_email ? `We emailed a link to ${user.pending_email}: your address changes once you follow it.`
                             : `Your email is now ${user.email}.`);
  }, password));
  return h("section", { class: "account-section", "aria-labelledby": "email-title" },
    h("h2", { id: "email-title" }, "Email address"), h("div", { class: "account-body" }, state, form));
}

function dataSection(me) {
  const download = h("button", { type: "button", class: "btn", "data-testid": "export" }, "Download your data");
  download.addEventListener("click", async () => {
    download.disabled = true;
    try {
      const data = await api("GET", "/users/me/export");
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
      const link = h("a", { href: url, download: "taskwire-account.json", hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      toast(error.message, "error");
    } finally {
      download.disabled = false;
    }
  });

  const password = confirmation(me);
  const choices = h("div", { class: "board-choices" });
  const form = h("form", { class: "account-form", "data-testid": "delete-account" },
    h("p", { class: "muted" }, "Your boards go with it, unless others share them; your comments stay, " +
      "by “Deleted user”. This cannot be undone."),
    password.field, choices,
    h("button", { type: "submit", class: "btn btn-danger" }, "Delete my account"));
  form.addEventListener("submit", (event) => submit(event, form, async () => {
    const boards = Object.fromEntries([...choices.querySelectorAll("select")].map((select) => [select.name, select.value]));
    try {
      await api("POST", "/users/me/delete", { body: { current_password: password.value(), boards } });
    } catch (error) {
      if (error.code !== "sole_owner_boards") throw error;
      clear(choices).append(...error.body.error.details.boards.map((board) =>
        h("label", { class: "field" }, h("span", { class: "field-label" }, `“${board.name}” (you alone own it)`),
          h("select", { class: "input", name: board.id },
            board.members.map((member) => h("option", { value: member.user_id }, `Hand over to ${member.name}`)),
            h("option", { value: "delete" }, "Delete it")))));
      throw error;
    }
    session.ended();
    navigate("/signin");
    toast("Your account is deleted.");
  }, password));
  return h("section", { class: "account-section", "aria-labelledby": "data-title" },
    h("h2", { id: "data-title" }, "Your data"),
    h("div", { class: "account-body" }, h("p", {}, download), h("h3", {}, "Delete your account"), form));
}

export function mountAccountView(container) {
  document.title = "Account · Taskwire";
  const page = h("section", { class: "page account-page" },
    h("header", { class: "page-head" }, h("h1", {}, "Account")));
  container.append(page);
  api("GET", "/users/me").then(async (me) => {
    const twoFactor = twoFactorSection(me);
    page.append(twoFactor.section, emailSection(me), dataSection(me));
    await twoFactor.load();
    if (!me.is_admin) return;
    const admin = adminSection();
    page.append(admin.section);
    await admin.load();
  }).catch((error) => toast(error.message, "error"));
  return () => {};
}
