/* cd-svg: folded stacks in, one self-contained interactive SVG out. */
#ifndef CD_SVG_H
#define CD_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pairidx.h"

struct intern;

enum palette { PAL_AUTO, PAL_HOT, PAL_CATEGORY, PAL_HASH };

struct svg_opts {
	const char *title, *subtitle, *countname;
	double width, minwidth;
	int frame_height, font_size;
	enum palette palette;
	int reverse;		/* leaf first: each stack reversed before merging */
	int inverted;		/* icicle: root at the top */
	int negate;		/* two-column input is "after before": hues switched */
	int self_delta;		/* colour by the change of self, not total, share */
	int quiet, strict;
};

struct node {
	uint32_t name;		/* interned */
	uint32_t parent, child, sibling;	/* 0 = none (node 0 is the root) */
	uint64_t total;		/* the last column: what widths are drawn by */
	uint64_t other;		/* two-column input: the first column */
};

struct tree {
	struct intern *names;
	struct node *v;
	size_t n, cap;
	struct pairidx idx;	/* (parent, name) -> node */
	int saturated;
	/*
	 * 1 for two-column input ("stack COUNT_A COUNT_B", difffolded.pl,
	 * cd-fold --diff), 0 for one; -1 while undecided, the lines so far
	 * held in pending (see tree.c).
	 */
	int diff;
	char **pending;
	size_t *pending_len, npending, pending_bytes;
	int pending_reverse;
	/* reading */
	unsigned long lineno, bad;
	uint32_t *path;
	size_t pathcap;
};

void tree_init(struct tree *t);
void tree_release(struct tree *t);
/*
 * Add one folded line; returns 0, 1 for a blank line, or -1 with *why set
 * for a malformed one. Invalid UTF-8 in names is replaced, never rejected.
 */
int tree_add_line(struct tree *t, const char *line, size_t len, int reverse,
    const char **why);
/* After the last line: settles one- or two-column if still open. */
void tree_end(struct tree *t);
/* Children in name order, so equal inputs draw equal graphs (calls tree_end). */
void tree_sort(struct tree *t);
/* Read and parse a whole buffer (the fuzz harness entry). */
void tree_add_buffer(struct tree *t, const char *buf, size_t len, int reverse);

/* Colour of a frame as "#rrggbb" into out[8]; cat is a category index or -1. */
void palette_color(enum palette p, const char *name, size_t len, int depth,
    int cat, char out[8]);
/* Index of a syscall category name (file, network, ...), or -1. */
int palette_category(const char *name, size_t len);

/* Write the SVG. Returns 0, or -1 on a write error. */
int svg_write(FILE *out, const struct tree *t, const struct svg_opts *o);
/* XML text with every special character escaped and only valid XML chars. */
void xml_escape(FILE *out, const char *s, size_t n);

extern const char svg_script[];
extern const char svg_style[];

#endif
