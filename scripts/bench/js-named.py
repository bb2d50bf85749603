#!/usr/bin/env python3
"""The JavaScript-naming figures of a cd-sample capture (issue 11's measure).

usage: scripts/bench/js-named.py CAPTURE.jsonl

Of the main thread's samples (tid == pid) that have a JavaScript level --
a frame named from a jitdump or perf map (_[j], JSC's own stubs "JSC-..."
excepted), [JIT] or [JS interpreter] -- how many have their innermost such
frame named; and the share of [unknown] among all frames. Run it on a
capture of the real Claude Code, e.g.
    cd-sample --pid PID -d 25 > cap.jsonl; scripts/bench/js-named.py cap.jsonl
"""
import collections
import json
import sys

main = js = named = unknown = frames = 0
inner = collections.Counter()
meta = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["type"] == "meta":
        meta = r
    if r["type"] != "sample":
        continue
    c, st = r["count"], r["stack"]
    frames += c * len(st)
    unknown += c * sum(1 for f in st if f == "[unknown]")
    if r["tid"] != r["pid"]:
        continue
    main += c
    for f in reversed(st):
        fn = f.endswith("_[j]") and not f.startswith("JSC-")
        if fn or f in ("[JIT]", "[JS interpreter]"):
            js += c
            inner["named" if fn else f] += c
            named += c if fn else 0
            break
print(f"main-thread samples {main}, with a JavaScript level {js}, "
      f"innermost JS frame named {named} ({100.0 * named / max(js, 1):.1f}%); {dict(inner)}")
print(f"[unknown] frames: {unknown} of {frames} ({100.0 * unknown / max(frames, 1):.2f}%)")
if meta:
    print("naming_pct", meta.get("naming_pct"), "jitdumps", meta.get("jitdumps"),
          "jsc_without_jitdump", meta.get("jsc_without_jitdump"))
