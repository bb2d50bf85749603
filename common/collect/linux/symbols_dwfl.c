/*
 * The symbolizer (symbols.h) on elfutils' libdwfl.
 *
 * libdwfl does the ELF work: it reports the modules of /proc/PID/maps,
 * opens each file once, and for symbols tries .symtab, then separate
 * debuginfo found by build-id or debuglink under /usr/lib/debug, then
 * MiniDebugInfo (.gnu_debugdata, xz; Debian's libdw is built with lzma),
 * then .dynsym. What it cannot do -- JIT code, kernel addresses, C++
 * demangling -- is here: the perf map, /proc/kallsyms, and libstdc++'s
 * __cxa_demangle (the C++ runtime's own demangler, linked with -lstdc++;
 * elfutils has none).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <linux/perf_event.h>

#include "hashmap.h"
#include "intern.h"
#include "jitdump.h"
#include "msg.h"
#include "symbols.h"
#include "units.h"

/*
 * A JIT address bound to a jitdump load by sym_stamp: bit 62 and the
 * load's index. No user-space address has bit 62 set; kernel addresses
 * do, but are never stamped and are looked up with SYM_F_KERNEL.
 */
#define JD_TAG (1ull << 62)
#define JD_TAG_MASK (JD_TAG - 1)
/* A frame named from the target's stack (sym_js_token): bit 61 and its name's id. */
#define JS_TAG (1ull << 61)

char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* An address range with a name: perf-map entries and kernel symbols. */
struct range {
	uint64_t start, size;
	size_t seq;		/* order of appearance: later wins a tie */
	char *name;
};

struct rangetab {
	struct range *v;
	size_t n, cap;
};

struct cache_ent {
	const char *name;
	enum sym_kind kind;
};

/* An executable file mapping from /proc/PID/maps. */
struct xmap {
	uint64_t start, end, pgoff;
	char *path;
};

/* An anonymous executable mapping: JIT code. */
struct amap {
	uint64_t start, end;
};

/*
 * What a module is beyond its symbols: where its functions start (the
 * FDE table), whether it is a JSC binary, and where its LLInt is.
 */
struct modinfo {
	char *path;
	int32_t *fdes;		/* .eh_frame_hdr's sorted FDE starts, from fde_base */
	size_t nfdes;
	uint64_t fde_base;
	int jsc;
	uint64_t llint_lo, llint_hi;	/* ELF vaddrs; lo == hi: not found */
	const char *llint_how;
};

struct symbolizer {
	pid_t pid;
	Dwfl *dwfl;
	struct xmap *maps;	/* sorted by start */
	size_t nmaps;
	struct rangetab jit;
	off_t jit_size;		/* size of the perf map when last read */
	struct hmap cache;	/* address << 1 | kernel -> index + 1 in names */
	struct cache_ent *names;
	size_t nnames, names_cap;
	struct amap *amaps;		/* sorted by start */
	size_t namaps, acap;
	char *marker;			/* the jitdump the process maps, or NULL */
	char *files;			/* maps' file lines when last reported */
	uint64_t maps_next_ns;		/* sym_refresh_budget: no read before */
	struct jitdump *jd;
	char *jd_path;
	struct modinfo *mods;
	size_t nmods;
	struct intern *js;		/* names of sym_js_token */
	struct sym_stats st;
};

static char *jitdump_dir;

static int is_jitdump_name(const char *path);
static void probe_modules(struct symbolizer *s);

static char *debuginfo_path;

static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* ---- sorted address ranges ---- */

static void
range_add(struct rangetab *t, uint64_t start, uint64_t size, const char *name)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n].start = start;
	t->v[t->n].size = size;
	t->v[t->n].seq = t->n;
	t->v[t->n].name = xstrdup(name);
	t->n++;
}

static int
range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
range_free(struct rangetab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* The last range starting at or below ip that contains it, or NULL. */
static const struct range *
range_find(const struct rangetab *t, uint64_t ip)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->v[mid].start <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct range *r = &t->v[lo - 1];
	return ip - r->start < r->size ? r : NULL;
}

/* ---- kernel symbols, loaded once per program ---- */

static struct rangetab ksyms;
static int ksyms_state;		/* 0 not tried, 1 usable, -1 unusable */

static void
ksyms_load(void)
{
	FILE *f;
	char line[512];

	ksyms_state = -1;
	f = fopen("/proc/kallsyms", "re");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		char type, name[256];
		uint64_t addr;

		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3)
			continue;
		if (addr == 0 || (type != 't' && type != 'T' && type != 'W' &&
		    type != 'w'))
			continue;
		range_add(&ksyms, addr, 0, name);
	}
	fclose(f);
	if (ksyms.n == 0)
		return;		/* kptr_restrict hides the addresses */
	qsort(ksyms.v, ksyms.n, sizeof(*ksyms.v), range_cmp);
	/* A kernel symbol reaches to the next one. */
	for (size_t i = 0; i + 1 < ksyms.n; i++)
		ksyms.v[i].size = ksyms.v[i + 1].start - ksyms.v[i].start;
	ksyms.v[ksyms.n - 1].size = 1 << 20;
	ksyms_state = 1;
}

