/*
 * A target for the fault tests: threads that come and go, many busy
 * threads, zombies. Runs until killed. Usage:
 *   threadstorm [--ready FILE] MODE ARGS...
 * --ready: write the pid a test should trace into FILE once set up.
 * Modes:
 *   churn N       forever: N threads that each make 10 getppid calls and
 *                 exit, joined, then N more
 *   busy T        T threads making getppid calls as fast as they can
 *   zombie        a child that has exited and is never reaped; its pid
 *                 goes in FILE
 *   leaderexit T  T threads sleeping in a loop after the main thread has
 *                 called pthread_exit (the leader shows as a zombie)
 *   forkstorm     forever: a child that exits at once, reaped
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
ready_write(const char *ready, int pid)
{
	FILE *f;

	if (ready == NULL)
		return;
	f = fopen(ready, "w");
	if (f == NULL)
		exit(1);
	fprintf(f, "%d\n", pid);
	fclose(f);
}

static void *
short_main(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10; i++)
		syscall(SYS_getppid);
	return NULL;
}

static void *
busy_main(void *arg)
{
	(void)arg;
	for (;;)
		syscall(SYS_getppid);
	return NULL;
}

static void *
sleepy_main(void *arg)
{
	(void)arg;
	for (;;)
		nap_ms(5);
	return NULL;
}

static int
spawn(long n, void *(*fn)(void *), pthread_t *th)
{
	pthread_attr_t a;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 * 1024);
	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], &a, fn, NULL) != 0) {
			perror("pthread_create");
			return -1;
		}
	pthread_attr_destroy(&a);
	return 0;
}

static int
churn(long n, const char *ready)
{
	pthread_t *th = calloc((size_t)n, sizeof(*th));

	if (th == NULL)
		return 1;
	ready_write(ready, (int)getpid());
	for (;;) {
		if (spawn(n, short_main, th) != 0)
			return 1;
		for (long i = 0; i < n; i++)
			pthread_join(th[i], NULL);
	}
}

int
main(int argc, char **argv)
{
	const char *ready = NULL, *mode;
	long n;
	pthread_t *th;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "--ready") == 0) {
		ready = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: threadstorm [--ready FILE] MODE ARGS\n");
		return 2;
	}
	mode = argv[i];
	n = i + 1 < argc ? atol(argv[i + 1]) : 0;
	if (strcmp(mode, "churn") == 0 && n > 0)
		return churn(n, ready);
	if (strcmp(mode, "forkstorm") == 0) {
		ready_write(ready, (int)getpid());
		for (;;) {
			pid_t c = fork();

			if (c == 0)
				_exit(0);
			if (c > 0)
				waitpid(c, NULL, 0);
		}
	}
	if (strcmp(mode, "zombie") == 0) {
		pid_t c = fork();

		if (c < 0)
			return 1;
		if (c == 0)
			_exit(0);
		nap_ms(50);	/* let it die */
		ready_write(ready, c);
		for (;;)
			pause();
	}
	if ((strcmp(mode, "busy") == 0 || strcmp(mode, "leaderexit") == 0) &&
	    n > 0) {
		th = calloc((size_t)n, sizeof(*th));
		if (th == NULL || spawn(n, mode[0] == 'b' ? busy_main :
		    sleepy_main, th) != 0)
			return 1;
		ready_write(ready, (int)getpid());
		if (mode[0] == 'l')
			pthread_exit(NULL);
		for (;;)
			pause();
	}
	fprintf(stderr, "threadstorm: unknown mode or count '%s'\n", mode);
	return 2;
}
