// Starts a part of the production build by name (`service`, `shoutcloud-server`), so the bench's
// processes carry no `dist/...main.js` in their command line: on a shared machine, a broad
// `pkill -f dist/main.js` from another shell would otherwise stop them mid-run.
const parts = { service: '../../dist/main.js', 'shoutcloud-server': '../../dist/shoutcloud-server/main.js' };
const part = parts[process.argv[2]];
if (!part) throw new Error(`usage: node bench/lib/launch.mjs ${Object.keys(parts).join('|')}`);
await import(new URL(part, import.meta.url).href);
