// Time one whole process from outside: spawn CMD, reap it, print
// "wall_us user_us sys_us maxrss_kib" (the kernel's accounting of the
// child). Used by bench/whole.py instead of spawning from Python, whose
// large address space would set the floor of the child's ru_maxrss (the
// hiwater mark of the mm a vfork'd child leaves at exec counts).
//
// `spawn -o FILE CMD..` sends the child's stdout to FILE (appending)
// instead of /dev/null (bench/alltools.sh keeps the runners' JSON lines).
//
// Build: cc -O2 -o spawn spawn.c
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	const char *out = "/dev/null";
	if (argc > 2 && argv[1][0] == '-' && argv[1][1] == 'o' && !argv[1][2]) {
		out = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: spawn [-o FILE] CMD [ARG..]\n");
		return 2;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	struct timespec t0, t1;
	pid_t pid;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (posix_spawn(&pid, argv[1], &fa, NULL, argv + 1, environ) != 0) {
		perror("posix_spawn");
		return 1;
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f %ld %ld %ld\n",
	       (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3,
	       ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
	       ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
