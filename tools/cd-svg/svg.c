/* The SVG document: header, controls, and one <g> per drawn frame. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "intern.h"
#include "msg.h"
#include "record.h"
#include "svg.h"

#define PAD 10
#define CHAR_W 0.59		/* average glyph width per px of font size */

static void escape_valid(FILE *out, const char *s, size_t n);

void
xml_escape(FILE *out, const char *s, size_t n)
{
	char *clean;

	if (utf8_valid(s, n) && memchr(s, '\0', n) == NULL) {
		escape_valid(out, s, n);
		return;
	}
	clean = utf8_sanitize(s, n);
	escape_valid(out, clean, strlen(clean));
	free(clean);
}

/* s is valid UTF-8 without NULs. */
static void
escape_valid(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		const char *rep = NULL;
		unsigned char c = p[i];

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default:
			/* XML 1.0 has no C0 controls but tab/newline/CR, and
			 * no U+FFFE/U+FFFF: they become U+FFFD. */
			if (c < 0x20 && c != '\t')
				rep = "\xef\xbf\xbd";
			else if (c == 0xef && i + 2 < n && p[i + 1] == 0xbf &&
			    (p[i + 2] == 0xbe || p[i + 2] == 0xbf)) {
				rep = "\xef\xbf\xbd";
				fwrite(s + i - run, 1, run, out);
				fputs(rep, out);
				run = 0;
				i += 2;
				continue;
			}
		}
		if (rep == NULL) {
			run++;
			continue;
		}
		fwrite(s + i - run, 1, run, out);
		fputs(rep, out);
		run = 0;
	}
	fwrite(s + n - run, 1, run, out);
}

static void
xml_str(FILE *out, const char *s)
{
	xml_escape(out, s, strlen(s));
}

/* Bytes of the first k code points of s[0..n). */
static size_t
utf8_prefix(const char *s, size_t n, size_t k)
{
	size_t i = 0;

	while (i < n && k > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		k--;
	}
	return i;
}

static size_t
utf8_chars(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

struct ctx {
	FILE *out;
	const struct tree *t;
	const struct svg_opts *o;
	enum palette pal;
	double scale;
	int top, maxdepth, base;
	double maxdelta;	/* two-column input: largest |share change| */
};

/*
 * Two-column input: how much a frame's share grew, after minus before,
 * each as a fraction of its own capture's total, so that a longer second
 * capture does not paint everything red. By default the share is the
 * frame's total (itself and below): a function whose time doubled is red
 * even when some of it moved into its callees (or into the kernel frames
 * an interrupt leaves under it). With self (flamegraph.pl's choice) it is
 * the frame's own samples only, which points at the exact frame that
 * changed; flamegraph.pl uses the raw self delta, which agrees on input
 * difffolded.pl -n has scaled. Positive: grew.
 */
static double
share_delta(const struct tree *t, uint32_t id, int self, int negate)
{
	const struct node *nd = &t->v[id];
	uint64_t a = nd->total, b = nd->other;
	double ta = (double)t->v[0].total, tb = (double)t->v[0].other, d;

	for (uint32_t ch = self ? nd->child : 0; ch; ch = t->v[ch].sibling) {
		a -= t->v[ch].total < a ? t->v[ch].total : a;
		b -= t->v[ch].other < b ? t->v[ch].other : b;
	}
	/* total: the last column (after); other: the first (before) */
	d = (ta > 0 ? (double)a / ta : 0) - (tb > 0 ? (double)b / tb : 0);
	return negate ? -d : d;
}

/* flamegraph.pl's color_scale(): white, to red for growth, to blue for loss. */
static void
delta_color(double d, double max, char out[8])
{
	int v = max > 0 ? (int)(210 * (max - fabs(d)) / max) : 210;

	if (d > 0)
		snprintf(out, 8, "#ff%02x%02x", v & 0xff, v & 0xff);
	else if (d < 0)
		snprintf(out, 8, "#%02x%02xff", v & 0xff, v & 0xff);
	else
		snprintf(out, 8, "#ffffff");
}

static double
pct_of(uint64_t n, uint64_t total)
{
	return total ? 100.0 * (double)n / (double)total : 0;
}

/*
 * "; before 10 = 25.00%, after 30 = 50.00%, +20": both counts with their
 * shares of their own capture (what the colour compares), the columns in
 * the order they mean.
 */
static void
diff_text(const struct ctx *c, const struct node *nd)
{
	const struct node *r = &c->t->v[0];
	int neg = c->o->negate;
	uint64_t before = neg ? nd->total : nd->other, after = neg ? nd->other : nd->total;
	uint64_t tb = neg ? r->total : r->other, ta = neg ? r->other : r->total;

	fprintf(c->out, "; before %llu = %.2f%%, after %llu = %.2f%%, %s%llu",
	    (unsigned long long)before, pct_of(before, tb),
	    (unsigned long long)after, pct_of(after, ta),
	    after >= before ? "+" : "-", (unsigned long long)(after >= before ?
	    after - before : before - after));
}

struct item {
	uint32_t node;
	int depth, cat;
	uint64_t off;
};

static int
frame_y(const struct ctx *c, int depth)
{
	return c->o->inverted ? c->top + depth * c->o->frame_height
	    : c->top + (c->maxdepth - depth) * c->o->frame_height;
}

static void
emit_frame(const struct ctx *c, const struct item *it, double x, double w)
{
	const struct node *nd = &c->t->v[it->node];
	size_t len;
	const char *name = intern_str(c->t->names, nd->name, &len);
	char col[8], num[24];
	int y = frame_y(c, it->depth), fit;
	long double pct = c->t->v[0].total ?
	    (long double)nd->total * 100 / (long double)c->t->v[0].total : 0;

	if (c->t->diff == 1)
		delta_color(share_delta(c->t, it->node, c->o->self_delta, c->o->negate),
		    c->maxdelta, col);
	else
		palette_color(c->pal, name, len, it->depth, it->cat, col);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)nd->total);
	fputs("<g><title>", c->out);
	xml_escape(c->out, name, len);
	fprintf(c->out, " (%s ", num);
	xml_str(c->out, c->o->countname);
	fprintf(c->out, ", %.2Lf%%", pct);
	if (c->t->diff == 1)
		diff_text(c, nd);
	fprintf(c->out, ")</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>",
	    x, y, w, c->o->frame_height - 1, col);
	fit = (int)((w - 6) / (c->o->font_size * CHAR_W));
	if (fit >= 3) {
		fprintf(c->out, "<text x=\"%.1f\" y=\"%d\">", x + 3,
		    y + c->o->frame_height - 5);
		if (utf8_chars(name, len) <= (size_t)fit) {
			xml_escape(c->out, name, len);
		} else {
			xml_escape(c->out, name, utf8_prefix(name, len, (size_t)fit - 2));
			fputs("..", c->out);
		}
		fputs("</text>", c->out);
	}
	fputs("</g>\n", c->out);
}

