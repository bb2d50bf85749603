/*
 * Files written under sudo belong to the user who ran sudo, not root, so
 * a report or flame graph can be opened and removed without privileges.
 */
#ifndef CD_OWNER_H
#define CD_OWNER_H

/* chown to SUDO_UID/SUDO_GID when euid is 0 and sudo set them; else no-op. */
int owner_fix(const char *path);
int owner_fix_fd(int fd);

#endif