/* ---- the JIT perf map ---- */

static uid_t
proc_uid(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (stat(path, &st) != 0)
		return (uid_t)-1;
	return st.st_uid;
}

/*
 * /tmp is world-writable: only believe a map owned by the target's user
 * (or root), and never follow a symlink there (perf does the same).
 */
static void
jit_load(struct symbolizer *s)
{
	char path[64], line[4096];
	struct stat st;
	uid_t uid;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)s->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	uid = proc_uid(s->pid);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == s->jit_size ||
	    (st.st_uid != 0 && uid != (uid_t)-1 && st.st_uid != uid)) {
		close(fd);
		return;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return;
	}
	range_free(&s->jit);
	s->jit_size = st.st_size;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, size;
		int n = 0;
		size_t len = strlen(line);

		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			int c;	/* over-long: skip the rest of the line */

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			continue;
		}
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size, &n) != 2 ||
		    n == 0 || line[n] == '\0' || size == 0)
			continue;
		range_add(&s->jit, start, size, line + n);
	}
	fclose(f);
	/* Code moves: of entries with equal starts, the later one wins. */
	qsort(s->jit.v, s->jit.n, sizeof(*s->jit.v), range_cmp);
	s->st.jit_map = s->jit.n > 0;
}

/* ---- the jitdump ---- */

void
sym_jitdump_dir(const char *dir)
{
	free(jitdump_dir);
	jitdump_dir = dir ? xstrdup(dir) : NULL;
}

/* dir/jit-*-PID.dump, the name JavaScriptCore gives it, or NULL. */
static char *
jitdump_in_dir(const char *dir, pid_t pid)
{
	char suffix[32];
	struct dirent *d;
	char *found = NULL;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return NULL;
	snprintf(suffix, sizeof(suffix), "-%d.dump", (int)pid);
	while (found == NULL && (d = readdir(dp)) != NULL) {
		size_t l = strlen(d->d_name), sl = strlen(suffix);

		if (l > sl && is_jitdump_name(d->d_name) && strcmp(d->d_name + l - sl, suffix) == 0)
			found = xasprintf("%s/%s", dir, d->d_name);
	}
	closedir(dp);
	return found;
}

/*
 * The dump is the target's own file: read it only when it is a regular
 * file owned by the target's user (or root), never through a symlink --
 * the same trust as the perf map. Through /proc/PID/root when the target
 * lives in another mount namespace.
 */
