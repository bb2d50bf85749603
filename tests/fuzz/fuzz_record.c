/*
 * libFuzzer harness for the record reader: any bytes in, never a crash,
 * and every record handed out is a JSON object with a "type" string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "record.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", 0);
	struct rec_reader *r;
	cJSON *o;

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	lseek(fd, 0, SEEK_SET);
	r = rec_reader_open(fd, "fuzz");
	rec_reader_maxline(r, 4096);
	while (rec_next(r, &o) == REC_OK) {
		if (rec_type(o) == NULL)
			abort();
		cJSON_Delete(o);
	}
	rec_reader_close(r);
	close(fd);
	return 0;
}
