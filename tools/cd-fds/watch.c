/*
 * --watch: a leak is a slope, not a count. Every target is sampled each
 * interval (kinds only, no fdinfo) and the growth rate per kind is the
 * least-squares slope over all samples, so one burst does not read as a
 * trend the way first-to-last would.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cdfds.h"
#include "msg.h"
#include "procinfo.h"
#include "units.h"

double
slope(const double *x, const double *y, int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, d;

	if (n < 2)
		return 0;
	for (int i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	d = n * sxx - sx * sx;
	if (d == 0)
		return 0;
	return (n * sxy - sx * sy) / d;
}

static void
add_sample(struct series *s, double t, struct proc_fds *p)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->t = xreallocarray(s->t, (size_t)s->cap, sizeof(*s->t));
		s->total = xreallocarray(s->total, (size_t)s->cap, sizeof(*s->total));
		s->kind = xreallocarray(s->kind, (size_t)s->cap, sizeof(*s->kind));
	}
	s->t[s->n] = t;
	s->total[s->n] = (long)p->scan.n;
	memcpy(s->kind[s->n], p->by_kind, sizeof(p->by_kind));
	s->n++;
	if (s->have_last)
		proc_fds_release(&s->last);
	s->last = *p;
	s->have_last = 1;
}

void
watch_run(struct ctx *c, struct series *s, size_t n, volatile int *stop)
{
	uint64_t start = now_mono_ns(), next = start;
	uint64_t step = (uint64_t)(c->o->interval_s * 1e9);
	uint64_t end = start + (uint64_t)(c->o->watch_s * 1e9);
	size_t alive = n;

	for (;;) {
		double t = (double)(now_mono_ns() - start) / 1e9;

		for (size_t i = 0; i < n; i++) {
			struct proc_fds p;
			int err;

			if (s[i].err != 0)
				continue;
			if ((err = collect(c, s[i].pid, 0, &p)) != 0) {
				s[i].err = err;
				alive--;
				continue;
			}
			/*
			 * Read during do_exit() the table may be half closed
			 * (a CI run reported 0 of 4 watches): keep the
			 * previous sample as the last.
			 */
			if (procinfo_exiting(s[i].pid)) {
				proc_fds_release(&p);
				s[i].err = ESRCH;
				alive--;
				continue;
			}
			add_sample(&s[i], t, &p);
		}
		if (alive == 0 || *stop)
			break;
		next += step;
		if (next > end)
			break;
		uint64_t now = now_mono_ns();

		if (next > now)
			sleep_ns(next - now, stop);
		if (*stop)
			break;
	}
}

void
watch_slopes(const struct series *s, struct proc_fds *p)
{
	double *y;

	if (s->n == 0)
		return;
	y = xcalloc((size_t)s->n, sizeof(*y));
	p->samples = s->n;
	p->span_s = s->t[s->n - 1] - s->t[0];
	p->first_total = s->total[0];
	for (int i = 0; i < s->n; i++)
		y[i] = (double)s->total[i];
	/* Rounded to a thousandth, so a flat count reads 0, not 1e-17. */
	p->slope_total = round(slope(s->t, y, s->n) * 1000) / 1000;
	for (int k = 0; k < FDK__COUNT; k++) {
		for (int i = 0; i < s->n; i++)
			y[i] = (double)s->kind[i][k];
		p->slope_kind[k] = round(slope(s->t, y, s->n) * 1000) / 1000;
	}
	free(y);
}

void
series_release(struct series *s)
{
	free(s->t);
	free(s->total);
	free(s->kind);
	if (s->have_last)
		proc_fds_release(&s->last);
	memset(s, 0, sizeof(*s));
}