/*
 * Preorder walk, explicit stack (a folded line can be a million frames
 * deep). With emit 0 it only measures the deepest drawn frame.
 */
static int
walk(struct ctx *c, int emit)
{
	const struct tree *t = c->t;
	struct item *st = NULL, *kids = NULL;
	size_t n = 0, cap = 0, kcap = 0;
	int maxdepth = 0;

	st = xmalloc(sizeof(*st) * (cap = 256));
	st[n++] = (struct item){ 0, 0, -1, 0 };
	while (n > 0) {
		struct item it = st[--n];
		const struct node *nd = &t->v[it.node];
		double w = (double)nd->total * c->scale;
		uint64_t off = it.off;
		size_t k = 0;

		if ((w < c->o->minwidth || nd->total == 0) && it.node != 0)
			continue;
		if (it.depth > maxdepth)
			maxdepth = it.depth;
		if (emit)
			emit_frame(c, &it, PAD + (double)it.off * c->scale, w);
		for (uint32_t ch = nd->child; ch; ch = t->v[ch].sibling) {
			size_t len;
			const char *nm = intern_str(t->names, t->v[ch].name, &len);
			int cat = it.cat;

			if (cat < 0 && c->pal == PAL_CATEGORY)
				cat = palette_category(nm, len);
			if (k == kcap) {
				kcap = kcap ? kcap * 2 : 64;
				kids = xreallocarray(kids, kcap, sizeof(*kids));
			}
			kids[k++] = (struct item){ ch, it.depth + 1, cat, off };
			off += t->v[ch].total;
		}
		if (n + k > cap) {
			cap = (n + k) * 2;
			st = xreallocarray(st, cap, sizeof(*st));
		}
		while (k > 0)
			st[n++] = kids[--k];
	}
	free(st);
	free(kids);
	return maxdepth;
}

/* A syscall graph: categories as children (or grandchildren...) of each root. */
static int
category_level(const struct tree *t, uint32_t node, int levels)
{
	int any = 0;

	for (uint32_t ch = t->v[node].child; ch; ch = t->v[ch].sibling) {
		size_t len;
		const char *nm = intern_str(t->names, t->v[ch].name, &len);

		any = 1;
		if (palette_category(nm, len) >= 0)
			continue;
		if (levels == 0 || !category_level(t, ch, levels - 1))
			return 0;
	}
	return any;
}

