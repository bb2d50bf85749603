// Churns V8's garbage collector: short-lived objects and arrays by the
// million, plus a slowly replaced old-generation set so both the
// Scavenger (young) and MarkCompact (old) collectors run.
//   node --perf-basic-prof gc-churn.js [READY_FILE] [SECONDS]
'use strict';
const fs = require('fs');

const ready = process.argv[2];
const seconds = Number(process.argv[3] || 0);
const end = seconds > 0 ? Date.now() + seconds * 1000 : Infinity;
let keep = [];

function churnYoung() {
  let total = 0;
  for (let i = 0; i < 20000; i++) {
    const o = { a: i, b: String(i), c: [i, i + 1, i + 2] };
    total += o.c.length + o.b.length;
  }
  return total;
}

function churnOld() {
  // Survivors that die later push the old generation to full collections.
  keep.push(new Array(2000).fill(0).map((_, i) => ({ i, s: 'x' + i })));
  if (keep.length > 40) keep = keep.slice(20);
}

function round() {
  churnYoung();
  churnOld();
  if (Date.now() < end) setImmediate(round);
}

if (ready) fs.writeFileSync(ready, String(process.pid) + '\n');
round();
