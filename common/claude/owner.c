#include <stdlib.h>
#include <unistd.h>

#include "owner.h"

static int
sudo_ids(uid_t *uid, gid_t *gid)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *end;
	unsigned long v;

	if (geteuid() != 0 || u == NULL || g == NULL)
		return 0;
	v = strtoul(u, &end, 10);
	if (*u == '\0' || *end)
		return 0;
	*uid = (uid_t)v;
	v = strtoul(g, &end, 10);
	if (*g == '\0' || *end)
		return 0;
	*gid = (gid_t)v;
	return 1;
}

int
owner_fix(const char *path)
{
	uid_t uid;
	gid_t gid;

	if (!sudo_ids(&uid, &gid))
		return 0;
	return lchown(path, uid, gid);
}

int
owner_fix_fd(int fd)
{
	uid_t uid;
	gid_t gid;

	if (!sudo_ids(&uid, &gid))
		return 0;
	return fchown(fd, uid, gid);
}
