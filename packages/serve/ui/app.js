// The operator's page of `detour serve`: plain DOM, no library, nothing loaded from elsewhere.
// Every value is set as text (never as HTML); the token lives in sessionStorage only.

const TOKEN_KEY = 'detour.token';
const MAX_SHOWN = 100;

const $ = (id) => document.getElementById(id);

/** `el('li', { class: 'x', data: { host } }, child, 'text')` */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'data') for (const [name, v] of Object.entries(value)) node.dataset[name] = String(v);
    else if (key === 'class') node.className = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleTimeString();
}

// ---- token -------------------------------------------------------------------------------------

/** A `#token=…` in the address: kept in sessionStorage, then removed from the address. */
function takeTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
  if (!match) return false;
  try {
    const token = decodeURIComponent(match[1]);
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // a malformed fragment: ignored, the prompt asks
  }
  // Out of the address bar and the history, so it is not shared by copying the URL.
  history.replaceState(null, '', location.pathname + location.search);
  return true;
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const t = token();
  if (t) headers.set('authorization', `Bearer ${t}`);
  const response = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (response.status === 401) throw new Unauthorized('the token was refused');
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const message = body?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

// ---- state -------------------------------------------------------------------------------------

let session; // AbortController of the signed-in session: stops the event stream and timers
const shownIds = new Set();

function setStatus(text) {
  $('status').textContent = text;
}

function showLogin(message) {
  session?.abort();
  session = undefined;
  $('main').hidden = true;
  $('sign-out').hidden = true;
  // No data may stay on the page without a valid token.
  for (const id of ['env-facts', 'plan', 'reasons', 'fetches', 'hosts-body', 'cache-facts', 'doctor-out']) {
    $(id).replaceChildren();
  }
  shownIds.clear();
  $('login').hidden = false;
  $('login-error').textContent = message ?? '';
  setStatus('Locked: a token is needed.');
  $('token').focus();
}

async function signIn() {
  session?.abort();
  session = undefined;
  try {
    await api('v1/detect');
  } catch (error) {
    if (error instanceof Unauthorized) {
      const had = token() !== null;
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin(had ? 'That token was refused.' : undefined);
      return;
    }
    setStatus(`Cannot reach the service: ${error.message}`);
    return;
  }
  $('login').hidden = true;
  $('main').hidden = false;
  $('sign-out').hidden = token() === null;
  session = new AbortController();
  const { signal } = session;
  await Promise.all([loadEnvironment(), loadRecent(), loadHosts(), loadCache()]).catch(onError);
  if (signal.aborted) return;
  listen(signal);
  const timer = setInterval(() => {
    loadEnvironment().catch(onError);
    loadHosts().catch(onError);
  }, 30_000);
  signal.addEventListener('abort', () => clearInterval(timer));
}

function onError(error) {
  if (error instanceof Unauthorized) showLogin('The token is no longer accepted.');
  else if (error?.name !== 'AbortError') setStatus(`Error: ${error.message}`);
}

// ---- environment -------------------------------------------------------------------------------

function fact(list, name, value) {
  list.append(el('dt', {}, name), el('dd', {}, value));
}

async function loadEnvironment() {
  const env = await api('v1/detect');
  const facts = $('env-facts');
  facts.replaceChildren();
  const p = env.proxy ?? {};
  const proxy = p.source === 'none' ? 'none' : `${p.source}: ${p.https ?? p.http ?? p.socks ?? '-'}`;
  fact(facts, 'Proxy', proxy);
  fact(facts, 'TUN', env.tun?.active ? `active (${env.tun.interface ?? '?'})` : 'no');
  const fake = env.fakeIp?.active;
  fact(facts, 'Fake-IP DNS', fake === null || fake === undefined ? 'unknown' : fake ? 'active' : 'no');
  fact(facts, 'Platform', env.platform ?? '');
  $('plan').replaceChildren(...(env.plan ?? []).map((name) => el('li', {}, el('code', {}, name))));
  const reasons = $('reasons');
  reasons.replaceChildren();
  for (const [name, why] of Object.entries(env.reasons ?? {})) {
    reasons.append(el('dt', {}, el('code', {}, name)), el('dd', {}, why));
  }
}

