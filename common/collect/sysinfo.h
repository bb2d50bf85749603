/* Where a report was made: host, OS, kernel, distribution. */
#ifndef CD_SYSINFO_H
#define CD_SYSINFO_H

struct sysinfo_id {
	char hostname[256];
	char os[72];		/* "Linux" */
	char os_version[72];	/* kernel release */
	char distro[512];	/* PRETTY_NAME from os-release, or "" */
	char machine[72];	/* x86_64, aarch64 */
};

void sysinfo_read(struct sysinfo_id *s);

#endif
