// Child process of cleanup.test.ts: registers temporary files the way io/encode.ts does, says "ready" when
// they exist, and waits to be signalled. argv: mode ('hang': the write never settles; 'settle': it fails
// 200 ms after the signal, as a write whose file was removed under it does), then the temporary paths.
import { existsSync, writeFileSync } from 'node:fs';
import { installInterruptCleanup, onInterrupt, withTemporaryFile } from '../../src/core/cleanup.js';

const [mode, ...paths] = process.argv.slice(2);
installInterruptCleanup();
onInterrupt(() => process.stderr.write('callback ran\n'));
// A 'last' callback (e.g. removing a lock) runs once the temporary files are gone.
onInterrupt(() => process.stderr.write(`last callback ran; temporary files left: ${paths.filter((p) => existsSync(p)).length}\n`), 'last');
setInterval(() => {}, 1000); // keep the process alive until signalled
let signalled = false;
process.on('SIGINT', () => (signalled = true));
process.on('SIGTERM', () => (signalled = true));
for (const p of paths) {
  void withTemporaryFile(p, async () => {
    writeFileSync(p, 'partial');
    await new Promise<void>((resolve, reject) => {
      if (mode === 'hang') return;
      const poll = setInterval(() => {
        if (!signalled) return;
        clearInterval(poll);
        setTimeout(() => reject(new Error('rename: no such file')), 200);
      }, 10);
      void resolve;
    });
  }).catch(() => {});
}
process.stdout.write('ready\n');