// ---- recent fetches ----------------------------------------------------------------------------

function flagBadges(f) {
  const flags = ['degraded', 'downgraded', 'insecure', 'fromCache'].filter((name) => f[name]);
  return flags.map((name) => el('span', { class: `badge flag flag-${name}` }, name));
}

function attemptItem(a) {
  const what =
    a.outcome === 'ok'
      ? 'ok'
      : a.outcome === 'skipped' && a.reason
        ? `skipped, ${a.reason}`
        : [a.outcome, a.failureClass, a.code].filter(Boolean).join(' ');
  return el(
    'li',
    { class: `attempt attempt-${a.outcome}` },
    el('code', {}, a.strategy),
    ` via ${a.route}: `,
    el('span', { class: 'outcome' }, what),
    ` (${a.ms} ms)`,
  );
}

function fetchItem(f) {
  const title = f.ok ? f.strategy : `failed: ${f.error?.failureClass ?? 'unknown'}`;
  return el(
    'li',
    {
      class: `fetch ${f.ok ? 'ok' : 'failed'}`,
      data: { id: f.id, host: f.host, strategy: f.strategy ?? '' },
    },
    el(
      'div',
      { class: 'head' },
      el('span', { class: `badge strategy${f.ok ? '' : ' bad'}` }, title),
      el('strong', { class: 'host' }, f.host),
      el('time', { datetime: f.at }, clock(f.at)),
    ),
    el('div', { class: 'url' }, el('code', {}, f.url)),
    el(
      'div',
      { class: 'meta' },
      el('span', {}, bytes(f.bytes)),
      el('span', {}, `${f.ms} ms`),
      ...flagBadges(f),
    ),
    f.error ? el('p', { class: 'error' }, `${f.error.code}: ${f.error.message}`) : null,
    el('ol', { class: 'attempts', 'aria-label': 'Attempts' }, f.attempts.map(attemptItem)),
  );
}

function showFetch(f, { prepend }) {
  if (shownIds.has(f.id)) return;
  shownIds.add(f.id);
  const list = $('fetches');
  if (prepend) list.prepend(fetchItem(f));
  else list.append(fetchItem(f));
  while (list.children.length > MAX_SHOWN) {
    shownIds.delete(Number(list.lastElementChild.dataset.id));
    list.lastElementChild.remove();
  }
  $('recent-empty').hidden = list.children.length > 0;
}

async function loadRecent() {
  const recent = await api('v1/recent');
  for (const f of recent.fetches) showFetch(f, { prepend: false }); // already newest first
  $('recent-empty').hidden = $('fetches').children.length > 0;
}

// ---- hosts -------------------------------------------------------------------------------------

function circuitText(c) {
  if (!c) return 'off';
  if (c.state === 'closed') return c.failures ? `closed (${c.failures} failed in a row)` : 'closed';
  return `${c.state} until ${clock(c.retryAt)} (${c.failures} failed)`;
}

async function forget(host, button) {
  button.disabled = true;
  try {
    await api(`v1/hosts/${encodeURIComponent(host)}`, { method: 'DELETE' });
    setStatus(`Forgot ${host}: its next fetch plans afresh.`);
    await loadHosts();
  } catch (error) {
    button.disabled = false;
    onError(error);
  }
}

async function loadHosts() {
  const { hosts } = await api('v1/hosts');
  const rows = hosts.map((h) => {
    const button = el(
      'button',
      { type: 'button', class: 'forget', 'aria-label': `Forget ${h.host}` },
      'Forget',
    );
    button.addEventListener('click', () => forget(h.host, button));
    const route = h.route
      ? el('span', {}, el('code', {}, h.route.winner), ` (since ${clock(h.route.learnedAt)})`)
      : el('span', { class: 'muted' }, 'none: the plan as is');
    return el(
      'tr',
      { data: { host: h.host, origin: h.origin } },
      el('th', { scope: 'row' }, el('span', {}, h.host), el('br'), el('small', { class: 'muted' }, h.origin)),
      el('td', { class: 'route' }, route),
      el('td', { class: `circuit circuit-${h.circuit?.state ?? 'off'}` }, circuitText(h.circuit)),
      el('td', {}, button),
    );
  });
  $('hosts-body').replaceChildren(...rows);
  $('hosts-table').hidden = rows.length === 0;
  $('hosts-empty').hidden = rows.length > 0;
}

