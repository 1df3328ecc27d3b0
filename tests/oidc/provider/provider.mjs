// A real OpenID Provider for the tests: panva/oidc-provider (OpenID Certified), started on
// loopback by tests/oidc/provider.py with a JSON configuration file:
//   {issuer, port, clients: [...], keys: [private JWKs], accounts: {login: {email, email_verified, name}}}
// Signing in uses the package's development interactions (a login form that takes any
// password for a known login, then a consent form), which the tests fill in over HTTP or in Chromium.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const accounts = config.accounts;

const provider = new Provider(config.issuer, {
  clients: config.clients,
  jwks: { keys: config.keys },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: account.email_verified, name: account.name };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ["taskwire-test-provider-cookies"] },
  ttl: { IdToken: config.id_token_ttl ?? 3600 },
});
provider.on("server_error", (ctx, error) => console.error("server_error", error));
const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`ready ${config.issuer}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
