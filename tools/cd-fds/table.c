/* --table: the same facts for a person at a terminal. */
#include <stdio.h>
#include <string.h>

#include "cdfds.h"
#include "color.h"

void
table_print(const struct ctx *c, const struct proc_fds *p)
{
	char buf[512], flags[128];
	int fw = 5;	/* strlen("FLAGS") */

	printf("%sPID %d (%s): %zu open file descriptors%s", color(C_BOLD), p->pid,
	    p->scan.comm, p->scan.n, color(C_RESET));
	if (p->nofile_soft > 0)
		printf(", soft limit %lld", (long long)p->nofile_soft);
	printf("\n  kinds:");
	for (int k = 0; k < FDK__COUNT; k++)
		if (p->by_kind[k] > 0)
			printf(" %s %ld", fd_kind_name((enum fd_kind)k), p->by_kind[k]);
	printf("\n");
	if (p->tcp_total > 0) {
		printf("  tcp:");
		for (int st = 0; st < ST_COUNT; st++)
			if (p->conn_by_state[st] > 0)
				printf(" %s %ld", sock_state_name(SP_TCP, st), p->conn_by_state[st]);
		printf("\n");
	}
	if (p->by_kind[FDK_INOTIFY] > 0) {
		printf("  inotify: %ld watches in %ld instances", p->inotify_watches,
		    p->by_kind[FDK_INOTIFY]);
		if (p->have_user && c->ilim.max_user_watches > 0)
			printf("; user total %ld of %lld", p->user.watches,
			    (long long)c->ilim.max_user_watches);
		printf("\n");
	}
	if (p->samples > 1)
		printf("  growth: %.2f fds/s over %.1f s (%d samples)\n", p->slope_total,
		    p->span_s, p->samples);
	if (c->o->no_fds)
		return;
	/* The flags column as wide as its widest entry: columns stay aligned. */
	for (size_t i = 0; i < p->scan.n; i++) {
		const struct fd_info *fi = &p->scan.v[i];
		int n;

		if (!fi->have_fdinfo)
			continue;
		fdscan_flags_str(fi->flags, flags, sizeof(flags));
		n = (int)strlen(flags);
		if (n > fw)
			fw = n;
	}
	printf("  %5s %-9s %-*s %10s  %s\n", "FD", "KIND", fw, "FLAGS", "POS",
	    "DESCRIPTION");
	for (size_t i = 0; i < p->scan.n; i++) {
		const struct fd_info *fi = &p->scan.v[i];
		const char *desc = fd_describe(p, i, buf, sizeof(buf));

		if (fi->have_fdinfo)
			fdscan_flags_str(fi->flags, flags, sizeof(flags));
		else
			strcpy(flags, "-");
		printf("  %5d %-9s %-*s %10lld  %s%s%s\n", fi->fd, fd_kind_name(fi->kind), fw, flags,
		    (long long)fi->pos, fi->deleted ? color(C_YELLOW) : "", desc,
		    fi->deleted ? color(C_RESET) : "");
	}
}

void
table_diagnosis(const cJSON *d)
{
	const char *sev = rec_get_str(d, "severity");
	enum color col = sev && strcmp(sev, "critical") == 0 ? C_RED :
	    sev && strcmp(sev, "warning") == 0 ? C_YELLOW : C_CYAN;

	printf("  %s%s%s: %s: %s\n    remedy: %s\n", color(col), sev ? sev : "?", color(C_RESET),
	    rec_get_str(d, "issue"), rec_get_str(d, "description"), rec_get_str(d, "remedy"));
}
