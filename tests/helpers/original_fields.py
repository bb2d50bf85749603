"""Hold a -j document against the original's field list.

usage: original_fields.py FIXTURE TOOL DOC.json

Every field the original wrote (tests/fixtures/original-json-fields.json)
must be in DOC with the original's JSON type, in every element of every
array; a field marked ? may be absent or null. Prints the paths checked.
"""
import json
import sys

TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


def split(path):
    """'.a[].b{}' -> ['a', '[]', 'b', '{}']"""
    out = []
    for part in path.strip(".").split("."):
        while part.endswith("[]") or part.endswith("{}"):
            out.append(part[:-2]) if part[:-2] else None
            out.append(part[-2:])
            part = ""
        if part:
            out.append(part)
    return [p for p in out if p]


def values(doc, steps, where="$"):
    """Every value at steps, with where it is; missing keys yield None."""
    if not steps:
        yield where, doc, True
        return
    s, rest = steps[0], steps[1:]
    if s == "[]":
        for i, x in enumerate(doc if isinstance(doc, list) else []):
            yield from values(x, rest, "%s[%d]" % (where, i))
    elif s == "{}":
        for k, x in (doc.items() if isinstance(doc, dict) else []):
            yield from values(x, rest, "%s.%s" % (where, k))
    elif isinstance(doc, dict) and s in doc:
        yield from values(doc[s], rest, where + "." + s)
    elif isinstance(doc, dict):
        if not rest:
            yield where + "." + s, None, False
    # a section absent (not asked for) is checked by its own entry


fixture = json.load(open(sys.argv[1]))[sys.argv[2]]["fields"]
doc = json.load(open(sys.argv[3]))
bad = []
for path, want in fixture.items():
    optional = path.endswith("?")
    steps = split(path.rstrip("?"))
    kinds = want.split("|")
    for where, v, present in values(doc, steps):
        if not present:
            if not optional:
                bad.append("%s: missing (the original writes %s)" % (where, want))
            continue
        if optional and v is None:
            continue
        if not any(TYPES[k](v) for k in kinds):
            bad.append("%s: %s is %s, the original's is %s"
                       % (where, json.dumps(v)[:60], type(v).__name__, want))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
