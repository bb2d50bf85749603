/* ANSI colour for terminals only: never into pipes, never with NO_COLOR. */
#ifndef CD_COLOR_H
#define CD_COLOR_H

enum color {
	C_RESET, C_BOLD, C_DIM, C_RED, C_YELLOW, C_GREEN, C_BLUE, C_CYAN, C_REVERSE,
};

/* Decide once per program: fd is a tty, NO_COLOR unset, not disabled. */
int color_init(int fd, int disabled);
int color_on(void);
/* The escape for c, or "" when colour is off. */
const char *color(enum color c);

#endif