static int
jitdump_open(struct symbolizer *s, const char *path)
{
	uid_t uid = proc_uid(s->pid);
	char alt[4200];
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(alt, sizeof(alt), "/proc/%d/root%s", (int)s->pid, path);
		fd = open(alt, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_uid != 0 && uid != (uid_t)-1 && st.st_uid != uid)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
jitdump_find(struct symbolizer *s)
{
	char *path = NULL;
	int fd;

	if (s->jd != NULL)
		return;
	if (s->marker != NULL)
		path = xstrdup(s->marker);
	else if (jitdump_dir != NULL)
		path = jitdump_in_dir(jitdump_dir, s->pid);
	if (path == NULL)
		return;
	if ((fd = jitdump_open(s, path)) < 0) {
		free(path);
		return;
	}
	s->jd = jd_open_fd(fd);
	s->jd_path = path;
	s->st.jitdump = path;
}

/* Read what the runtime has written since. */
static void
jitdump_update(struct symbolizer *s)
{
	if (s->jd == NULL)
		return;
	jd_update(s->jd);
	s->st.jitdump_loads = jd_count(s->jd);
	s->st.jitdump_bytes = jd_offset(s->jd);
	s->st.jitdump_error = jd_error(s->jd);
}

/* ---- the per-process cache of resolved addresses ---- */

static void
cache_add(struct symbolizer *s, uint64_t key, const char *name, enum sym_kind k)
{
	if (s->nnames == s->names_cap) {
		s->names_cap = s->names_cap ? s->names_cap * 2 : 1024;
		s->names = xreallocarray(s->names, s->names_cap, sizeof(*s->names));
	}
	s->names[s->nnames].name = name;
	s->names[s->nnames].kind = k;
	*hmap_insert(&s->cache, &key, sizeof(key), NULL) = (void *)(uintptr_t)++s->nnames;
}

/* ---- public ---- */

static void
xmaps_free(struct symbolizer *s)
{
	for (size_t i = 0; i < s->nmaps; i++)
		free(s->maps[i].path);
	free(s->maps);
	s->maps = NULL;
	s->nmaps = 0;
}

/*
 * The executable file mappings. libdwfl makes one module of all the
 * mappings of a file, from the lowest to the highest, so a file mapped
 * twice far apart (Node remaps V8's embedded builtins next to its JIT
 * heap) makes a module that spans anonymous JIT memory too. This table
 * says which addresses really are file-backed, and at which file offset.
 */
/* A jitdump's name, jit-*.dump, as the last part of path[0..len). */
static int
is_jitdump_name_n(const char *path, size_t len)
{
	const char *b = path + len;

	while (b > path && b[-1] != '/')
		b--;
	len -= (size_t)(b - path);
	return len > 9 && strncmp(b, "jit-", 4) == 0 &&
	    memcmp(b + len - 5, ".dump", 5) == 0;
}

static int
is_jitdump_name(const char *path)
{
	return is_jitdump_name_n(path, strlen(path));
}

static void
amap_add(struct symbolizer *s, uint64_t a, uint64_t b)
{
	if (s->namaps == s->acap) {
		s->acap = s->acap ? s->acap * 2 : 16;
		s->amaps = xreallocarray(s->amaps, s->acap, sizeof(*s->amaps));
	}
	s->amaps[s->namaps].start = a;
	s->amaps[s->namaps].end = b;
	s->namaps++;
}

/* The anonymous code mappings (JIT memory), from the maps' code lines. */
static void
amaps_load(struct symbolizer *s, const char *code)
{
	s->namaps = 0;
	for (const char *l = code; *l; l = strchr(l, '\n') + 1) {
		uint64_t a, b;
		int pos = 0;

		if (sscanf(l, "%" SCNx64 "-%" SCNx64 " %*s %*s %*s %*s %n",
		    &a, &b, &pos) == 2 && pos > 0 && l[pos] != '/' &&
		    l[pos] != '[')	/* not [vdso] and friends */
			amap_add(s, a, b);
	}
}

/* The executable file mappings, from the file lines of the maps. */
static int
xmaps_load(struct symbolizer *s, const char *files)
{
	struct xmap *v = NULL;
	size_t n = 0, cap = 0;

	for (const char *l = files; *l; l = strchr(l, '\n') + 1) {
		uint64_t a, b, off;
		char perms[8];
		int pos = 0;
		size_t len;

		if (sscanf(l, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n",
		    &a, &b, perms, &off, &pos) != 4 || pos == 0)
			continue;
		len = strcspn(l + pos, "\n");
		/*
		 * JIT runtimes map their jitdump (executable, for perf to see) as
		 * a marker: never code.
		 */
		if (l[pos] != '/')
			continue;	/* [anon:a/b]: a name, not a file */
		if (is_jitdump_name_n(l + pos, len)) {
			if (s->marker == NULL)
				s->marker = xasprintf("%.*s", (int)len, l + pos);
			continue;
		}
		if (perms[2] != 'x')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].start = a;
		v[n].end = b;
		v[n].pgoff = off;
		v[n].path = xasprintf("%.*s", (int)len, l + pos);
		n++;
	}
	if (n == 0) {
		free(v);
		return -1;	/* a zombie, or gone: keep what we knew */
	}
	xmaps_free(s);
	s->maps = v;	/* the kernel lists mappings in address order */
	s->nmaps = n;
	return 0;
}

static const struct xmap *
xmap_find(const struct symbolizer *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->maps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nmaps && s->maps[lo].start <= addr)
		return &s->maps[lo];
	return NULL;
}

/* File offset to the ELF's own virtual address, through its PT_LOADs. */
static int
file_to_vaddr(Elf *elf, uint64_t off, uint64_t *vaddr)
{
	size_t n;

	if (elf_getphdrnum(elf, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) == NULL || ph.p_type != PT_LOAD)
			continue;
		if (off >= ph.p_offset && off < ph.p_offset + ph.p_filesz) {
			*vaddr = off - ph.p_offset + ph.p_vaddr;
			return 0;
		}
	}
	return -1;
}

/*
 * /proc/PID/maps, whole, split into its lines naming a file (files) and
 * its anonymous code lines (code); the rest, most of a JIT runtime's
 * 3,000-odd lines of heap, is dropped. -1 with errno when it cannot be
 * read; a zombie's maps read empty: ESRCH.
 */
static int
maps_read(pid_t pid, char **files, char **code)
{
	char path[64], *buf = NULL, *f, *c;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 262144;
			buf = xrealloc(buf, cap + 1);
		}
		while ((n = read(fd, buf + len, cap - len)) < 0 && errno == EINTR)
			;
		len += n > 0 ? (size_t)n : 0;
	} while (n > 0);
	err = errno;
	close(fd);
	if (n < 0 || len == 0) {
		free(buf);
		errno = n < 0 ? err : ESRCH;
		return -1;
	}
	buf[len] = '\0';
	*files = f = xmalloc(len + 1);
	*code = c = xmalloc(len + 1);
	for (char *l = buf, *e; *l; l = e) {
		const char *perm = strchr(l, ' ');
		size_t ll;

		e = strchr(l, '\n');
		e = e ? e + 1 : l + strlen(l);
		ll = (size_t)(e - l);
		/* only names hold a '/'; the fields before are hex and digits */
		if (memchr(l, '/', ll) != NULL) {
			memcpy(f, l, ll);
			f += ll;
		} else if (perm != NULL && perm < e && perm[1] && perm[2] &&
		    perm[3] == 'x') {
			memcpy(c, l, ll);
			c += ll;
		}
	}
	*f = *c = '\0';
	free(buf);
	return 0;
}

