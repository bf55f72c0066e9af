// The official MCP TypeScript SDK as an OAuth client of Castellan, against
// a small MCP server (also the SDK's) protected by Castellan's tokens.
//
// The SDK does everything a real MCP client does: it finds the server's
// RFC 9728 metadata from the 401 challenge, Castellan's RFC 8414 metadata,
// registers itself (RFC 7591), sends the user to the authorization
// endpoint with PKCE and `resource` (RFC 8707), redeems the code, calls
// the tool, and later refreshes. The "user" here is a scripted browser
// that signs in and allows on Castellan's own pages.
//
// Environment: ISSUER, RESOURCE_PORT, RS_CLIENT_ID, RS_CLIENT_SECRET
// (the resource server's own client, which introspects), USERNAME,
// PASSWORD. Prints one line per step; exits non-zero on any failure.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ISSUER = env('ISSUER');
const PORT = Number(env('RESOURCE_PORT'));
const BASE = `http://127.0.0.1:${PORT}`;
const RESOURCE = `${BASE}/mcp`;
const CALLBACK = `${BASE}/callback`;
const step = (text) => console.log(`step: ${text}`);

// --- The protected MCP server ------------------------------------------------

async function introspect(token) {
  const basic = Buffer.from(`${env('RS_CLIENT_ID')}:${env('RS_CLIENT_SECRET')}`).toString('base64');
  const metadata = await (await fetch(`${ISSUER}/.well-known/oauth-authorization-server`)).json();
  const answer = await fetch(metadata.introspection_endpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  return answer.json();
}

function challenge(res, error) {
  const parts = [`resource_metadata="${BASE}/.well-known/oauth-protected-resource/mcp"`];
  if (error) parts.unshift(`error="${error}"`);
  res.writeHead(401, { 'www-authenticate': `Bearer ${parts.join(', ')}` }).end();
}

let toolCalls = 0;
function mcpServer() {
  const server = new McpServer({ name: 'castellan-test-server', version: '1.0.0' });
  server.tool('whoami', 'Who the token is for', async (extra) => {
    toolCalls += 1;
    return { content: [{ type: 'text', text: `hello ${extra.authInfo?.extra?.sub}` }] };
  });
  return server;
}

const resourceServer = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, BASE);
    if (url.pathname === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        resource: RESOURCE,
        authorization_servers: [ISSUER],
        scopes_supported: ['tools', 'offline_access'],
        bearer_methods_supported: ['header'],
      }));
      return;
    }
    if (url.pathname !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return challenge(res);
    const token = header.slice('Bearer '.length);
    const claims = await introspect(token);
    const audiences = [claims.aud].flat();
    // RFC 8707 / MCP: a token not issued for this resource is refused.
    if (!claims.active || !audiences.includes(RESOURCE)) return challenge(res, 'invalid_token');
    req.auth = { token, clientId: claims.client_id, scopes: (claims.scope ?? '').split(' '), extra: { sub: claims.sub } };
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = mcpServer();
    res.on('close', () => { transport.close(); server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  } catch (error) {
    console.error('resource server:', error);
    if (!res.headersSent) res.writeHead(500).end();
  }
});

// --- The scripted browser ----------------------------------------------------

