/*
 * Inotify watch paths. fdinfo gives each watch's file handle; with
 * CAP_DAC_READ_SEARCH, open_by_handle_at on any mount of the same
 * filesystem opens the inode and /proc/self/fd tells its path. Without
 * the capability the kernel says EPERM and we keep device and inode.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdscan.h"
#include "fdscan_impl.h"
#include "msg.h"

struct mnt {
	unsigned major, minor;
	int fd;			/* O_PATH fd on a mount of it, -1 none */
	int depth;		/* of its root within the filesystem: prefer "/" */
};

static struct mnt *mnts;
static size_t nmnts;
static int mnts_loaded, no_permission;

static int
root_depth(const char *root)
{
	int d = 0;

	for (; *root; root++)
		d += *root == '/';
	return strcmp(root, "/") == 0 ? 0 : d;
}

/*
 * One mount per device, the one showing most of the filesystem. Opened
 * for reading, not O_PATH: open_by_handle_at rejects O_PATH mount fds.
 */
static void
load_mounts(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];

	mnts_loaded = 1;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char root[2048], mp[2048];
		unsigned maj, min;
		size_t i;
		int depth;

		if (sscanf(line, "%*d %*d %u:%u %2047s %2047s", &maj, &min, root, mp) != 4)
			continue;
		depth = strcmp(root, "/") == 0 ? 0 : root_depth(root) + 1;
		for (i = 0; i < nmnts; i++)
			if (mnts[i].major == maj && mnts[i].minor == min)
				break;
		if (i < nmnts && mnts[i].depth <= depth)
			continue;
		if (i == nmnts) {
			mnts = xreallocarray(mnts, nmnts + 1, sizeof(*mnts));
			nmnts++;
		} else if (mnts[i].fd >= 0) {
			close(mnts[i].fd);
		}
		mnts[i].major = maj;
		mnts[i].minor = min;
		mnts[i].depth = depth;
		/* mountinfo escapes blanks as \040; such mounts are rare, skip them. */
		mnts[i].fd = strchr(mp, '\\') ? -1 : open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK);
	}
	fclose(f);
}

static int
mount_fd(unsigned maj, unsigned min)
{
	if (!mnts_loaded)
		load_mounts();
	for (size_t i = 0; i < nmnts; i++)
		if (mnts[i].major == maj && mnts[i].minor == min)
			return mnts[i].fd;
	return -1;
}

static char *
resolve(const struct fd_watch *w)
{
	struct {
		struct file_handle fh;
		unsigned char bytes[128];
	} h;
	char link[64], path[4096];
	int mfd, fd;
	ssize_t n;

	if (no_permission || w->handle_bytes == 0 || w->handle_bytes > sizeof(h.bytes))
		return NULL;
	if ((mfd = mount_fd(w->dev_major, w->dev_minor)) < 0)
		return NULL;
	h.fh.handle_bytes = w->handle_bytes;
	h.fh.handle_type = w->handle_type;
	memcpy(h.fh.f_handle, w->handle, w->handle_bytes);
	if ((fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC)) < 0) {
		/* Not privileged: no point trying the rest. */
		if (errno == EPERM)
			no_permission = 1;
		return NULL;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	return xstrdup(path);
}

void
fdscan_resolve_watches(struct fd_scan *s, size_t max)
{
	size_t done = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct fd_info *fi = &s->v[i];

		for (int j = 0; j < fi->nwatches; j++) {
			if (max != 0 && done >= max)
				return;
			done++;
			if (fi->watches[j].path != NULL)
				continue;
			fi->watches[j].path = resolve(&fi->watches[j]);
			if (fi->watches[j].path != NULL)
				s->st.watches_resolved++;
			else
				s->st.watches_unresolved++;
		}
	}
}

void
fdscan_resolve_cleanup(void)
{
	for (size_t i = 0; i < nmnts; i++)
		if (mnts[i].fd >= 0)
			close(mnts[i].fd);
	free(mnts);
	mnts = NULL;
	nmnts = 0;
	mnts_loaded = 0;
	no_permission = 0;
	fdscan_bpf_cleanup();
}
