# Shared by the bench scripts.
# usage: hf_cpu FILE INDEX -> mean user+system milliseconds
hf_cpu() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
print("%.1f" % ((r["user"] + r["system"]) * 1000))
' "$1" "$2"
}
ratio() {
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"
}
