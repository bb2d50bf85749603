# Flame graph SVGs in the tests.

# Parse an SVG with python's XML parser and evaluate an expression over it:
# `root` is the document element, `frames` the list of (title, rect attrs,
# text element) of each frame, `frame(name)` the first one named name,
# `widest(name)` the widest, and `named(name)` all of them (a function of a
# real capture can show at a second place, from one odd sample).
svg_eval() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
NS = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
frames = []
for g in root.find(NS + "g[@id=\"frames\"]"):
    frames.append((g.find(NS + "title").text, g.find(NS + "rect").attrib, g.find(NS + "text")))
def named(prefix):
    return [f for f in frames if f[0].startswith(prefix + " (")]
def frame(prefix):
    return named(prefix)[0]
def widest(prefix):
    return max(named(prefix), key=lambda f: float(f[1]["width"]))
print(eval(sys.argv[2]))
' "$1" "$2"
}
