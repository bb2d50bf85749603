/*
 * The /proc/net fallback for sock_diag: the same facts, as text, without
 * unix peers. Also the only view into another network namespace without
 * setns(2), as /proc/PID/net shows the namespace of PID.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sockdiag.h"
#include "sockdiag_impl.h"

/* "0100007F:1F90": the address as the kernel's raw 32-bit words, port in hex. */
static int
parse_hexaddr(const char *s, int family, char *out, size_t len, int *port)
{
	uint32_t w[4];
	unsigned p;
	int nw = family == AF_INET6 ? 4 : 1;

	for (int i = 0; i < nw; i++) {
		unsigned v;

		if (sscanf(s + 8 * i, "%8x", &v) != 1)
			return -1;
		w[i] = v;
	}
	if (s[8 * nw] != ':' || sscanf(s + 8 * nw + 1, "%x", &p) != 1)
		return -1;
	if (inet_ntop(family, w, out, (socklen_t)len) == NULL)
		return -1;
	*port = (int)p;
	return 0;
}

int
sockdiag_parse_inet_line(const char *line, int family, struct sock_ent *e)
{
	char local[64], remote[64];
	unsigned st, tx, rx;
	unsigned long long ino;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, " %*d: %63s %63s %x %x:%x %*x:%*x %*x %*u %*d %llu",
	    local, remote, &st, &tx, &rx, &ino) != 6)
		return -1;
	if (parse_hexaddr(local, family, e->local_addr, sizeof(e->local_addr), &e->local_port) < 0 ||
	    parse_hexaddr(remote, family, e->remote_addr, sizeof(e->remote_addr), &e->remote_port) < 0)
		return -1;
	e->family = family;
	e->state = (int)st;
	e->wq = tx;
	e->rq = rx;
	e->ino = ino;
	return 0;
}

int
sockdiag_parse_unix_line(const char *line, struct sock_ent *e)
{
	unsigned flags, type, st;
	unsigned long long ino;
	int n = 0;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%*x: %*x %*x %x %x %x %llu%n", &flags, &type, &st, &ino, &n) != 4)
		return -1;
	e->proto = SP_UNIX;
	e->family = AF_UNIX;
	e->type = (int)type;
	e->ino = ino;
	/* SS_CONNECTED is 3; __SO_ACCEPTCON marks a listener. */
	e->state = (flags & 0x10000) ? 10 : st == 3 ? 1 : 7;
	line += n;
	while (*line == ' ')
		line++;
	if (*line != '\0' && *line != '\n') {
		size_t l = strcspn(line, "\n");

		e->path = strndup(line, l);
	}
	return 0;
}

int
socktab_load_procfs(struct sock_table *t, const char *file)
{
	char path[256], line[4096];
	int is_unix = strcmp(file, "unix") == 0;
	int family = strchr(file, '6') ? AF_INET6 : AF_INET;
	enum sock_proto proto = strncmp(file, "tcp", 3) == 0 ? SP_TCP : SP_UDP;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/%s", t->proc_root, file);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) == NULL) {	/* header */
		fclose(f);
		return 0;
	}
	while (t->missing > 0 && fgets(line, sizeof(line), f) != NULL) {
		struct sock_ent e;
		int rc = is_unix ? sockdiag_parse_unix_line(line, &e)
		    : sockdiag_parse_inet_line(line, family, &e);

		if (rc < 0)
			continue;
		if (!is_unix)
			e.proto = proto;
		if (socktab_slot(t, e.ino) != NULL)
			socktab_offer(t, &e);
		free(e.path);
	}
	fclose(f);
	return 0;
}
