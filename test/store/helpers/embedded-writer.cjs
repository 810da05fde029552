// Child process for the crash test: appends alerts to an embedded store forever and prints the
// index of every put once it has resolved (i.e. is durable). The parent SIGKILLs it mid-loop.
require('./ts-register.cjs');
const { createEmbeddedStore } = require('../../../src/store/embedded/embedded-store.ts');
const { makeAlert } = require('../alert-fixtures.ts');

async function main() {
  const store = createEmbeddedStore({ dir: process.argv[2] });
  await store.init();
  const start = Number(process.argv[3] || 0);
  for (let i = start; ; i += 4) {
    // Several puts in flight at once, so the kill can land in the middle of a group commit.
    const batch = [0, 1, 2, 3].map((k) => store.putAlerts([makeAlert(i + k)], 'child').then(() => i + k));
    for (const done of await Promise.all(batch)) process.stdout.write(`${done}\n`);
  }
}
main().catch((e) => {
  process.stderr.write(String(e && e.stack || e));
  process.exit(1);
});
