/* Internals shared by the sock_diag backends; not for tools. */
#ifndef CD_SOCKDIAG_IMPL_H
#define CD_SOCKDIAG_IMPL_H

#include "sockdiag.h"

struct sock_table {
	struct sock_ent *v;	/* open addressing on ino; ino 0 = empty */
	size_t cap, n;
	size_t missing;		/* wanted and not yet found */
	unsigned loaded;	/* sources already read */
	int use_netlink;
	char *proc_root;	/* "/proc/self" or "/proc/PID" */
	char *fallback_reason;
	unsigned long dumps;
};

struct sock_ent *socktab_slot(const struct sock_table *t, uint64_t ino);
void socktab_offer(struct sock_table *t, const struct sock_ent *e);
/* Read proc_root/net/<file>; 0, or -1 with errno. */
int socktab_load_procfs(struct sock_table *t, const char *file);

#endif