class Browser {
  constructor() { this.cookies = new Map(); }
  remember(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }
  async request(url, init = {}) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie } });
    this.remember(response);
    return response;
  }
  // Follows redirects until one leaves for `stopAt`, or a page answers.
  async follow(url, init = {}, stopAt = CALLBACK) {
    let response = await this.request(url, init);
    while (response.status >= 300 && response.status < 400) {
      const next = new URL(response.headers.get('location'), url).toString();
      if (next.startsWith(stopAt)) return { redirect: next };
      url = next;
      response = await this.request(url);
    }
    return { url, status: response.status, html: await response.text() };
  }
  static form(html) {
    const action = html.match(/<form method="post" action="([^"]+)"/)?.[1]?.replaceAll('&amp;', '&');
    const fields = {};
    for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      fields[name] = value.replaceAll('&amp;', '&').replaceAll('&quot;', '"');
    }
    return { action, fields };
  }
  async submit(page, extra) {
    const { action, fields } = Browser.form(page.html);
    if (!action) throw new Error(`no form on ${page.url} (status ${page.status}): ${page.html.slice(0, 400)}`);
    return this.follow(new URL(action, page.url).toString(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(ISSUER).origin },
      body: new URLSearchParams({ ...fields, ...extra }),
    });
  }
  // Signs in and allows; returns the code the callback received.
  async authorize(authorizationUrl) {
    let page = await this.follow(authorizationUrl);
    if (page.html?.includes('name="password"')) {
      page = await this.submit(page, { username: env('USERNAME'), password: env('PASSWORD') });
    }
    if (!page.redirect) {
      if (!page.html?.includes('value="Allow"')) throw new Error(`expected the consent page, got ${page.status}: ${page.html?.slice(0, 400)}`);
      page = await this.submit(page, { decision: 'Allow' });
    }
    if (!page.redirect) throw new Error(`no redirect to the callback: ${page.status} ${page.html?.slice(0, 400)}`);
    const callback = new URL(page.redirect);
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`the callback got no code: ${page.redirect}`);
    return code;
  }
}

// --- The MCP client ----------------------------------------------------------

class Provider {
  constructor() { this.saved = {}; }
  get redirectUrl() { return CALLBACK; }
  get clientMetadata() {
    return {
      client_name: 'MCP SDK test client',
      redirect_uris: [CALLBACK],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state() { return randomUUID(); }
  clientInformation() { return this.saved.client; }
  saveClientInformation(info) { this.saved.client = info; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  redirectToAuthorization(url) { this.saved.authorizationUrl = url.toString(); }
  saveCodeVerifier(verifier) { this.saved.verifier = verifier; }
  codeVerifier() { return this.saved.verifier; }
}

async function main() {
  await new Promise((resolve) => resourceServer.listen(PORT, '127.0.0.1', resolve));
  const provider = new Provider();
  const browser = new Browser();

  const connect = async () => {
    const client = new Client({ name: 'castellan-test-client', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(RESOURCE), { authProvider: provider });
    return { client, transport };
  };

  let { client, transport } = await connect();
  try {
    await client.connect(transport);
    throw new Error('the MCP server let an unauthenticated client in');
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  step(`registered as ${provider.saved.client?.client_id}`);
  const authorizationUrl = new URL(provider.saved.authorizationUrl);
  if (authorizationUrl.searchParams.get('resource') !== RESOURCE) throw new Error(`no resource in ${authorizationUrl}`);
  if (authorizationUrl.searchParams.get('code_challenge_method') !== 'S256') throw new Error('no PKCE');
  step('authorization request carries resource and PKCE');

  const code = await browser.authorize(authorizationUrl.toString());
  await transport.finishAuth(code);
  step('code redeemed');

  ({ client, transport } = await connect());
  await client.connect(transport);
  const first = await client.callTool({ name: 'whoami', arguments: {} });
  step(`tool answered: ${first.content[0].text}`);
  await client.close();

  const before = provider.saved.tokens;
  if (!before.refresh_token) throw new Error('no refresh token');
  const result = await auth(provider, { serverUrl: new URL(RESOURCE) });
  if (result !== 'AUTHORIZED' || provider.saved.tokens.access_token === before.access_token) {
    throw new Error(`refresh did not give a new token (${result})`);
  }
  step('refreshed');

  ({ client, transport } = await connect());
  await client.connect(transport);
  const second = await client.callTool({ name: 'whoami', arguments: {} });
  step(`tool answered after refresh: ${second.content[0].text}`);
  await client.close();
  if (toolCalls !== 2) throw new Error(`expected 2 tool calls, saw ${toolCalls}`);
  step('done');
}

main().then(
  () => { resourceServer.close(); process.exit(0); },
  (error) => { console.error('FAILED:', error); resourceServer.close(); process.exit(1); },
);
