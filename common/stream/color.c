#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "color.h"

static int enabled;

static const char *const codes[] = {
	[C_RESET] = "\033[0m", [C_BOLD] = "\033[1m", [C_DIM] = "\033[2m",
	[C_RED] = "\033[31m", [C_YELLOW] = "\033[33m", [C_GREEN] = "\033[32m",
	[C_BLUE] = "\033[34m", [C_CYAN] = "\033[36m", [C_REVERSE] = "\033[7m",
};

int
color_init(int fd, int disabled)
{
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");

	/* no-color.org: any non-empty NO_COLOR disables colour. */
	enabled = !disabled && isatty(fd) && !(nc && *nc) &&
	    !(term && strcmp(term, "dumb") == 0);
	return enabled;
}

int
color_on(void)
{
	return enabled;
}

const char *
color(enum color c)
{
	return enabled ? codes[c] : "";
}
