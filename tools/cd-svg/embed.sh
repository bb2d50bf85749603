#!/bin/sh
# Turn the script and style sheet into C string constants.
set -eu
emit() {
	printf 'const char %s[] =\n' "$1"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' "$2"
	printf ';\n'
}
if grep -q ']]>' "$1"; then
	echo "embed.sh: $1 contains ]]>, which would end the CDATA section" >&2
	exit 1
fi
emit svg_script "$1"
emit svg_style "$2"
