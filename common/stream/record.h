/*
 * The record stream: JSON Lines, one object per line, each with "type".
 * See man/claude-diagnose-streams.7 for the contract.
 */
#ifndef CD_RECORD_H
#define CD_RECORD_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* ---- writing ---- */

/*
 * Output goes through a writer's private buffer that is only ever handed
 * to write(2) in whole lines, so a reader never sees half a record even
 * when the writer dies mid-stream. A tool may hold several writers.
 */
struct rec_writer;

struct rec_writer *rec_writer_new(int fd);	/* fd stays the caller's */
void rec_writer_free(struct rec_writer *w);	/* unflushed lines are dropped */
/* Serialise obj as one line. Returns 0, or -1 on a write error. */
int rec_writer_emit(struct rec_writer *w, const cJSON *obj);
/* Pass an input line through unchanged (no newline in line). */
int rec_writer_emit_raw(struct rec_writer *w, const char *line, size_t len);
/* -1 with errno set if this or any earlier write failed. */
int rec_writer_flush(struct rec_writer *w);
/* Flush at the end of a run; on any write error say so, naming the errno, and return -1. */
int rec_writer_close(struct rec_writer *w);
/* Flush after every line (interactive consumers, --follow). */
void rec_writer_linebuffered(struct rec_writer *w, int on);

/*
 * The default writer, on stdout unless rec_out_init points it elsewhere,
 * and the same calls on it for the tools that need no other.
 */
struct rec_writer *rec_stdout(void);
void rec_out_init(int fd);
int rec_emit(const cJSON *obj);
/* Emit and free obj. */
int rec_emit_free(cJSON *obj);
int rec_emit_raw(const char *line, size_t len);
int rec_flush(void);
int rec_close(void);
void rec_out_linebuffered(int on);

/*
 * Between rec_arena_begin and rec_arena_end, cJSON allocates from an
 * arena: build, emit and delete one record, then rec_arena_reset. Nothing
 * made with cJSON in the window may outlive the next reset.
 */
void rec_arena_begin(void);
void rec_arena_reset(void);
void rec_arena_end(void);

/*
 * Building records. Field names and the type are not copied: pass
 * literals or other strings that outlive the record.
 */
/* A new record object with its "type" set. */
cJSON *rec_new(const char *type);
/*
 * Add a string field, replacing invalid UTF-8 with U+FFFD so every line we
 * write is valid UTF-8 whatever a process calls itself.
 */
cJSON *rec_add_str(cJSON *obj, const char *name, const char *s);
/*
 * The same without copying s, for records written by the thousand: s must
 * stay as it is until the record is emitted or deleted.
 */
cJSON *rec_add_str_ref(cJSON *obj, const char *name, const char *s);
cJSON *rec_add_num(cJSON *obj, const char *name, double v);
cJSON *rec_add_bool(cJSON *obj, const char *name, int v);
/* The "meta" record every producer ends with; caller adds fields. */
cJSON *rec_meta_new(const char *tool);

/* ---- reading ---- */

struct rec_reader;

enum rec_status {
	REC_OK,       /* *out holds a record; caller frees */
	REC_EOF,
	REC_BAD,      /* only in strict mode: a malformed line was seen */
	REC_ERROR,    /* read error */
};

/* name is used in messages ("stdin", a path). */
struct rec_reader *rec_reader_open(int fd, const char *name);
void rec_reader_close(struct rec_reader *r);
void rec_reader_strict(struct rec_reader *r, int strict);
void rec_reader_maxline(struct rec_reader *r, size_t max);
/*
 * Next well-formed record. Malformed lines (bad JSON, not an object, no
 * "type", NUL bytes, invalid UTF-8, over-long) get one message on stderr
 * naming the line number, and are skipped unless strict.
 */
enum rec_status rec_next(struct rec_reader *r, cJSON **out);
/* The raw text of the line last returned by rec_next. */
const char *rec_raw(const struct rec_reader *r, size_t *len);
unsigned long rec_lineno(const struct rec_reader *r);
unsigned long rec_bad_lines(const struct rec_reader *r);

/* ---- field access ---- */
const char *rec_type(const cJSON *obj);
int rec_is(const cJSON *obj, const char *type);
const char *rec_get_str(const cJSON *obj, const char *name);
/* def when missing or not a number. */
double rec_get_num(const cJSON *obj, const char *name, double def);

/* UTF-8 validity of a buffer (RFC 3629: no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t len);
/* Copy with invalid sequences replaced by U+FFFD; caller frees. */
char *utf8_sanitize(const char *s, size_t len);

#endif