static void
header(struct ctx *c, int height)
{
	const struct svg_opts *o = c->o;
	double w = o->width;

	fprintf(c->out,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
	    "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%d\" "
	    "viewBox=\"0 0 %.0f %d\" onload=\"cdInit()\">\n"
	    "<style>%s</style>\n<script type=\"text/ecmascript\"><![CDATA[%s]]></script>\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"#f6f6f2\"/>\n",
	    w, height, w, height, svg_style, svg_script);
	fprintf(c->out, "<text id=\"title\" x=\"%.1f\" y=\"24\">", w / 2);
	xml_str(c->out, o->title);
	fputs("</text>\n", c->out);
	if (o->subtitle) {
		fprintf(c->out, "<text id=\"subtitle\" x=\"%.1f\" y=\"44\">", w / 2);
		xml_str(c->out, o->subtitle);
		fputs("</text>\n", c->out);
	}
	if (c->t->diff == 1) {
		const struct node *r = &c->t->v[0];

		fprintf(c->out, "<text id=\"legend\" x=\"%.1f\" y=\"%d\">"
		    "red: %sshare grew, blue: shrank; widths: %s; "
		    "before %llu, after %llu</text>\n", w / 2, o->subtitle ? 62 : 44,
		    o->self_delta ? "self " : "", o->negate ? "before" : "after",
		    (unsigned long long)(o->negate ? r->total : r->other),
		    (unsigned long long)(o->negate ? r->other : r->total));
	}
	fprintf(c->out, "<text id=\"reset\" x=\"%d\" y=\"24\">Reset Zoom</text>\n", PAD);
	fprintf(c->out, "<foreignObject x=\"%.0f\" y=\"8\" width=\"230\" height=\"26\">"
	    "<input xmlns=\"http://www.w3.org/1999/xhtml\" id=\"search\" type=\"text\" "
	    "placeholder=\"search (regex)\" title=\"regular expression; Esc clears\"/>"
	    "</foreignObject>\n", w - PAD - 230);
	fprintf(c->out, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", PAD, height - 10);
	fprintf(c->out, "<text id=\"matched\" x=\"%.0f\" y=\"%d\"> </text>\n", w - PAD, height - 10);
}

int
svg_write(FILE *out, const struct tree *t, const struct svg_opts *o)
{
	struct ctx c = { .out = out, .t = t, .o = o, .pal = o->palette };
	int height;
	char total[24];

	if (c.pal == PAL_AUTO)
		c.pal = category_level(t, 0, 2) ? PAL_CATEGORY : PAL_HOT;
	c.top = (o->subtitle ? 56 : 40) + (t->diff == 1 ? 18 : 0);
	if (t->diff == 1)
		for (size_t i = 1; i < t->n; i++)
			c.maxdelta = fmax(c.maxdelta,
			    fabs(share_delta(t, (uint32_t)i, o->self_delta, 0)));
	c.scale = t->v[0].total ? (o->width - 2 * PAD) / (double)t->v[0].total : 0;
	if (t->v[0].total == 0) {
		height = c.top + 60;
		header(&c, height);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">No stack counts found</text>\n"
		    "<g id=\"frames\" data-fh=\"%d\" data-inv=\"0\" data-base=\"0\" data-w=\"%.0f\" data-pad=\"%d\" data-fs=\"%d\" data-cname=\"\"></g>\n</svg>\n",
		    o->width / 2, c.top + 24, o->frame_height, o->width, PAD, o->font_size);
		return ferror(out) ? -1 : 0;
	}
	c.maxdepth = walk(&c, 0);
	height = c.top + (c.maxdepth + 1) * o->frame_height + 30;
	header(&c, height);
	snprintf(total, sizeof(total), "%llu", (unsigned long long)t->v[0].total);
	fprintf(out, "<g id=\"frames\" data-fh=\"%d\" data-inv=\"%d\" data-base=\"%d\" "
	    "data-w=\"%.0f\" data-pad=\"%d\" data-fs=\"%d\" data-cname=\"",
	    o->frame_height, o->inverted, frame_y(&c, 0), o->width, PAD, o->font_size);
	xml_str(out, o->countname);
	fprintf(out, "\">\n");
	walk(&c, 1);
	fputs("</g>\n</svg>\n", out);
	return ferror(out) ? -1 : 0;
}
