// Browser tests of the reference host's pages: headless Chromium from Debian
// (/usr/bin/chromium, or $CHROMIUM) driven by puppeteer-core, which downloads
// no browser. It starts everything it needs: cmd/graphsim (with its sign-in
// page, no auto-consent), a database, the host's pages on PHP's built-in web
// server, and a consumer for each "Sync now".
//
//   OROHOST_SIDECAR=/tmp/oro-msync OROHOST_GRAPHSIM=/tmp/graphsim node test.js
//   SCREENSHOTS=../docs ... node test.js     (rewrites the README's screenshots)
//
// Without Chromium it skips (exit 0, saying so); under CI=true it fails.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const assert = require('node:assert/strict');

const HOST = path.resolve(__dirname, '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const UPN = 'ada@contoso.example';
const SECRET_PATTERNS = [/EwB[A-Za-z0-9_\-.]{8,}/, /M\.R3_[A-Za-z0-9_\-.]{8,}/, /M\.C[A-Za-z0-9_\-.]{8,}/, /graphsim-secret/, /codeVerifier/i, /refreshToken|accessToken/];

function skipOrFail(why) {
  if (process.env.CI === 'true') {
    console.error(`browser tests: ${why} (CI=true: failing; .ci/run installs it)`);
    process.exit(1);
  }
  console.log(`browser tests: SKIPPED: ${why}`);
  process.exit(0);
}

let puppeteer;
try {
  puppeteer = require('puppeteer-core');
} catch {
  skipOrFail('puppeteer-core is not installed (npm ci in examples/oro-host/browser)');
}
if (!fs.existsSync(CHROMIUM)) skipOrFail(`${CHROMIUM} is missing (apt-get install chromium)`);
for (const v of ['OROHOST_SIDECAR', 'OROHOST_GRAPHSIM']) {
  if (!process.env[v]) skipOrFail(`${v} must name the built binary (.ci/test builds it)`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orohost-browser-'));
const shots = process.env.SCREENSHOTS ? path.resolve(process.env.SCREENSHOTS) : path.join(tmp, 'shots');
fs.mkdirSync(shots, { recursive: true });
const children = [];
const step = (s) => console.log(`browser tests: ${s}`);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

function start(cmd, args, opts, logFile) {
  const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(p);
  const log = fs.createWriteStream(logFile);
  p.stderr.pipe(log);
  return p;
}

async function main() {
  const port = await freePort();
  const base = `http://localhost:${port}`;
  const redirect = `${base}/oauth/callback`;

  // the simulator, with its sign-in and consent page
  const sim = start(process.env.OROHOST_GRAPHSIM, ['--addr', '127.0.0.1:0', '--redirect-uri', redirect], {}, path.join(tmp, 'graphsim.log'));
  const simUrl = await new Promise((resolve, reject) => {
    let buf = '';
    let up = false;
    sim.stdout.on('data', (d) => { buf += d; if (!up && buf.includes('\n')) { up = true; resolve(JSON.parse(buf.split('\n')[0]).authority); } });
    sim.once('exit', (code) => { if (!up) reject(new Error(`graphsim exited (${code}); its log is in ${tmp}`)); });
  });
  const simCall = async (method, p, body) => {
    const r = await fetch(simUrl + p, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(r.ok, `${method} ${p}: ${r.status}`);
    return r.status === 204 ? null : r.json();
  };

  // the host: its own database and queue
  const db = `orohost_browser_${process.pid}`;
  const pg = process.env.OROHOST_PG || 'pgsql:host=127.0.0.1;port=5432';
  execFileSync('php', ['-r', `$p = new PDO($argv[1] . ';dbname=postgres', 'orohost', 'orohost'); $p->exec('DROP DATABASE IF EXISTS ' . $argv[2]); $p->exec('CREATE DATABASE ' . $argv[2]);`, pg, db]);
  const env = {
    ...process.env,
    OROHOST_DSN: `${pg};dbname=${db}`,
    OROHOST_QUEUE: `oro.msync.calendar_sync.browser-${process.pid}`,
    OROHOST_AUTHORITY_URL: simUrl,
    OROHOST_GRAPH_URL: `${simUrl}/v1.0`,
    OROHOST_SECRET: 'browser-test-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2),
    OROHOST_LOG_DIR: tmp,
    OROHOST_DEBOUNCE_SECONDS: '0.2',
  };
  const consoleCmd = (...args) => execFileSync('php', [path.join(HOST, 'bin/console'), ...args], { env, cwd: HOST, encoding: 'utf8' });
  consoleCmd('oro-host:install', '--redirect-uri', redirect);
  consoleCmd('oro-host:user:add', 'ada', UPN);
  await simCall('POST', '/_sim/users', { upn: UPN, displayName: 'Ada Lovelace', mail: UPN });
  const serverLog = path.join(tmp, 'php-server.log');
  start('php', ['-S', `127.0.0.1:${port}`, '-q', path.join(HOST, 'web/router.php')], { env, cwd: HOST }, serverLog);
  for (let i = 0; i < 50; i++) {
    try { await fetch(base + '/admin/system'); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  // a consumer that works off what "Sync now" enqueued, then exits
  const consume = () => consoleCmd('oro:message-queue:consume', '--name=browser', '--idle-exit=1.5', '-v');

  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions', '--disable-component-update'],
  });
  const seen = []; // every page's HTML and every console message
  const watch = (p) => {
    p.on('console', (m) => seen.push(['console', m.text()]));
    p.on('pageerror', (e) => seen.push(['console', 'pageerror: ' + e.message]));
    p.on('response', async (r) => {
      if ((r.headers()['content-type'] || '').startsWith('text/html') && r.url().startsWith(base)) {
        try { seen.push(['html ' + r.url().replace(/\?.*/, ''), await r.text()]); } catch { /* a redirect has no body */ }
      }
    });
  };
  browser.on('targetcreated', async (t) => { const p = await t.page(); if (p) watch(p); });
  const page = await browser.newPage();
  watch(page);
  await page.setViewport({ width: 980, height: 640 });
  page.on('dialog', (d) => d.accept());
  const shot = (name, p = page) => p.screenshot({ path: path.join(shots, name + '.png') });
  const text = () => page.$eval('main', (m) => m.innerText);
  const submit = async (sel) => { await Promise.all([page.waitForNavigation(), page.click(sel)]); };
  const field = (f) => `tr[data-field="${f}"]`;
  const setField = async (f, value) => {
    if (await page.$eval(`#parent-${f}`, (c) => c.checked)) await page.click(`#parent-${f}`);
    const tag = await page.$eval(`#field-${f}`, (e) => e.tagName);
    if (tag === 'SELECT') await page.select(`#field-${f}`, value);
    else { await page.$eval(`#field-${f}`, (e) => { e.value = ''; }); await page.type(`#field-${f}`, value); }
  };
  const useParent = async (f) => { if (!(await page.$eval(`#parent-${f}`, (c) => c.checked))) await page.click(`#parent-${f}`); };
  const eventRows = () => page.$$eval('#events tr[data-event]', (rs) => rs.map((r) => r.querySelector('input.title').value + ' | ' + r.querySelector('.sync').innerText).join('\n'));
  const effective = (f) => page.$eval(`${field(f)} td.effective`, (e) => e.innerText);

  try {
    // 1. the administrator: system defaults
    step('system configuration');
    await page.goto(base + '/admin/system');
    await setField('direction', 'both');
    await setField('conflictResolution', 'most_recent');
    await submit('#save');
    assert.match(await text(), /Configuration saved/);
    assert.match(await effective('conflictResolution'), /Most recent change wins\s+from system/);
    await shot('system-configuration');

    // 2. an organization override, with "use parent scope" per field
    step('organization override');
    await page.goto(base + '/admin/organization');
    assert.match(await effective('conflictResolution'), /from system/);
    await setField('conflictResolution', 'oro_wins');
    await submit('#save');
    assert.match(await text(), /Configuration saved/);
    assert.match(await effective('conflictResolution'), /Oro wins\s+from organization/);
    assert.match(await effective('direction'), /Both ways\s+from system/);
    await shot('organization-configuration');

    // 3. the user: sign-in cancelled, nothing stored
    step('connect: cancelled');
    await page.goto(base + '/user/config');
    assert.match(await text(), /Not connected/);
    let popup = await openPopup(page);
    await popup.waitForSelector('button[value="cancel"]');
    await Promise.all([page.waitForNavigation(), popup.click('button[value="cancel"]')]);
    assert.match(await text(), /cancelled or consent was refused.*Nothing was stored/s);
    assert.match(await text(), /Not connected/);

    // 4. connect through the pop-up: sign-in and consent on the simulator
    step('connect');
    popup = await openPopup(page);
    await popup.waitForSelector('button[value="accept"]');
    await popup.setViewport({ width: 480, height: 600 });
    await shot('sign-in-popup', popup);
    await Promise.all([page.waitForNavigation(), popup.click('button[value="accept"]')]);
    await page.waitForSelector('#account-name');
    assert.match(await text(), /Connected to Microsoft 365 as/);
    assert.equal(await page.$eval('#account-name', (e) => e.innerText), 'Ada Lovelace');
    assert.match(await page.$eval('#connection-status', (e) => e.innerText), new RegExp(UPN));
    assert.ok(await page.$('#check'), 'Check connection is shown');
    assert.equal(await page.$('#connect'), null, 'Connect is no longer shown');

    step('check connection');
    await submit('#check');
    assert.match(await page.$eval('#flash', (e) => e.innerText), /Connected to Microsoft 365 as .*Calendar: Calendar/);
    await shot('user-configuration');

    // 5. validation: an interval outside 1–1440, a strategy with a one-way direction
    step('validation');
    await setField('syncIntervalMinutes', '0');
    await setField('direction', 'oro_to_microsoft');
    await setField('conflictResolution', 'microsoft_wins');
    await submit('#save');
    const t = await text();
    assert.match(t, /not saved/);
    assert.match(t, /whole number of minutes from 1 to 1440/);
    assert.match(t, /Conflict Resolution applies only when Sync Direction is both ways/);
    await shot('user-validation');
    await setField('syncIntervalMinutes', '1441');
    await useParent('conflictResolution');
    await submit('#save');
    assert.match(await text(), /whole number of minutes from 1 to 1440/);

    // 6. change direction and interval
    step('direction and interval');
    await setField('syncIntervalMinutes', '30');
    await useParent('conflictResolution');
    await submit('#save');
    assert.match(await text(), /Configuration saved/);
    assert.match(await effective('direction'), /Oro → Microsoft 365\s+from user/);
    assert.match(await effective('syncIntervalMinutes'), /30 min\s+from user/);
    assert.match(await effective('conflictResolution'), /not applicable/);
    await setField('direction', 'both');
    await submit('#save');
    assert.match(await effective('conflictResolution'), /Oro wins\s+from organization/);

    // 6b. writing attendees: off by default; on, the page says Microsoft 365 mails them
    step('write attendees');
    assert.match(await effective('writeAttendees'), /No\s+from default/);
    await setField('writeAttendees', '1');
    await submit('#save');
    assert.match(await text(), /Configuration saved/);
    assert.match(await effective('writeAttendees'), /Yes\s+from user/);
    assert.match(await effective('writeAttendees'), /mails invitations, updates and cancellations/);
    await useParent('writeAttendees');
    await submit('#save');
    assert.match(await effective('writeAttendees'), /No\s+from default/);

    // 7. an Oro event reaches the mailbox after "Sync now"
    step('calendar: Oro → Microsoft 365');
    await page.goto(base + '/calendar');
    await page.type('#event-title', 'Quarterly review');
    await submit('#add-event');
    assert.match(await eventRows(), /Quarterly review \| pending/);
    await submit('#sync-now');
    assert.match(await text(), /Sync queued/);
    consume();
    const mailbox = await simCall('GET', `/_sim/users/${encodeURIComponent(UPN)}/events`);
    assert.ok(mailbox.value.some((e) => e.subject === 'Quarterly review'), 'the event is in the mailbox');

    // 8. an event created in Outlook appears in the calendar page
    step('calendar: Microsoft 365 → Oro');
    const day = new Date(Date.now() + 2 * 86400e3).toISOString().slice(0, 10);
    await simCall('POST', `/_sim/users/${encodeURIComponent(UPN)}/events`, {
      subject: 'Dentist', start: { dateTime: `${day}T14:00:00`, timeZone: 'UTC' }, end: { dateTime: `${day}T15:00:00`, timeZone: 'UTC' },
    });
    await submit('#sync-now');
    consume();
    await page.goto(base + '/calendar');
    const events = await eventRows();
    assert.match(events, /Dentist \| linked/);
    assert.match(events, /Quarterly review \| linked/);
    assert.match(await page.$eval('#last-status', (e) => e.innerText), /completed/);
    await shot('calendar');

    // 9. the grant is revoked: Check connection says reconnect required
    step('revoked grant');
    await simCall('POST', `/_sim/users/${encodeURIComponent(UPN)}/revokeRefreshTokens`);
    await simCall('POST', '/_sim/clock/advance', { duration: '2h' }); // the access token has expired too
    await page.goto(base + '/user/config');
    await submit('#check');
    assert.match(await page.$eval('#flash', (e) => e.innerText), /expired or was revoked/);
    assert.match(await page.$eval('#connection-status', (e) => e.innerText), /reconnect required/);
    assert.ok(await page.$('#connect'), 'Connect again is shown');
    await shot('reconnect-required');

    // Connect again repairs it; Disconnect removes tokens, state and links, not events
    step('connect again, disconnect');
    popup = await openPopup(page);
    await popup.waitForSelector('button[value="accept"]');
    await Promise.all([page.waitForNavigation(), popup.click('button[value="accept"]')]);
    await page.waitForSelector('#account-name');
    assert.match(await page.$eval('#connection-status', (e) => e.innerText), /— connected/);
    await simCall('POST', `/_sim/users/${encodeURIComponent(UPN)}/withdrawConsent`);
    await submit('#check');
    assert.match(await page.$eval('#connection-status', (e) => e.innerText), /consent required/);
    await submit('#disconnect');
    assert.match(await text(), /Disconnected\./);
    assert.match(await page.$eval('#connection-status', (e) => e.innerText), /Not connected/);
    await page.goto(base + '/calendar');
    assert.match(await eventRows(), /Quarterly review \| pending[\s\S]*Dentist \| pending|Dentist \| pending[\s\S]*Quarterly review \| pending/);
    const after = await simCall('GET', `/_sim/users/${encodeURIComponent(UPN)}/events`);
    assert.equal(after.value.length, 2, 'both events stay in the mailbox');

    // 10. no secret in any page, console message or the web server's log
    step('no secrets');
    const log = fs.readFileSync(serverLog, 'utf8');
    assert.ok(log.includes('GET /oauth/callback'), 'the server logged the callback (path only)');
    const sidecarLogs = fs.readdirSync(tmp).filter((f) => f.startsWith('oro-msync')).map((f) => [f, fs.readFileSync(path.join(tmp, f), 'utf8')]);
    for (const [where, body] of [...seen, ['server log', log], ...sidecarLogs]) {
      for (const re of SECRET_PATTERNS) assert.doesNotMatch(body, re, `${where} holds a secret (${re})`);
      assert.ok(!body.includes(env.OROHOST_SECRET), `${where} holds OROHOST_SECRET`);
    }
    assert.ok(seen.filter(([w]) => w.startsWith('html')).length > 10, 'pages were captured');
    step(`PASS (screenshots in ${shots})`);
  } catch (e) {
    await shot('failure').catch(() => {});
    console.error(`browser tests: FAIL: ${e.stack}\nlogs and screenshots: ${tmp}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
    for (const c of children) c.kill('SIGTERM');
    try {
      execFileSync('php', ['-r', `$p = new PDO($argv[1] . ';dbname=postgres', 'orohost', 'orohost'); $p->exec('DROP DATABASE IF EXISTS ' . $argv[2] . ' WITH (FORCE)');`, pg, db]);
    } catch { /* best effort */ }
    if (process.exitCode !== 1) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function openPopup(page) {
  const popup = new Promise((resolve) => page.once('popup', resolve));
  await page.click('#connect');
  return popup;
}

main().catch((e) => { console.error(e); process.exit(1); });