/*
 * Replace the module list with what the maps say now (a module still
 * mapped is kept with its loaded tables; one unmapped, or the image
 * replaced by exec, goes). When the maps cannot be read -- the process
 * has gone -- keep the old list: its samples still need names. The
 * file lines change seldom (a JIT heap's lines, every 0.25 s): when they
 * have not, libdwfl is not asked again. Returns 1 then, 0 when the
 * modules were reported anew.
 */
static int
report_maps(struct symbolizer *s)
{
	char *files, *code;
	uint64_t t0 = now_mono_ns(), t1;
	int rc;

	if (maps_read(s->pid, &files, &code) < 0)
		return -1;
	/* A JIT heap's maps (3,486 lines) cost ~9 ms a read: 1% at most */
	t1 = now_mono_ns();
	s->maps_next_ns = t1 + 100 * (t1 - t0);
	amaps_load(s, code);
	free(code);
	if (s->files != NULL && strcmp(files, s->files) == 0) {
		free(files);
		return 1;
	}
	free(s->files);
	s->files = files;
	xmaps_load(s, files);
	dwfl_report_begin(s->dwfl);
	rc = dwfl_linux_proc_report(s->dwfl, s->pid);
	dwfl_report_end(s->dwfl, NULL, NULL);
	if (rc != 0) {
		free(s->files);		/* not reported: ask again next time */
		s->files = NULL;
	}
	if (rc > 0) {
		errno = rc;
		return -1;
	}
	if (rc < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int
count_module(Dwfl_Module *m, void **ud, const char *name, Dwarf_Addr a, void *arg)
{
	(void)m; (void)ud; (void)name; (void)a;
	(*(unsigned long *)arg)++;
	return DWARF_CB_OK;
}

struct symbolizer *
sym_open(pid_t pid)
{
	struct symbolizer *s = xcalloc(1, sizeof(*s));
	int saved;

	s->pid = pid;
	s->jit_size = -1;
	s->dwfl = dwfl_begin(&dwfl_cbs);
	if (s->dwfl == NULL) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	if (report_maps(s) < 0) {
		saved = errno;
		xmaps_free(s);
		dwfl_end(s->dwfl);
		free(s);
		errno = saved;
		return NULL;
	}
	dwfl_getmodules(s->dwfl, count_module, &s->st.modules, 0);
	jit_load(s);
	jitdump_find(s);
	jitdump_update(s);
	probe_modules(s);
	return s;
}

static int
refresh(struct symbolizer *s, int maps)
{
	int rc = maps ? report_maps(s) : 1;

	if (rc == 1)
		rc = 0;		/* the same files: the same modules */
	else if (rc == 0) {
		s->st.modules = 0;
		dwfl_getmodules(s->dwfl, count_module, &s->st.modules, 0);
		probe_modules(s);
	}
	jit_load(s);
	jitdump_find(s);
	jitdump_update(s);
	return rc;
}

int
sym_refresh(struct symbolizer *s)
{
	return refresh(s, 1);
}

int
sym_refresh_budget(struct symbolizer *s)
{
	return refresh(s, now_mono_ns() >= s->maps_next_ns);
}

static const char *
basename_of(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* The readable name: no symbol version (memcpy@@GLIBC_2.14), C++ demangled. */
static char *
demangle(const char *sym)
{
	const char *at = strchr(sym, '@');
	char *name = at && at > sym ? xasprintf("%.*s", (int)(at - sym), sym) : xstrdup(sym);
	int status = -1;
	char *d;

	if (name[0] != '_' || name[1] != 'Z')
		return name;
	d = __cxa_demangle(name, NULL, NULL, &status);
	if (d == NULL || status != 0) {
		free(d);
		return name;
	}
	free(name);
	return d;
}

static char *
resolve_jit(struct symbolizer *s, uint64_t addr, enum sym_kind *kind)
{
	const struct range *r = range_find(&s->jit, addr);

	if (r == NULL && s->jit_size >= 0) {
		jit_load(s);	/* the runtime may have written more since */
		r = range_find(&s->jit, addr);
	}
	if (r == NULL)
		return NULL;
	*kind = SYM_JIT;
	return xasprintf("%s_[j]", r->name);
}

/* ---- what a module is: JavaScriptCore's interpreter ---- */

static Elf_Scn *
section_named(Elf *elf, const char *want, GElf_Shdr *sh)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		const char *name;

		if (gelf_getshdr(scn, sh) == NULL)
			continue;
		name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name != NULL && strcmp(name, want) == 0)
			return scn;
	}
	return NULL;
}

