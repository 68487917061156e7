import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ValidationError, type FieldErrors } from '../lib/errors.js';
import { isUuid } from '../lib/ids.js';
import { SCOPE_DESCRIPTIONS, SCOPES } from '../modules/tokens/scopes.js';
import { APP_CSS } from './assets.js';
import { requireCsrf, requireUser, safeNext, type SignedIn } from './guards.js';
import { describedBy, fieldErrors, formatDateTime, html, layout, notice, type SafeHtml } from './html.js';
import { notificationsRoutes } from './notifications.js';
import { settingsPage } from './settings.js';
import { clearSessionCookie, ensureSession, formField, formList, sendHtml, setSessionCookie } from './web.js';

const hide = { hide: true } as const;

/**
 * The dashboard: sign up, sign in, sign out, password change, and Settings (Integrations:
 * applications and personal access tokens; connected applications). Server-rendered HTML,
 * every form CSRF-protected, no JavaScript required.
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const { accounts, sessions, tokens, oauth } = app.services;

  app.setNotFoundHandler((request, reply) =>
    sendHtml(reply, 404, layout({ title: 'Not found', body: html`<div class="card narrow"><h1>Page not found</h1><p><a href="/dashboard">Back to the dashboard</a></p></div>` })),
  );
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error instanceof AppError ? error.status : typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) request.log.error({ err: error }, 'dashboard request failed');
    const message = status === 404 ? 'This page or item does not exist.' : status < 500 ? 'The request could not be processed.' : 'Something went wrong on our side. Please try again.';
    return sendHtml(reply, status, layout({ title: 'Error', body: html`<div class="card narrow"><h1>${status === 404 ? 'Not found' : 'Error'}</h1><p>${message}</p><p><a href="/dashboard">Back to the dashboard</a></p></div>` }));
  });

  app.get('/assets/app.css', { schema: hide }, async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(APP_CSS),
  );

  app.get('/', { schema: hide }, async (request, reply) =>
    reply.redirect(request.session?.userId ? '/dashboard/settings/integrations' : '/dashboard/sign-in', 302),
  );
  app.get('/settings', { schema: hide }, async (_request, reply) => reply.redirect('/dashboard/settings/integrations', 302));

  // ---- Sign up ----------------------------------------------------------------------------

  function signUpPage(csrfToken: string, values: { name?: string; email?: string; next?: string | undefined }, errors?: FieldErrors, message?: string) {
    return layout({
      title: 'Create your account',
      body: html`<div class="card narrow">
        <h1>Create your account</h1>
        ${notice('error', message)}
        <form method="post" action="/dashboard/sign-up" novalidate>
          <input type="hidden" name="_csrf" value="${csrfToken}">
          ${values.next ? html`<input type="hidden" name="next" value="${values.next}">` : html``}
          <label for="name">Business name</label>
          <input id="name" name="name" type="text" autocomplete="organization" required value="${values.name ?? ''}"${describedBy(errors, 'name')}>
          ${fieldErrors(errors, 'name')}
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="email" required value="${values.email ?? ''}"${describedBy(errors, 'email')}>
          ${fieldErrors(errors, 'email')}
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="new-password" minlength="8" required${describedBy(errors, 'password')}>
          <p class="hint">At least 8 characters.</p>
          ${fieldErrors(errors, 'password')}
          <div class="actions"><button type="submit">Create account</button><a href="/dashboard/sign-in${values.next ? `?next=${encodeURIComponent(values.next)}` : ''}">I already have an account</a></div>
        </form>
      </div>`,
    });
  }

  app.get('/sign-up', { schema: hide }, async (request, reply) => {
    const session = await ensureSession(request, reply);
    return sendHtml(reply, 200, signUpPage(session.csrfToken, { next: safeNext((request.query as Record<string, unknown>).next) }));
  });

  app.post('/sign-up', { schema: hide }, async (request, reply) => {
    if (!(await requireCsrf(request, reply))) return reply;
    const name = formField(request.body, 'name');
    const email = formField(request.body, 'email').trim();
    const password = formField(request.body, 'password');
    const next = safeNext(formField(request.body, 'next'));
    try {
      const { account, user } = await accounts.create({ name, email, password });
      await startSession(request, reply, user.id, account.id);
      return reply.redirect(next ?? '/dashboard/settings/integrations', 303);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return sendHtml(reply, 422, signUpPage(request.session!.csrfToken, { name, email, next }, err.errors, 'Please correct the fields below.'));
    }
  });

  // ---- Sign in / out ----------------------------------------------------------------------

  function signInPage(csrfToken: string, values: { email?: string; next?: string | undefined }, message?: string, info?: string) {
    return layout({
      title: 'Sign in',
      body: html`<div class="card narrow">
        <h1>Sign in</h1>
        ${notice('error', message)}${notice('info', info)}
        <form method="post" action="/dashboard/sign-in">
          <input type="hidden" name="_csrf" value="${csrfToken}">
          ${values.next ? html`<input type="hidden" name="next" value="${values.next}">` : html``}
          <label for="email">Email</label>
          <input id="email" name="email" type="email" autocomplete="username" required value="${values.email ?? ''}">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required>
          <div class="actions"><button type="submit">Sign in</button><a href="/dashboard/sign-up${values.next ? `?next=${encodeURIComponent(values.next)}` : ''}">Create an account</a></div>
        </form>
      </div>`,
    });
  }

  app.get('/sign-in', { schema: hide }, async (request, reply) => {
    const next = safeNext((request.query as Record<string, unknown>).next);
    if (request.session?.userId) return reply.redirect(next ?? '/dashboard/settings/integrations', 302);
    const session = await ensureSession(request, reply);
    const info = next?.startsWith('/oauth/authorize?') ? 'Sign in to continue to the application that sent you here.' : undefined;
    return sendHtml(reply, 200, signInPage(session.csrfToken, { next }, undefined, info));
  });

  app.post('/sign-in', { schema: hide }, async (request, reply) => {
    if (!(await requireCsrf(request, reply))) return reply;
    const email = formField(request.body, 'email').trim();
    const password = formField(request.body, 'password');
    const next = safeNext(formField(request.body, 'next'));
    const csrfToken = request.session!.csrfToken;
    // The same answer whether or not the email has an account; the limit counts every failure.
    if (await sessions.signInBlocked(email, request.ip)) {
      return sendHtml(reply.header('retry-after', '900'), 429, signInPage(csrfToken, { email, next }, 'Too many failed sign-in attempts. Wait 15 minutes and try again.'));
    }
    const user = email && password ? await accounts.authenticate(email, password) : null;
    if (!user) {
      await sessions.recordSignInFailure(email, request.ip);
      return sendHtml(reply, 401, signInPage(csrfToken, { email, next }, 'The email or password is incorrect.'));
    }
    await sessions.clearSignInFailures(email);
    await startSession(request, reply, user.id, user.account_id);
    return reply.redirect(next ?? '/dashboard/settings/integrations', 303);
  });

  app.post('/sign-out', { schema: hide }, async (request, reply) => {
    if (!(await requireCsrf(request, reply))) return reply;
    if (request.session) await sessions.destroy(request.session.id);
    clearSessionCookie(request, reply);
    return reply.redirect('/dashboard/sign-in', 303);
  });

  /** A fresh session id at sign-in (the anonymous one is dropped: no session fixation). */
  async function startSession(request: FastifyRequest, reply: FastifyReply, userId: string, accountId: string) {
    if (request.session) await sessions.destroy(request.session.id);
    const session = await sessions.createForUser(userId, accountId);
    setSessionCookie(request, reply, session);
    request.session = session;
  }

  // ---- Password ---------------------------------------------------------------------------

  function passwordPage(me: SignedIn, errors?: FieldErrors, success?: string) {
    return settingsPage({
      active: 'password',
      title: 'Password',
      user: me.user,
      csrfToken: me.session.csrfToken,
      body: html`<section class="card narrow" aria-labelledby="pw-title">
        <h2 id="pw-title">Change your password</h2>
        ${notice('success', success)}
        <form method="post" action="/dashboard/settings/password">
          <input type="hidden" name="_csrf" value="${me.session.csrfToken}">
          <input type="text" name="username" autocomplete="username" value="${me.user.email}" hidden>
          <label for="current_password">Current password</label>
          <input id="current_password" name="current_password" type="password" autocomplete="current-password" required${describedBy(errors, 'current_password')}>
          ${fieldErrors(errors, 'current_password')}
          <label for="new_password">New password</label>
          <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required${describedBy(errors, 'new_password')}>
          ${fieldErrors(errors, 'new_password')}
          <label for="confirm_password">Confirm the new password</label>
          <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="8" required${describedBy(errors, 'confirm_password')}>
          ${fieldErrors(errors, 'confirm_password')}
          <p class="hint">Changing your password signs you out on every other device.</p>
          <div class="actions"><button type="submit">Change password</button></div>
        </form>
      </section>`,
    });
  }

  app.get('/settings/password', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    return sendHtml(reply, 200, passwordPage(me));
  });

  app.post('/settings/password', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const current = formField(request.body, 'current_password');
    const next = formField(request.body, 'new_password');
    if (next !== formField(request.body, 'confirm_password')) {
      return sendHtml(reply, 422, passwordPage(me, { confirm_password: ['The two new passwords do not match.'] }));
    }
    try {
      await accounts.changePassword(me.user.id, current, next);
    } catch (err) {
      if (err instanceof ValidationError) return sendHtml(reply, 422, passwordPage(me, err.errors));
      throw err;
    }
    await sessions.destroyOthers(me.user.id, me.session.id);
    return sendHtml(reply, 200, passwordPage(me, undefined, 'Your password was changed.'));
  });

  // ---- Integrations: applications and personal access tokens -------------------------------

  async function integrationsPage(me: SignedIn, extra: { success?: string; dialog?: SafeHtml } = {}) {
    const [clients, personal] = await Promise.all([oauth.listClients(me.session.accountId), tokens.listPersonal(me.session.accountId)]);
    const csrf = me.session.csrfToken;
    const appRows = clients.map(
      (c) => html`<tr>
        <td data-label="Name">${c.name}</td>
        <td data-label="Client ID"><code>${c.client_id}</code></td>
        <td data-label="Type">${c.is_public ? 'Public (PKCE, no secret)' : 'Confidential'}</td>
        <td data-label="Redirect URLs">${c.redirect_uris.map((u) => html`<div><code>${u}</code></div>`)}</td>
        <td data-label="Actions"><div class="actions">
          ${c.is_public
            ? html``
            : html`<form method="post" action="/dashboard/settings/integrations/applications/${c.id}/rotate" class="inline">
                <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="secondary" aria-label="Rotate the secret of ${c.name}">Rotate secret</button></form>`}
          <form method="post" action="/dashboard/settings/integrations/applications/${c.id}/delete" class="inline">
            <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Delete ${c.name}">Delete</button></form>
        </div></td>
      </tr>`,
    );
    const tokenRows = personal.map(
      (t) => html`<tr>
        <td data-label="Name">${t.name}</td>
        <td data-label="Scopes">${t.scopes.split(' ').length === SCOPES.length ? 'All scopes' : t.scopes.split(' ').join(', ')}</td>
        <td data-label="Created">${formatDateTime(t.created_at)}</td>
        <td data-label="Last used">${formatDateTime(t.last_used_at)}</td>
        <td data-label="Actions"><form method="post" action="/dashboard/settings/integrations/tokens/${t.id}/revoke" class="inline">
          <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Revoke ${t.name}">Revoke</button></form></td>
      </tr>`,
    );
    return settingsPage({
      active: 'integrations',
      title: 'Integrations',
      user: me.user,
      csrfToken: csrf,
      body: html`${notice('success', extra.success)}${extra.dialog ?? html``}
        <section aria-labelledby="apps-title">
          <div class="section-head"><h2 id="apps-title">Applications</h2><a class="button" href="/dashboard/settings/integrations/applications/new">Create new application</a></div>
          <p class="hint">Applications connect Shortcode accounts through OAuth 2.0 (authorization code with PKCE).
            Authorization: <code>/oauth/authorize</code>, token: <code>/oauth/token</code>.</p>
          ${clients.length === 0
            ? html`<p class="muted">No applications yet.</p>`
            : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Client ID</th><th scope="col">Type</th><th scope="col">Redirect URLs</th><th scope="col">Actions</th></tr></thead><tbody>${appRows}</tbody></table>`}
        </section>
        <section aria-labelledby="pat-title">
          <div class="section-head"><h2 id="pat-title">Personal Access Tokens</h2><a class="button" href="/dashboard/settings/integrations/tokens/new">Create New Token</a></div>
          ${personal.length === 0
            ? html`<p class="muted">No personal access tokens yet.</p>`
            : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead><tbody>${tokenRows}</tbody></table>`}
        </section>`,
    });
  }

  app.get('/settings/integrations', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    const done = (request.query as Record<string, unknown>).done;
    const messages: Record<string, string> = {
      'app-deleted': 'The application was deleted and its access tokens revoked.',
      'token-revoked': 'The token was revoked.',
    };
    return sendHtml(reply, 200, await integrationsPage(me, { success: typeof done === 'string' ? messages[done] : undefined }));
  });

  function newApplicationPage(me: SignedIn, values: { name?: string; redirect_uris?: string; type?: string } = {}, errors?: FieldErrors) {
    const isPublic = values.type === 'public';
    return settingsPage({
      active: 'integrations',
      title: 'Create new application',
      user: me.user,
      csrfToken: me.session.csrfToken,
      body: html`<section class="card" aria-labelledby="new-app-title">
        <h2 id="new-app-title">Create new application</h2>
        ${errors ? notice('error', 'Please correct the fields below.') : html``}
        <form method="post" action="/dashboard/settings/integrations/applications">
          <input type="hidden" name="_csrf" value="${me.session.csrfToken}">
          <label for="name">Application name</label>
          <input id="name" name="name" type="text" required maxlength="200" value="${values.name ?? ''}"${describedBy(errors, 'name')}>
          ${fieldErrors(errors, 'name')}
          <label for="redirect_uris">Redirect URLs</label>
          <textarea id="redirect_uris" name="redirect_uris" required aria-describedby="redirect-hint${errors?.redirect_uris ? ' redirect_uris-error' : ''}">${values.redirect_uris ?? ''}</textarea>
          <p class="hint" id="redirect-hint">One per line. They must match the redirect_uri your application sends exactly (https; http only for localhost).</p>
          ${fieldErrors(errors, 'redirect_uris')}
          <fieldset class="radio"><legend>Client type</legend>
            <label><input type="radio" name="type" value="confidential"${isPublic ? html`` : html` checked`}> Confidential: a server that keeps a client secret</label>
            <label><input type="radio" name="type" value="public"${isPublic ? html` checked` : html``}> Public: a mobile, desktop or browser app (no secret; PKCE required)</label>
          </fieldset>
          <div class="actions"><button type="submit">Create Application</button><a href="/dashboard/settings/integrations">Cancel</a></div>
        </form>
      </section>`,
    });
  }

  /** The page that shows a new client secret, this once. */
  function credentialsPage(me: SignedIn, client: { name: string; client_id: string }, secret: string | null, heading: string) {
    return settingsPage({
      active: 'integrations',
      title: heading,
      user: me.user,
      csrfToken: me.session.csrfToken,
      body: html`<section class="card" aria-labelledby="cred-title">
        <h2 id="cred-title">${heading}</h2>
        <p><strong>${client.name}</strong></p>
        <label for="client-id">Client ID</label>
        <output id="client-id" class="secret" data-testid="client-id">${client.client_id}</output>
        ${secret
          ? html`<label for="client-secret">Client secret</label>
            <output id="client-secret" class="secret" data-testid="client-secret">${secret}</output>
            ${notice('info', 'Copy the client secret now: it is shown only this once. Only a hash of it is kept.')}`
          : html`<p class="hint">This is a public client: it has no secret and must use PKCE (S256).</p>`}
        <div class="actions"><a class="button" href="/dashboard/settings/integrations">Done</a></div>
      </section>`,
    });
  }

  app.get('/settings/integrations/applications/new', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    return sendHtml(reply, 200, newApplicationPage(me));
  });

  app.post('/settings/integrations/applications', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const values = { name: formField(request.body, 'name'), redirect_uris: formField(request.body, 'redirect_uris'), type: formField(request.body, 'type') };
    try {
      const { client, clientSecret } = await oauth.createClient({
        accountId: me.session.accountId,
        name: values.name,
        redirectUris: values.redirect_uris.split(/\r?\n/),
        isPublic: values.type === 'public',
      });
      return sendHtml(reply, 201, credentialsPage(me, client, clientSecret, 'Application created'));
    } catch (err) {
      if (err instanceof ValidationError) return sendHtml(reply, 422, newApplicationPage(me, values, err.errors));
      throw err;
    }
  });

  app.post('/settings/integrations/applications/:id/rotate', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const { client, clientSecret } = await oauth.rotateSecret(me.session.accountId, uuidParam(request));
    return sendHtml(reply, 200, credentialsPage(me, client, clientSecret, 'New client secret'));
  });

  app.post('/settings/integrations/applications/:id/delete', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    await oauth.deleteClient(me.session.accountId, uuidParam(request));
    return reply.redirect('/dashboard/settings/integrations?done=app-deleted', 303);
  });

  function newTokenPage(me: SignedIn, values: { name?: string; scopes?: string[] } = {}, errors?: FieldErrors) {
    const chosen = new Set(values.scopes ?? []);
    return settingsPage({
      active: 'integrations',
      title: 'Create New Token',
      user: me.user,
      csrfToken: me.session.csrfToken,
      body: html`<section class="card" aria-labelledby="new-token-title">
        <h2 id="new-token-title">Create New Token</h2>
        ${errors ? notice('error', 'Please correct the fields below.') : html``}
        <form method="post" action="/dashboard/settings/integrations/tokens">
          <input type="hidden" name="_csrf" value="${me.session.csrfToken}">
          <label for="name">Name</label>
          <input id="name" name="name" type="text" required maxlength="200" value="${values.name ?? ''}"${describedBy(errors, 'name')}>
          <p class="hint">A meaningful name, for your reference later.</p>
          ${fieldErrors(errors, 'name')}
          <fieldset${describedBy(errors, 'scopes')}><legend>Scopes</legend>
            <div class="checks">${SCOPES.map(
              (s) => html`<label><input type="checkbox" name="scopes" value="${s}"${chosen.has(s) ? html` checked` : html``}><span><code>${s}</code><br><span class="muted">${SCOPE_DESCRIPTIONS[s]}</span></span></label>`,
            )}</div>
          </fieldset>
          ${fieldErrors(errors, 'scopes')}
          <div class="actions"><button type="submit">Create</button><a href="/dashboard/settings/integrations">Cancel</a></div>
        </form>
      </section>`,
    });
  }

  app.get('/settings/integrations/tokens/new', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    return sendHtml(reply, 200, newTokenPage(me));
  });

  app.post('/settings/integrations/tokens', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const name = formField(request.body, 'name');
    const scopes = formList(request.body, 'scopes');
    if (scopes.length === 0) return sendHtml(reply, 422, newTokenPage(me, { name, scopes }, { scopes: ['Choose at least one scope.'] }));
    try {
      const issued = await tokens.issue({ accountId: me.session.accountId, userId: me.user.id, kind: 'personal', name, scopes });
      const dialog = html`<dialog open aria-labelledby="token-dialog-title" aria-describedby="token-dialog-desc">
        <h2 id="token-dialog-title">Personal access token created</h2>
        <p id="token-dialog-desc">Copy this token now and store it somewhere safe: it will only be shown once.</p>
        <output class="secret" data-testid="new-token">${issued.token}</output>
        <form method="dialog" class="actions"><button type="submit" autofocus>I have copied it</button></form>
      </dialog>`;
      return sendHtml(reply, 201, await integrationsPage(me, { dialog }));
    } catch (err) {
      if (err instanceof ValidationError) return sendHtml(reply, 422, newTokenPage(me, { name, scopes }, err.errors));
      throw err;
    }
  });

  app.post('/settings/integrations/tokens/:id/revoke', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const revoked = await tokens.revoke(me.session.accountId, uuidParam(request));
    if (!revoked) throw new AppError(404, 'Token not found.');
    return reply.redirect('/dashboard/settings/integrations?done=token-revoked', 303);
  });

  // ---- Connected applications -------------------------------------------------------------

  async function connectedPage(me: SignedIn, success?: string) {
    const connected = await oauth.listConnected(me.session.accountId);
    const csrf = me.session.csrfToken;
    const rows = connected.map((c) => {
      const scopes = [...new Set(c.scopes.split(' ').filter(Boolean))].sort();
      return html`<tr>
        <td data-label="Application">${c.client_name}</td>
        <td data-label="Can"><ul class="scope-list">${scopes.map((s) => html`<li>${SCOPE_DESCRIPTIONS[s as keyof typeof SCOPE_DESCRIPTIONS] ?? s}</li>`)}</ul></td>
        <td data-label="Connected">${formatDateTime(c.connected_at as Date | null)}</td>
        <td data-label="Last used">${formatDateTime(c.last_used_at as Date | null)}</td>
        <td data-label="Actions"><form method="post" action="/dashboard/settings/connected-apps/${c.client_pk}/revoke" class="inline">
          <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Revoke access for ${c.client_name}">Revoke access</button></form></td>
      </tr>`;
    });
    return settingsPage({
      active: 'connected-apps',
      title: 'Connected applications',
      user: me.user,
      csrfToken: csrf,
      body: html`${notice('success', success)}<section aria-labelledby="conn-title">
        <h2 id="conn-title">Applications connected to your account</h2>
        <p class="hint">These applications can use your account through the API. Revoking access cancels every token the application holds for this account.</p>
        ${connected.length === 0
          ? html`<p class="muted">No applications are connected.</p>`
          : html`<table><thead><tr><th scope="col">Application</th><th scope="col">Can</th><th scope="col">Connected</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead><tbody>${rows}</tbody></table>`}
      </section>`,
    });
  }

  app.get('/settings/connected-apps', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    const done = (request.query as Record<string, unknown>).done === 'revoked' ? 'Access was revoked.' : undefined;
    return sendHtml(reply, 200, await connectedPage(me, done));
  });

  app.post('/settings/connected-apps/:id/revoke', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    if (!(await oauth.disconnect(me.session.accountId, uuidParam(request)))) throw new AppError(404, 'Not connected.');
    return reply.redirect('/dashboard/settings/connected-apps?done=revoked', 303);
  });

  // Settings → Notifications (webhooks), in this context so it shares the pages' error handling.
  await app.register(notificationsRoutes);
}

function uuidParam(request: FastifyRequest): string {
  const id = (request.params as Record<string, unknown>).id;
  if (!isUuid(id)) throw new AppError(404, 'Not found.');
  return id;
}
