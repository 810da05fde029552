#!/usr/bin/env node
'use strict';
// V8's allocation-site pretenuring watches which allocation sites make objects that survive a
// young-generation GC, and once a site's objects look long-lived it allocates them in the old
// generation, throwing out all optimised code that allocates there. Our events live for one
// detector batch (1,024 events) and die young, but some survive the GCs that happen mid-batch, and
// V8 then tenures them: on the bench capture that deoptimised about twenty decoder and detector
// functions (decodeBody, publish, the window slots...) a few thousand packets in, to be compiled
// again, 98 M instructions of 1.3 G of analyze's cost over decode on 600K packets. Without it,
// survivors are promoted by the GC as usual. decode is unaffected (4,319 M instructions either way).
require('v8').setFlagsFromString('--no-allocation-site-pretenuring');
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`iotwatch: internal error: ${err && err.stack || err}\n`); process.exitCode = 1; },
);
