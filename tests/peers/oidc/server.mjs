// A real OpenID Provider (panva/oidc-provider, OpenID Certified) for authd's
// social-login end-to-end tests. Driven by tests/peers/oidc_provider.py.
//
//   OP_CONFIG='{"issuer": "http://127.0.0.1:PORT", "port": PORT, "clients": [...], "accounts": {...}}' node server.mjs
//
// Prints "READY" on stdout once it listens on 127.0.0.1:PORT; exits 0 on SIGTERM/SIGINT
// (and on stdin EOF if OP_CONFIG has "exit_on_stdin_close": true).
// Test-only: in-memory storage, the built-in development login/consent pages
// (any password is accepted; the login name selects the account).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import process from 'node:process';

import Provider from 'oidc-provider';

function fail(message) {
  console.error(`server.mjs: ${message}`);
  process.exit(2);
}

let config;
try {
  config = JSON.parse(process.env.OP_CONFIG ?? '');
} catch (err) {
  fail(`OP_CONFIG must be a JSON object (${err.message})`);
}
const { issuer, port, clients = [], accounts = {} } = config ?? {};
if (typeof issuer !== 'string' || !Number.isInteger(port)) {
  fail('OP_CONFIG needs "issuer" (string) and "port" (integer)');
}

// One signing key per algorithm; clients pick one via id_token_signed_response_alg.
function signingJwk(alg, type, options) {
  const { privateKey } = generateKeyPairSync(type, options);
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}` };
}
const jwks = {
  keys: [
    signingJwk('RS256', 'rsa', { modulusLength: 2048 }),
    signingJwk('ES256', 'ec', { namedCurve: 'P-256' }),
  ],
};

// oidc-provider v9 always uses the accountId as the `sub` claim, while the dev login
// form's "login" value becomes the accountId. So the login name is mapped to the
// account's sub when the login interaction finishes (see below), and findAccount
// looks accounts up by sub. An unknown login is an account whose sub is the login,
// with no other claims.
const bySub = new Map();
const subForLogin = new Map();
for (const [login, claims] of Object.entries(accounts)) {
  const sub = typeof claims.sub === 'string' && claims.sub ? claims.sub : login;
  bySub.set(sub, { ...claims, sub });
  subForLogin.set(login, sub);
}

async function findAccount(_ctx, sub) {
  const claims = bySub.get(sub) ?? { sub };
  return {
    accountId: sub,
    async claims() {
      return Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined && v !== null));
    },
  };
}

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    ...client,
  })),
  jwks,
  findAccount,
  scopes: ['openid', 'email', 'profile'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  features: {
    devInteractions: { enabled: true },
    userinfo: { enabled: true },
  },
  // v9 supports S256 only; require it of every client (confidential ones too).
  pkce: { required: () => true },
  // Distinctive cookie names: the test's cookie jar is shared with the relying
  // party on 127.0.0.1 (cookies ignore the port), so nothing may collide.
  cookies: {
    names: {
      session: '_oidcpeer_session',
      interaction: '_oidcpeer_interaction',
      resume: '_oidcpeer_interaction_resume',
    },
    keys: [randomBytes(32).toString('base64url')],
  },
  // Errors as JSON instead of the HTML page: easier to read in test failure output.
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

// The devInteractions submit handler calls provider.interactionFinished(req, res,
// { login: { accountId: <login name> } }): swap the login name for the account's sub.
const interactionFinished = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  const accountId = result?.login?.accountId;
  if (typeof accountId === 'string' && subForLogin.has(accountId)) {
    result = { ...result, login: { ...result.login, accountId: subForLogin.get(accountId) } };
  }
  return interactionFinished(req, res, result, options);
};

provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write('READY\n');
});
server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

// With "exit_on_stdin_close": true (what oidc_provider.py sets), the provider also
// exits when its stdin pipe closes, i.e. when the test process dies without stopping it.
if (config.exit_on_stdin_close === true) {
  process.stdin.on('close', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.resume();
}
