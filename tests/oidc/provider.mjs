// A real OpenID provider (the `oidc-provider` package) for otsd's sign-in tests,
// on plain HTTP on loopback. Started by the Rust kit (tests/common/oidc.rs) as
// `node provider.mjs <config.json>`; see README.md for the config and what it
// serves. It prints `READY <issuer>` on stdout once it listens, logs one line per
// request to stderr (method, path without the query, status: no code, token or
// password ever), and exits on SIGTERM, SIGINT, or when its stdin closes (the
// kit holds the other end, so the provider never outlives the test process).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { port, issuer } = config;
const tamper = config.tamper ?? 'none';
const TAMPERS = ['none', 'nonce', 'issuer', 'audience', 'expired', 'signature'];
if (!TAMPERS.includes(tamper)) {
  throw new Error(`unknown tamper ${JSON.stringify(tamper)}: one of ${TAMPERS.join(', ')}`);
}

const users = config.users.map((u) => ({ ...u }));
const bySub = new Map(users.map((u) => [u.sub, u]));
const byEmail = new Map(users.map((u) => [u.email.toLowerCase(), u]));

// A fresh signing key per run: nothing to commit, nothing a test could come to
// rely on between runs. Its `kid` is fixed so tampered tokens can name it too.
const KID = 'otsd-test-rs256';
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: { keys: [signingJwk] },
  cookies: {
    keys: [crypto.randomBytes(32).toString('hex')],
    // Browsers do not separate cookies by port: on 127.0.0.1 the provider's
    // cookies reach otsd too, so their names must not be ones otsd could use.
    names: { session: 'op_session', interaction: 'op_interaction', resume: 'op_resume' },
  },
  // Scopes are derived from these keys (`groups` becomes a scope too).
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // The scopes' claims go into the ID token itself, not only into userinfo: a
  // relying party that reads only the ID token still sees them.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: {
    // The login page below replaces the development one.
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const user = bySub.get(sub);
    if (!user) return undefined;
    return {
      accountId: user.sub,
      async claims() {
        return {
          sub: user.sub,
          email: user.email,
          email_verified: user.email_verified,
          name: user.name,
          preferred_username: user.email,
          groups: user.groups,
        };
      },
    };
  },
  // Automatic consent: whatever a signed-in user's client asks for is granted,
  // so no consent page ever shows.
  async loadExistingGrant(ctx) {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return undefined;
    return grantEverythingRequested(ctx, accountId);
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Error</h1><p id="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
  },
});

async function grantEverythingRequested(ctx, accountId) {
  const clientId = ctx.oidc.client.clientId;
  const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(clientId);
  let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) grant = new ctx.oidc.provider.Grant({ clientId, accountId });
  grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
  const claims = ctx.oidc.requestParamClaims;
  if (claims?.size) grant.addOIDCClaims([...claims]);
  await grant.save();
  return grant;
}

// A negative test's relying party gets an ID token that is wrong in one way,
// re-signed with the provider's own key (or, for `signature`, with another key
// under the same kid), so only the relying party's checks can catch it.
const strangerKey = tamper === 'signature'
  ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
  : undefined;
function tampered(idToken) {
  const [, body] = idToken.split('.');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  const now = Math.floor(Date.now() / 1000);
  let key = privateKey;
  switch (tamper) {
    case 'nonce': claims.nonce = 'not-the-nonce-that-was-sent'; break;
    case 'issuer': claims.iss = `${issuer}/someone-else`; break;
    case 'audience': claims.aud = 'another-client'; break;
    case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
    case 'signature': key = strangerKey; break;
    default: return idToken;
  }
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), key).toString('base64url');
  return `${header}.${payload}.${signature}`;
}
provider.use(async (ctx, next) => {
  await next();
  if (tamper !== 'none' && ctx.method === 'POST' && ctx.path === '/token' && ctx.body?.id_token) {
    ctx.body = { ...ctx.body, id_token: tampered(ctx.body.id_token) };
  }
});

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`;
}

function loginPage(uid, { email = '', error } = {}) {
  return page('Sign in', `<h1>Sign in to the test provider</h1>
${error ? `<p id="error" role="alert">${escape(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
<label>Email <input id="username" name="username" type="text" value="${escape(email)}" autofocus></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="sign-in" type="submit">Sign in</button>
</form>`);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

// GET /interaction/<uid>: the login form (or, should consent ever be prompted,
// the consent given at once). POST /interaction/<uid>/login: the form's answer.
async function interaction(req, res, path) {
  const [, , uid, action] = path.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p id="error">interaction mismatch</p>'));
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'login') return send(res, 200, loginPage(uid));
    const { Grant } = provider;
    const grant = details.grantId
      ? await Grant.find(details.grantId)
      : new Grant({ clientId: details.params.client_id, accountId: details.session.accountId });
    grant.addOIDCScope(details.params.scope);
    if (details.prompt.details.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const email = form.get('username') ?? '';
    const user = byEmail.get(email.toLowerCase());
    const given = Buffer.from(form.get('password') ?? '');
    const ok = user && given.length === Buffer.byteLength(user.password)
      && crypto.timingSafeEqual(given, Buffer.from(user.password));
    if (!ok) return send(res, 401, loginPage(uid, { email, error: 'Wrong email or password.' }));
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }
  return send(res, 405, page('Error', '<p id="error">method not allowed</p>'));
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const path = new URL(req.url, issuer).pathname;
  res.on('finish', () => process.stderr.write(`${req.method} ${path} ${res.statusCode}\n`));
  if (path.startsWith('/interaction/')) {
    interaction(req, res, path).catch((err) => {
      process.stderr.write(`interaction failed: ${err}\n`);
      if (!res.headersSent) send(res, 400, page('Error', `<p id="error">${escape(err.message)}</p>`));
      else res.end();
    });
    return;
  }
  callback(req, res);
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});
