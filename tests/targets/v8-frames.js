// CPU-bound JavaScript whose functions have names of every kind V8 keeps:
// declared, a named function expression under another binding, a class
// method, a getter, an arrow given its name by its binding, an object's
// method (an inferred name) and a truly anonymous one; recursion makes
// deep stacks. Nothing is inlined away: every function is hot enough
// to be optimized but --max-inlined-bytecode-size=0 keeps them apart.
//   node v8-frames.js READY_FILE [SECONDS]   run SECONDS (0: forever)
//   node v8-frames.js READY_FILE rounds N    fixed work, then print
//                                            "wall_s cpu_s" and exit
'use strict';
const fs = require('fs');

const ready = process.argv[2];
const fixed = process.argv[3] === 'rounds';
const rounds = fixed ? Number(process.argv[4]) : 0;
const seconds = fixed ? 0 : Number(process.argv[3] || 0);

function fibRecurse(n) { return n < 2 ? n : fibRecurse(n - 1) + fibRecurse(n - 2); }
const renderAlias = function renderFrame(k) {
  let out = 0;
  for (let i = 0; i < 3000; i++) out += (i * k) % 7;
  return out;
};
class Layout {
  measureText(n) { let a = 0; for (let i = 0; i < n; i++) a += Math.sqrt(i); return a; }
  get totalWidth() { let a = 0; for (let i = 0; i < 2000; i++) a += i & 3; return a; }
}
const scaleArrow = (x) => { let a = 0; for (let i = 0; i < 2000; i++) a += x * i; return a; };
const handlers = { onTokenStream(v) { let a = 0; for (let i = 0; i < 2000; i++) a ^= v + i; return a; } };
const anon = [function (v) { let a = 0; for (let i = 0; i < 2000; i++) a += v; return a; }];

const lay = new Layout();
function oneRound(k) {
  return fibRecurse(16) + renderAlias(k) + lay.measureText(2000) + lay.totalWidth +
    scaleArrow(k) + handlers.onTokenStream(k) + anon[0](k);
}

if (ready)
  fs.writeFileSync(ready, String(process.pid));
const t0 = Date.now(), c0 = process.cpuUsage();
let sink = 0;
if (fixed) {
  for (let r = 0; r < rounds; r++)
    sink += oneRound(r & 15);
  const c = process.cpuUsage(c0);
  console.log(`${(Date.now() - t0) / 1000} ${(c.user + c.system) / 1e6} ${sink & 1}`);
} else {
  const end = seconds > 0 ? t0 + seconds * 1000 : Infinity;
  const loop = () => {
    const stop = Date.now() + 50;
    while (Date.now() < stop)
      sink += oneRound(sink & 15);
    if (Date.now() < end)
      setImmediate(loop);
  };
  loop();
}
