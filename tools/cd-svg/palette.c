/*
 * Frame colours. Every palette derives a frame's colour from a hash of its
 * name, so the same function has the same colour in every graph and
 * between runs.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hashmap.h"
#include "svg.h"

static const char *const categories[] = {
	"file", "network", "memory", "process", "event", "time", "ipc", "other",
};

/* Base hue, saturation, lightness of each category, in that order. */
static const double cat_hsl[][3] = {
	{ 212, 0.60, 0.66 },	/* file: blue */
	{ 140, 0.45, 0.58 },	/* network: green */
	{ 40, 0.75, 0.60 },	/* memory: amber */
	{ 275, 0.45, 0.70 },	/* process: purple */
	{ 14, 0.70, 0.64 },	/* event: orange red */
	{ 186, 0.50, 0.58 },	/* time: teal */
	{ 330, 0.55, 0.70 },	/* ipc: pink */
	{ 0, 0.00, 0.72 },	/* other: grey */
};

int
palette_category(const char *name, size_t len)
{
	for (int i = 0; i < (int)(sizeof(categories) / sizeof(categories[0])); i++)
		if (strlen(categories[i]) == len && memcmp(categories[i], name, len) == 0)
			return i;
	return -1;
}

static void
hex(char out[8], double r, double g, double b)
{
	snprintf(out, 8, "#%02x%02x%02x", (unsigned)lround(r) & 0xff,
	    (unsigned)lround(g) & 0xff, (unsigned)lround(b) & 0xff);
}

static double
hue2rgb(double p, double q, double t)
{
	if (t < 0)
		t += 1;
	if (t > 1)
		t -= 1;
	if (t < 1.0 / 6)
		return p + (q - p) * 6 * t;
	if (t < 0.5)
		return q;
	if (t < 2.0 / 3)
		return p + (q - p) * (2.0 / 3 - t) * 6;
	return p;
}

static void
hsl(char out[8], double h, double s, double l)
{
	double q = l < 0.5 ? l * (1 + s) : l + s - l * s, p = 2 * l - q;

	h = fmod(h, 360) / 360;
	hex(out, 255 * hue2rgb(p, q, h + 1.0 / 3), 255 * hue2rgb(p, q, h),
	    255 * hue2rgb(p, q, h - 1.0 / 3));
}

static int
ends(const char *s, size_t n, const char *sfx)
{
	size_t l = strlen(sfx);

	return n >= l && memcmp(s + n - l, sfx, l) == 0;
}

void
palette_color(enum palette p, const char *name, size_t len, int depth,
    int cat, char out[8])
{
	uint64_t h = hmap_hash(name, len, 0x9a1e77e);
	double v1 = (double)(h & 0xffff) / 65535.0;
	double v2 = (double)((h >> 16) & 0xffff) / 65535.0;
	double v3 = (double)((h >> 32) & 0xffff) / 65535.0;

	if (depth == 0) {
		hex(out, 200, 200, 200);
		return;
	}
	if (p == PAL_CATEGORY && cat >= 0) {
		/* a little lightness jitter so neighbours stay apart */
		hsl(out, cat_hsl[cat][0] + (v1 - 0.5) * 16, cat_hsl[cat][1],
		    cat_hsl[cat][2] + (v2 - 0.5) * 0.12);
		return;
	}
	if (p == PAL_CATEGORY && depth == 1) {
		hex(out, 184, 184, 190);	/* the process row of a syscall graph */
		return;
	}
	if (p == PAL_HASH) {
		hsl(out, v1 * 360, 0.45 + v2 * 0.25, 0.62 + v3 * 0.1);
		return;
	}
	/* hot, with the stackcollapse annotations in their own hues */
	if (ends(name, len, "_[k]"))
		hex(out, 215 + 40 * v1, 115 + 60 * v2, 0 + 40 * v3);
	else if (ends(name, len, "_[j]") || ends(name, len, "_[js]"))
		hex(out, 40 + 60 * v1, 175 + 60 * v2, 40 + 60 * v3);
	else if (ends(name, len, "_[i]"))
		hex(out, 60 + 60 * v1, 190 + 50 * v2, 190 + 50 * v3);
	else
		hex(out, 205 + 50 * v1, 230 * v2, 55 * v3);
}
