/*
 * cd-sample's dense logic: stack aggregation, the resolved-frame test,
 * and the diagnosis rule table.
 */
#include <stdio.h>
#include <string.h>

#include "../../tools/cd-sample/stacks.c"
#include "../../tools/cd-sample/rules.c"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

static void
add(struct samples *s, int pid, int tid, const char *thread, const char *frames,
    unsigned long count)
{
	const char *v[64];
	char buf[1024], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", frames);
	for (char *t = strtok_r(buf, ";", &save); t && n < 64; t = strtok_r(NULL, ";", &save))
		v[n++] = intern(t);
	samples_add(s, pid, tid, intern("proc"), intern(thread), v, n, count);
}

static const struct diag *
find_diag(const struct diag *d, size_t n, const char *issue)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].rule->code, issue) == 0)
			return &d[i];
	return NULL;
}

static void
test_aggregation(void)
{
	struct samples s = { 0 };

	add(&s, 1, 1, "main", "main;work", 3);
	add(&s, 1, 1, "main", "main;work", 2);		/* same stack: merged */
	add(&s, 1, 2, "main", "main;work", 1);		/* other thread: kept apart */
	add(&s, 1, 1, "renamed", "main;work", 1);	/* other name: kept apart */
	add(&s, 2, 1, "main", "main;work;x+0x10", 4);
	CHECK(s.n == 4);
	samples_sort(&s);
	CHECK(s.v[0].pid == 1 && s.v[0].count == 5);
	CHECK(s.v[3].pid == 2);
	/* frames weighted by count: 3 of 3 resolved (x5), 1,1, and 2 of 3 (x4) */
	CHECK(s.frames_total == 2 * 5 + 2 + 2 + 3 * 4);
	CHECK(s.frames_resolved == s.frames_total - 4);
	samples_release(&s);
}

static void
test_resolved(void)
{
	CHECK(frame_resolved("main"));
	CHECK(frame_resolved("do_syscall_64_[k]"));
	CHECK(frame_resolved("JS:*foo /a.js:1:2_[j]"));
	CHECK(frame_resolved("operator+(int, int)"));
	CHECK(!frame_resolved("libc.so.6+0x1234"));
	CHECK(!frame_resolved("[kernel.kallsyms]+0xffffffff81000000_[k]"));
	CHECK(!frame_resolved("[unknown]"));
	CHECK(!frame_resolved("[JIT]"));
	CHECK(!frame_resolved("[JS interpreter]"));
	CHECK(frame_resolved("get#CBkFLb_[j]"));
	CHECK(frame_resolved("foo+0xzz"));
}

static void
test_gc(void)
{
	struct samples s = { 0 };
	struct diag d[16];
	size_t n;

	add(&s, 7, 7, "node", "main;uv_run;JS:foo_[j]", 60);
	add(&s, 7, 8, "node", "start_thread;v8::internal::Scavenger::Process(v8::JobDelegate*)", 30);
	add(&s, 7, 9, "HeapHelper", "start_thread;[unknown]", 10);
	n = rules_eval(s.v, s.n, 7, 100, 0, d, 16);
	const struct diag *g = find_diag(d, n, "gc_pressure");
	CHECK(g != NULL);
	if (g) {
		CHECK(g->matched == 40 && g->total == 100);
		CHECK(strcmp(g->severity, "critical") == 0);	/* 40% >= 30% */
		CHECK(g->nev == 2 && g->ev[0].count == 30 && !g->ev[0].is_thread);
		CHECK(g->ev[1].is_thread && strcmp(g->ev[1].name, "HeapHelper") == 0);
	}
	/* another pid's samples do not count */
	CHECK(rules_eval(s.v, s.n, 8, 100, 0, d, 16) == 0);
	samples_release(&s);
}

static void
test_spin(void)
{
	struct samples s = { 0 };
	struct diag d[16];
	size_t n;

	/* uv_run at the root of every JS stack is not a spin ... */
	add(&s, 1, 1, "node", "main;uv_run;uv__io_poll;uv__stream_io;a;b;c;JS:work_[j]", 80);
	/* ... uv__io_poll at the leaf is */
	add(&s, 1, 1, "node", "main;uv_run;uv__io_poll;epoll_wait;entry_SYSCALL_64_[k];do_epoll_wait_[k]", 20);
	n = rules_eval(s.v, s.n, 1, 100, 0, d, 16);
	const struct diag *e = find_diag(d, n, "event_loop_spin");
	CHECK(e != NULL && e->matched == 20 && strcmp(e->severity, "warning") == 0);
	/* CPU low: not a spin */
	n = rules_eval(s.v, s.n, 1, 10, 0, d, 16);
	CHECK(find_diag(d, n, "event_loop_spin") == NULL);
	/* --wall: waiting in epoll is normal */
	n = rules_eval(s.v, s.n, 1, -1, 1, d, 16);
	CHECK(find_diag(d, n, "event_loop_spin") == NULL);
	samples_release(&s);
}

