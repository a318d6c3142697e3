// Drives the sidecar with vscode-jsonrpc, a JSON-RPC client nobody on this
// project wrote, over --framing=content-length. Usage: node client.mjs BINARY
// Prints one JSON summary line; exits non-zero on any disagreement.
import { spawn } from 'node:child_process';
import * as rpc from 'vscode-jsonrpc/node';

const child = spawn(process.argv[2], ['--framing=content-length'], {
  env: { ...process.env, OROMSYNC_TEST_HOOKS: '1' },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const conn = rpc.createMessageConnection(
  new rpc.StreamMessageReader(child.stdout),
  new rpc.StreamMessageWriter(child.stdin),
);
conn.listen();

const failures = [];
const check = (name, ok, detail) => { if (!ok) failures.push(`${name}: ${JSON.stringify(detail)}`); };
const errorOf = async (p) => { try { return { result: await p }; } catch (e) { return { code: e.code, data: e.data, message: e.message }; } };

const doc = await conn.sendRequest('rpc.discover');
check('discover', doc.openrpc === '1.3.2' && doc.methods.some((m) => m.name === 'settings.resolve'), doc.info);

const resolved = await conn.sendRequest('settings.resolve', {
  cascade: { system: { enabled: true, conflictResolution: 'merge' }, user: { direction: 'oro_to_microsoft' } },
});
check('resolve', resolved.effective.enabled === true && resolved.effective.direction === 'oro_to_microsoft'
  && resolved.effective.conflictResolution === null && resolved.sources.direction === 'user', resolved);

let e = await errorOf(conn.sendRequest('no.such.method'));
check('-32601', e.code === -32601 && e.data.kind === 'invalid_input', e);

e = await errorOf(conn.sendRequest('settings.resolve', { cascade: { user: { direction: 'sideways' } } }));
check('-32602', e.code === -32602 && e.data.field === 'cascade.user.direction', e);

e = await errorOf(conn.sendRequest('test.panic'));
check('-32603', e.code === -32603 && e.data.kind === 'internal', e);

// Cancellation through vscode-jsonrpc's own $/cancelRequest.
const source = new rpc.CancellationTokenSource();
const slow = errorOf(conn.sendRequest('test.sleep', { ms: 20000 }, source.token));
const started = Date.now();
setTimeout(() => source.cancel(), 200);
const fast = await conn.sendRequest('test.echo', { hello: 'world' });
check('concurrent echo', fast.hello === 'world', fast);
e = await slow;
// vscode-jsonrpc rejects a cancelled call itself; the sidecar's -32800 reply must arrive and not break anything.
check('cancel', e.code === -32800 && Date.now() - started < 5000, e);

// Many calls at once, answered in any order.
const many = await Promise.all(Array.from({ length: 50 }, (_, i) => conn.sendRequest('test.echo', { i })));
check('pipelined', many.every((r, i) => r.i === i), many.length);

conn.dispose();
child.stdin.end();
const code = await new Promise((resolve) => child.on('exit', resolve));
check('exit code', code === 0, code);

console.log(JSON.stringify({ ok: failures.length === 0, failures }));
process.exit(failures.length === 0 ? 0 : 1);