/*
 * The sorted FDE start addresses of .eh_frame_hdr (its binary-search
 * table; libdw reads it but does not hand it out). Only the encoding
 * every GNU and LLVM linker writes (udata4 count, datarel sdata4 table).
 */
static int32_t *
fde_table(Elf *elf, uint64_t *base, size_t *n)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_named(elf, ".eh_frame_hdr", &sh);
	Elf_Data *d;
	const unsigned char *p;
	uint32_t count;
	int32_t *v;

	if (scn == NULL || (d = elf_getdata(scn, NULL)) == NULL || d->d_size < 12)
		return NULL;
	p = d->d_buf;
	if (p[0] != 1 || (p[1] & 0x0f) != 0x0b || p[2] != 0x03 || p[3] != 0x3b)
		return NULL;
	memcpy(&count, p + 8, 4);
	if (count == 0 || count > (d->d_size - 12) / 8)
		return NULL;
	v = xreallocarray(NULL, count, sizeof(*v));
	for (uint32_t i = 0; i < count; i++)
		memcpy(&v[i], p + 12 + 8 * (size_t)i, 4);
	*base = sh.sh_addr;
	*n = count;
	return v;
}

static int
fde_covers(Dwarf_CFI *cfi, uint64_t vaddr)
{
	Dwarf_Frame *fr = NULL;

	if (cfi == NULL || dwarf_cfi_addrframe(cfi, vaddr, &fr) != 0)
		return 0;
	free(fr);
	return 1;
}

/*
 * Where the FDE starting at a ends, the next one starting at b: what it
 * covers is contiguous, so a bisection of [a, b) finds its end (libdw
 * tells a row's range, not an FDE's). a itself when a has none.
 */
static uint64_t
fde_end(Dwarf_CFI *cfi, uint64_t a, uint64_t b)
{
	uint64_t lo = a, hi = b;

	if (!fde_covers(cfi, a))
		return a;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (fde_covers(cfi, mid))
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/*
 * JSC's LLInt is hand-written assembly without FDEs: in a binary with
 * __DATA,__jsc_opcodes (JSC's opcode table), it is the FDE-less range that
 * holds the opcode handlers the table points to once JSC has started (read
 * from the process), or else the largest FDE-less range (384 KB in Claude
 * Code 2.1.197, the next one 157 KB).
 */
static void
find_llint(struct symbolizer *s, struct modinfo *mi, Elf *elf, Dwarf_Addr bias,
    Dwarf_CFI *cfi)
{
	GElf_Shdr sh;
	Elf_Scn *ops = section_named(elf, "__DATA,__jsc_opcodes", &sh);
	uint64_t base = mi->fde_base, lo = UINT64_MAX, hi = 0, best = 0;
	size_t n = mi->nfdes, at = SIZE_MAX;
	const int32_t *t = mi->fdes;

	if (ops == NULL)
		return;
	mi->jsc = 1;
	s->st.jsc = 1;
	if (t == NULL)
		return;
	if (sh.sh_size > 0 && sh.sh_size <= (1u << 20)) {
		char path[64];
		uint64_t *m = xmalloc(sh.sh_size);
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)s->pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			ssize_t r = pread(fd, m, sh.sh_size, (off_t)(sh.sh_addr + bias));

			for (ssize_t i = 0; r > 0 && i < r / 8; i++)
				if (m[i] > bias && m[i] - bias < lo)
					lo = m[i] - bias;
			close(fd);
		}
		free(m);
	}
	for (size_t i = 0; i + 1 < n; i++) {
		uint64_t a = base + (uint64_t)(int64_t)t[i], b = base + (uint64_t)(int64_t)t[i + 1];

		if (lo != UINT64_MAX) {
			if (a <= lo && lo < b) {
				at = i;
				break;
			}
			continue;
		}
		if (b - a > best && b - a >= 65536) {
			uint64_t e = fde_end(cfi, a, b);

			if (e > a && e <= b && b - e > best) {
				best = b - e;
				at = i;
			}
		}
	}
	if (at != SIZE_MAX) {
		uint64_t a = base + (uint64_t)(int64_t)t[at], e;

		hi = base + (uint64_t)(int64_t)t[at + 1];
		e = fde_end(cfi, a, hi);
		if (e > a && e < hi && (lo == UINT64_MAX || lo >= e)) {
			mi->llint_lo = e;
			mi->llint_hi = hi;
			mi->llint_how = lo != UINT64_MAX ? "opcode table" : "largest range without FDE";
			s->st.llint_how = mi->llint_how;
		}
	}
}

static struct modinfo *
modinfo_get(struct symbolizer *s, const char *path, Dwfl_Module *mod, Elf *elf,
    Dwarf_Addr bias, Dwarf_CFI *cfi)
{
	struct modinfo *mi;

	for (size_t i = 0; i < s->nmods; i++)
		if (strcmp(s->mods[i].path, path) == 0)
			return &s->mods[i];
	s->mods = xreallocarray(s->mods, s->nmods + 1, sizeof(*s->mods));
	mi = &s->mods[s->nmods++];
	memset(mi, 0, sizeof(*mi));
	mi->path = xstrdup(path);
	(void)mod;
	mi->fdes = fde_table(elf, &mi->fde_base, &mi->nfdes);
	find_llint(s, mi, elf, bias, cfi);
	return mi;
}