static void
test_wall_idle(void)
{
	struct samples s = { 0 };
	struct diag d[16];
	size_t n;

	/* A parked GC thread is not GC work; a thread blocked in DNS is a DNS wait. */
	add(&s, 1, 2, "HeapHelper", "start_thread;worker;pthread_cond_wait;futex_wait_[k]", 50);
	add(&s, 1, 3, "dns", "start_thread;getaddrinfo;gaih_inet;__poll", 50);
	n = rules_eval(s.v, s.n, 1, -1, 1, d, 16);
	CHECK(find_diag(d, n, "gc_pressure") == NULL);
	CHECK(find_diag(d, n, "dns_lookup") != NULL);
	/* the same as CPU samples: the HeapHelper thread was busy */
	n = rules_eval(s.v, s.n, 1, 100, 0, d, 16);
	CHECK(find_diag(d, n, "gc_pressure") != NULL);
	CHECK(n >= 2 && strcmp(d[0].severity, "critical") == 0);
	samples_release(&s);
}

static void
test_others(void)
{
	struct samples s = { 0 };
	struct diag d[16];
	size_t n;

	add(&s, 1, 1, "main", "main;a", 40);
	add(&s, 1, 4, "fs.watch", "start_thread;read", 10);
	add(&s, 1, 1, "main", "main;tls_write;SSL_write;aesni_gcm_encrypt", 20);
	add(&s, 1, 1, "main", "main;JS:check_[j];RegExp:(a+)+$_[j]", 30);
	n = rules_eval(s.v, s.n, 1, 100, 0, d, 16);
	CHECK(find_diag(d, n, "file_watcher_activity") != NULL);
	CHECK(find_diag(d, n, "crypto_tls") != NULL);
	CHECK(find_diag(d, n, "regex_backtracking") != NULL);
	CHECK(find_diag(d, n, "dns_lookup") == NULL);
	/* sorted: critical first, then by share */
	for (size_t i = 1; i < n; i++)
		CHECK(!(strcmp(d[i].severity, "critical") == 0 &&
		    strcmp(d[i - 1].severity, "warning") == 0));
	/* below every threshold: nothing */
	samples_release(&s);
	add(&s, 1, 1, "main", "main;a", 1000);
	add(&s, 1, 1, "main", "main;SSL_read", 1);
	CHECK(rules_eval(s.v, s.n, 1, 100, 0, d, 16) == 0);
	samples_release(&s);
}

/* The native Claude Code (Bun): JSC threads and jitdump names, no Node flag in remedies. */
static void
test_jsc(void)
{
	struct samples s = { 0 };
	struct diag d[16];
	const struct diag *g;
	size_t n;

	add(&s, 5, 5, "claude", "main;claude.exe+0x273dec0;qH#BHGNLi_[j];inlineTokens#Cmo68L_[j]", 40);
	add(&s, 5, 5, "claude", "main;qH#BHGNLi_[j];JSC-YarrJIT: /^(?:`{3,}|~{3,})/_[j]", 20);
	add(&s, 5, 5, "claude", "main;qH#BHGNLi_[j];[JS interpreter];claude.exe+0x46504a0", 10);
	add(&s, 5, 9, "HeapHelper", "start_thread;claude.exe+0x3d28800;claude.exe+0x46519d0", 20);
	add(&s, 5, 10, "JITWorker", "start_thread;claude.exe+0x463ac40", 10);
	CHECK(samples_are_jsc(s.v, s.n, 5));
	n = rules_eval(s.v, s.n, 5, 100, 0, d, 16);
	g = find_diag(d, n, "gc_pressure");
	CHECK(g != NULL && g->matched == 20);
	CHECK(g != NULL && strstr(g->remedy, "max-old-space") == NULL && strstr(g->remedy, "JSC"));
	g = find_diag(d, n, "regex_backtracking");
	CHECK(g != NULL && g->matched == 20 && g->ev[0].name[0] == 'J');
	CHECK(find_diag(d, n, "js_interpreted") == NULL);	/* 10%: under 25% */
	CHECK(find_diag(d, n, "jit_compilation") == NULL);	/* 10%: under 20% */
	for (size_t i = 0; i < n; i++)
		CHECK(strstr(d[i].remedy, "--max-old-space-size") == NULL);
	add(&s, 5, 5, "claude", "main;[JS interpreter]", 60);
	add(&s, 5, 10, "JITWorker", "start_thread;claude.exe+0x463ac40", 40);
	n = rules_eval(s.v, s.n, 5, 100, 0, d, 16);
	CHECK(find_diag(d, n, "js_interpreted") != NULL);
	CHECK(find_diag(d, n, "jit_compilation") != NULL);
	samples_release(&s);

	/* Node keeps its flag */
	add(&s, 7, 8, "node", "start_thread;v8::internal::Scavenger::Process(v8::JobDelegate*)", 30);
	add(&s, 7, 7, "node", "main;JS:*parse /a.js:1_[j];v8::internal::JsonParser<unsigned char>::ParseJson()", 30);
	add(&s, 7, 7, "node", "main;uv_run", 40);
	CHECK(!samples_are_jsc(s.v, s.n, 7));
	n = rules_eval(s.v, s.n, 7, 100, 0, d, 16);
	g = find_diag(d, n, "gc_pressure");
	CHECK(g != NULL && strstr(g->remedy, "--max-old-space-size") != NULL);
	CHECK(find_diag(d, n, "json_work") != NULL);
	samples_release(&s);
}

int
main(void)
{
	test_aggregation();
	test_resolved();
	test_gc();
	test_spin();
	test_wall_idle();
	test_others();
	test_jsc();
	strings_free();
	if (failures)
		fprintf(stderr, "sample_rules: %d failures\n", failures);
	return failures != 0;
}