// ---- cache -------------------------------------------------------------------------------------

async function loadCache() {
  const cache = await api('v1/cache');
  const facts = $('cache-facts');
  facts.replaceChildren();
  fact(facts, 'Hits', String(cache.hits));
  fact(facts, 'Misses', String(cache.misses));
  fact(facts, 'Served from cache', bytes(cache.bytesFromCache));
  for (const tier of cache.tiers) {
    const counted =
      tier.entries === null ? 'not counted' : `${tier.entries} entries, ${bytes(tier.bytes ?? 0)}`;
    fact(facts, `Tier ${tier.name}${tier.shared ? ' (shared)' : ''}`, counted);
  }
  if (cache.tiers.length === 0) fact(facts, 'Tiers', 'cache off');
}

// ---- live events -------------------------------------------------------------------------------

let refreshTimer;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    loadHosts().catch(onError);
    loadCache().catch(onError);
  }, 150);
}

/** Server-Sent Events read with fetch (EventSource cannot send the Authorization header). */
async function listen(signal) {
  while (!signal.aborted) {
    try {
      const headers = token() ? { authorization: `Bearer ${token()}` } : {};
      const response = await fetch('v1/events', { headers, signal, cache: 'no-store' });
      if (response.status === 401) throw new Unauthorized('the token was refused');
      if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
      setStatus('Live.');
      await readEvents(response.body, signal);
    } catch (error) {
      if (error instanceof Unauthorized) return onError(error);
      if (signal.aborted) return;
    }
    setStatus('Reconnecting…');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

async function readEvents(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  signal.addEventListener('abort', () => reader.cancel().catch(() => {}));
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      onEvent(block);
      end = buffer.indexOf('\n\n');
    }
  }
}

function onEvent(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (event !== 'fetch' || !data) return;
  showFetch(JSON.parse(data), { prepend: true });
  refreshSoon();
}

// ---- doctor ------------------------------------------------------------------------------------

function doctorView(report) {
  const results = el(
    'table',
    {},
    el('caption', {}, 'Each strategy alone'),
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        ['Strategy', 'Route', 'Outcome', 'ms'].map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      report.results.map((r) =>
        el(
          'tr',
          {},
          el('th', { scope: 'row' }, el('code', {}, r.strategy)),
          el('td', {}, r.route),
          el('td', {}, [r.outcome, r.failureClass, r.code].filter(Boolean).join(' ')),
          el('td', {}, String(r.ms)),
        ),
      ),
    ),
  );
  const fixes = report.suggestions.length
    ? el(
        'ul',
        { class: 'fixes' },
        report.suggestions.map((s) => el('li', {}, el('span', { class: 'badge' }, s.kind), ' ', s.text)),
      )
    : el('p', {}, 'No fix needed.');
  return [
    el('h3', {}, 'Verdict'),
    el('p', { class: 'verdict' }, report.verdict),
    el('h3', {}, 'Fixes'),
    fixes,
    el('div', { class: 'scroll' }, results),
  ];
}

async function runDoctor(event) {
  event.preventDefault();
  const out = $('doctor-out');
  const button = $('doctor-run');
  button.disabled = true;
  out.replaceChildren(el('p', { class: 'muted' }, 'Running every strategy alone…'));
  try {
    const report = await api('v1/doctor', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: $('doctor-url').value }),
    });
    out.replaceChildren(...doctorView(report));
  } catch (error) {
    if (error instanceof Unauthorized) onError(error);
    else out.replaceChildren(el('p', { class: 'error', role: 'alert' }, `Doctor failed: ${error.message}`));
  } finally {
    button.disabled = false;
  }
}

// ---- start -------------------------------------------------------------------------------------

function start() {
  takeTokenFromFragment();
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const value = $('token').value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $('token').value = '';
    signIn();
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  });
  $('doctor-form').addEventListener('submit', runDoctor);
  // A link with `#token=…` opened in this tab while the page is open: no reload happens.
  window.addEventListener('hashchange', () => {
    if (takeTokenFromFragment()) signIn();
  });
  signIn();
}

start();