/*
 * The start of the function holding vaddr, from its FDE: FDEs do not
 * overlap, so it is the greatest FDE start at or below vaddr, once libdw
 * says an FDE covers vaddr at all. (dwarf_frame_info's range is that of
 * one row of unwind rules, not the function's.)
 */
static int
fde_start(const struct modinfo *mi, Dwarf_CFI *cfi, uint64_t vaddr, uint64_t *start)
{
	size_t lo = 0, hi = mi->nfdes;

	if (mi->fdes == NULL || !fde_covers(cfi, vaddr))
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mi->fde_base + (uint64_t)(int64_t)mi->fdes[mid] <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	*start = mi->fde_base + (uint64_t)(int64_t)mi->fdes[lo - 1];
	return 0;
}

/*
 * Learn what each mapped module is while the process lives: the LLInt is
 * found from JSC's opcode table in the process's memory, which a capture
 * that names frames after the process exited could not read. Until JSC
 * has filled the table, the largest FDE-less range stands in; later
 * looks try the table again.
 */
static void
probe_modules(struct symbolizer *s)
{
	for (size_t i = 0; i < s->nmaps; i++) {
		Dwfl_Module *mod;
		const char *mname;
		Dwarf_Addr bias = 0, cfibias = 0;
		Dwarf_CFI *cfi;
		struct modinfo *mi;
		Elf *elf;

		if (i > 0 && strcmp(s->maps[i].path, s->maps[i - 1].path) == 0)
			continue;
		mod = dwfl_addrmodule(s->dwfl, s->maps[i].start);
		if (mod == NULL)
			continue;
		mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		if (mname == NULL || strcmp(mname, s->maps[i].path) != 0 ||
		    (elf = dwfl_module_getelf(mod, &bias)) == NULL)
			continue;
		cfi = dwfl_module_eh_cfi(mod, &cfibias);
		mi = modinfo_get(s, s->maps[i].path, mod, elf, bias, cfi);
		if (mi->jsc && (mi->llint_how == NULL || strcmp(mi->llint_how, "opcode table") != 0))
			find_llint(s, mi, elf, bias, cfi);
	}
}

/*
 * An address inside a file mapping: the file's symbol; else the start of
 * its FDE (one frame per function); else the LLInt; else file+0xVADDR.
 */
static char *
resolve_file(struct symbolizer *s, const struct xmap *m, uint64_t addr,
    enum sym_kind *kind)
{
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, addr);
	uint64_t off = addr - m->start + m->pgoff, vaddr = off;
	const char *mname = NULL;
	Dwarf_Addr bias = 0, cfibias = 0;
	Elf *elf = NULL;

	if (mod != NULL) {
		mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		if (mname == NULL || strcmp(mname, m->path) != 0)
			mod = NULL;	/* maps changed since the modules were reported */
	}
	if (mod != NULL)
		elf = dwfl_module_getelf(mod, &bias);
	if (elf != NULL && file_to_vaddr(elf, off, &vaddr) == 0) {
		GElf_Off symoff;
		GElf_Sym sym;
		const char *name;
		Dwarf_CFI *cfi;
		struct modinfo *mi;
		uint64_t start;

		int has_fde, in_llint;

		cfi = dwfl_module_eh_cfi(mod, &cfibias);
		mi = modinfo_get(s, m->path, mod, elf, bias, cfi);
		/* Where the file's own mapping has this byte: one lookup for every copy. */
		name = dwfl_module_addrinfo(mod, vaddr + bias, &symoff, &sym, NULL, NULL, NULL);
		/* cfibias is the module's bias for the main file's .eh_frame */
		has_fde = cfibias == bias && fde_start(mi, cfi, vaddr, &start) == 0;
		in_llint = mi->llint_lo < mi->llint_hi && vaddr >= mi->llint_lo &&
		    vaddr < mi->llint_hi;
		/*
		 * libdwfl stretches a symbol without a size to the next symbol: in
		 * a binary with few symbols (Bun's) that names thousands of
		 * functions after one. Trust it only when no FDE starts after it.
		 */
		if (name != NULL && name[0] != '\0' && sym.st_size == 0 &&
		    ((has_fde && start > vaddr - symoff) || in_llint))
			name = NULL;
		if (name != NULL && name[0] != '\0') {
			*kind = SYM_NAME;
			return demangle(name);
		}
		if (has_fde) {
			*kind = SYM_FDE;
			return xasprintf("%s+0x%" PRIx64, basename_of(m->path), start);
		}
		if (in_llint) {
			*kind = SYM_REGION;
			return xstrdup("[JS interpreter]");
		}
	}
	*kind = SYM_MODOFF;
	return xasprintf("%s+0x%" PRIx64, basename_of(m->path), vaddr);
}

static int
in_amap(const struct symbolizer *s, uint64_t addr)
{
	size_t lo = 0, hi = s->namaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->amaps[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->namaps && s->amaps[lo].start <= addr;
}

static char *
resolve_stamped(struct symbolizer *s, uint64_t ip, enum sym_kind *kind)
{
	const struct jd_load *l = s->jd ? jd_get(s->jd, (size_t)(ip & JD_TAG_MASK)) : NULL;
	char buf[512];

	if (l == NULL) {
		*kind = SYM_UNKNOWN;
		return xstrdup("[unknown]");
	}
	jd_frame_name(l->name, buf, sizeof(buf));
	*kind = SYM_JITDUMP;
	return xasprintf("%s_[j]", buf);
}

static char *
resolve_js(struct symbolizer *s, uint64_t ip, enum sym_kind *kind)
{
	uint64_t id = ip & (JS_TAG - 1);
	const char *name;

	if (s->js == NULL || id >= intern_count(s->js) ||
	    (name = intern_str(s->js, (uint32_t)id, NULL)) == NULL) {
		*kind = SYM_UNKNOWN;
		return xstrdup("[unknown]");
	}
	*kind = SYM_JSFRAME;
	return xasprintf("%s_[js]", name);
}

uint64_t
sym_js_token(struct symbolizer *s, const char *name)
{
	if (s->js == NULL)
		s->js = intern_new();
	return JS_TAG | intern_id(s->js, name, strlen(name));
}

int
sym_is_token(uint64_t ip)
{
	return ip < (uint64_t)PERF_CONTEXT_MAX && (ip & (JD_TAG | JS_TAG)) != 0;
}

static char *
resolve_user(struct symbolizer *s, uint64_t addr, enum sym_kind *kind)
{
	const struct xmap *m;
	Dwfl_Module *mod;
	char *name;

	if (addr & JD_TAG)
		return resolve_stamped(s, addr, kind);
	if (addr & JS_TAG)
		return resolve_js(s, addr, kind);
	if ((m = xmap_find(s, addr)) != NULL)
		return resolve_file(s, m, addr, kind);
	if ((name = resolve_jit(s, addr, kind)) != NULL)
		return name;
	/* [vdso] and friends: modules libdwfl reads from the process's memory. */
	mod = dwfl_addrmodule(s->dwfl, addr);
	if (mod != NULL) {
		const char *mname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
		GElf_Off symoff;
		GElf_Sym sym;
		Dwarf_Addr bias = 0;

		if (mname != NULL && mname[0] == '[') {
			const char *sname = dwfl_module_addrinfo(mod, addr, &symoff, &sym,
			    NULL, NULL, NULL);

			if (sname != NULL && sname[0] != '\0') {
				*kind = SYM_NAME;
				return demangle(sname);
			}
			dwfl_module_info(mod, NULL, &bias, NULL, NULL, NULL, NULL, NULL);
			*kind = SYM_MODOFF;
			return xasprintf("%s+0x%" PRIx64, mname, (uint64_t)(addr - bias));
		}
	}
	if (in_amap(s, addr)) {
		*kind = SYM_REGION;
		return xstrdup("[JIT]");
	}
	*kind = SYM_UNKNOWN;
	return xstrdup("[unknown]");
}

static char *
resolve_kernel(uint64_t addr, enum sym_kind *kind)
{
	const struct range *r;

	if (ksyms_state == 0)
		ksyms_load();
	r = ksyms_state > 0 ? range_find(&ksyms, addr) : NULL;
	if (r != NULL) {
		*kind = SYM_KNAME;
		return xasprintf("%s_[k]", r->name);
	}
	*kind = SYM_MODOFF;
	return xasprintf("[kernel.kallsyms]+0x%" PRIx64 "_[k]", addr);
}

const char *
sym_frame(struct symbolizer *s, uint64_t ip, unsigned flags, enum sym_kind *kind)
{
	int stamped = !(flags & SYM_F_KERNEL) && (ip & (JD_TAG | JS_TAG));
	uint64_t addr = (flags & SYM_F_RETADDR) && ip > 0 && !stamped ? ip - 1 : ip;
	uint64_t key = (addr << 1) | ((flags & SYM_F_KERNEL) ? 1 : 0);
	void **hit = hmap_find(&s->cache, &key, sizeof(key));
	enum sym_kind k;
	char *name;

	if (hit != NULL) {
		const struct cache_ent *e = &s->names[(uintptr_t)*hit - 1];

		if (kind)
			*kind = e->kind;
		return e->name;
	}
	if (flags & SYM_F_KERNEL)
		name = resolve_kernel(addr, &k);
	else
		name = resolve_user(s, addr, &k);
	cache_add(s, key, name, k);
	s->st.lookups++;
	s->st.by_kind[k]++;
	if (kind)
		*kind = k;
	return name;
}

size_t
sym_callchain_kinds(struct symbolizer *s, const uint64_t *ips, size_t n,
    const char **out, enum sym_kind *kinds, size_t max)
{
	unsigned ctx = 0;	/* user until told otherwise */
	int first = 1;		/* the first frame of a context is a pc */
	size_t w = 0;

	/* Leaf first in, root first out: fill from the end, then shift. */
	for (size_t i = 0; i < n && w < max; i++) {
		uint64_t ip = ips[i];
		enum sym_kind k;

		if (ip >= (uint64_t)PERF_CONTEXT_MAX) {
			if (ip == (uint64_t)PERF_CONTEXT_KERNEL)
				ctx = SYM_F_KERNEL;
			else if (ip == (uint64_t)PERF_CONTEXT_USER)
				ctx = 0;
			else
				ctx = 0x100;	/* guest or unknown: skip */
			first = 1;
			continue;
		}
		if (ctx == 0x100 || ip == 0)
			continue;
		out[max - 1 - w] = sym_frame(s, ip, ctx | (first ? 0 : SYM_F_RETADDR), &k);
		if (kinds)
			kinds[max - 1 - w] = k;
		first = 0;
		w++;
	}
	if (w < max) {
		memmove(out, out + (max - w), w * sizeof(*out));
		if (kinds)
			memmove(kinds, kinds + (max - w), w * sizeof(*kinds));
	}
	return w;
}

size_t
sym_callchain(struct symbolizer *s, const uint64_t *ips, size_t n,
    const char **out, size_t max)
{
	return sym_callchain_kinds(s, ips, n, out, NULL, max);
}

/*
 * The load holding addr at ns. What the runtime wrote since the last read
 * is read first when no load holds addr, or when the sample is newer than
 * every load read: JSC reuses JIT memory, so an older load may cover addr
 * while the one that replaced it is still unread (--jsc-check saw 1 to 17
 * such stale names in 20 s).
 */
static long
stamp_lookup(struct symbolizer *s, uint64_t addr, uint64_t ns, int *updated)
{
	long l = jd_find(s->jd, addr, ns);

	if ((l < 0 || ns > jd_last_ts(s->jd)) && !*updated) {
		*updated = 1;
		jitdump_update(s);
		l = jd_find(s->jd, addr, ns);
	}
	return l;
}

size_t
sym_stamp(struct symbolizer *s, uint64_t *ips, size_t n, int perfchain, uint64_t ns)
{
	int user = 1, first = 1, updated = 0;
	size_t bound = 0;

	if (s->jd == NULL)
		return 0;
	if (jd_arch_clock(s->jd))
		ns = UINT64_MAX;	/* TSC stamps: the latest load is the best guess */
	for (size_t i = 0; i < n; i++) {
		uint64_t ip = ips[i], addr;
		long l;

		if (perfchain && ip >= (uint64_t)PERF_CONTEXT_MAX) {
			user = ip == (uint64_t)PERF_CONTEXT_USER;
			first = 1;
			continue;
		}
		addr = perfchain && !first && ip > 0 ? ip - 1 : ip;
		first = 0;
		if (!user || ip == 0 || (ip & (JD_TAG | JS_TAG)) || xmap_find(s, addr) != NULL)
			continue;
		if ((l = stamp_lookup(s, addr, ns, &updated)) < 0) {
			s->st.stamp_missed++;
			continue;
		}
		ips[i] = JD_TAG | (uint64_t)l;
		s->st.stamped++;
		bound++;
	}
	return bound;
}

const char *
sym_kind_name(enum sym_kind k)
{
	static const char *const names[SYM_NKINDS] = {
		[SYM_NAME] = "symtab", [SYM_JIT] = "perf_map", [SYM_JITDUMP] = "jitdump",
		[SYM_FDE] = "fde", [SYM_REGION] = "region", [SYM_KNAME] = "kallsyms",
		[SYM_MODOFF] = "module_offset", [SYM_JSFRAME] = "jsc_frame",
		[SYM_UNKNOWN] = "unknown",
	};

	return (unsigned)k < SYM_NKINDS ? names[k] : "unknown";
}

void
sym_get_stats(const struct symbolizer *s, struct sym_stats *st)
{
	*st = s->st;
	st->kallsyms = ksyms_state > 0;
}

void
sym_close(struct symbolizer *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nnames; i++)
		free((char *)s->names[i].name);
	free(s->names);
	hmap_release(&s->cache, NULL);
	range_free(&s->jit);
	xmaps_free(s);
	free(s->amaps);
	free(s->marker);
	free(s->files);
	jd_close(s->jd);
	free(s->jd_path);
	for (size_t i = 0; i < s->nmods; i++) {
		free(s->mods[i].path);
		free(s->mods[i].fdes);
	}
	free(s->mods);
	if (s->js != NULL)
		intern_free(s->js);
	dwfl_end(s->dwfl);
	free(s);
}
