// libbpf side of the tinybpf benchmark. One measurement per process; prints
// one JSON line, like bench-tinybpf and bench-aya.
//
//   bench_libbpf load OBJ [PROG,PROG..]   open+load (only the named programs)
//   bench_libbpf attach-seq OBJ           open+load, attach all, destroy links
//   bench_libbpf btf                      btf__load_vmlinux_btf + find(task_struct)
//
// Build: cc -O2 -o bench_libbpf bench_libbpf.c -lbpf -lelf -lz
#define _GNU_SOURCE
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct mark {
	struct timespec t;
	long user_us, sys_us;
	struct timespec cpu;
};

static struct mark mark_now(void)
{
	struct mark m;
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	clock_gettime(CLOCK_MONOTONIC, &m.t);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &m.cpu);
	m.user_us = r.ru_utime.tv_sec * 1000000L + r.ru_utime.tv_usec;
	m.sys_us = r.ru_stime.tv_sec * 1000000L + r.ru_stime.tv_usec;
	return m;
}

static double wall_us(struct mark a, struct mark b)
{
	return (b.t.tv_sec - a.t.tv_sec) * 1e6 + (b.t.tv_nsec - a.t.tv_nsec) / 1e3;
}

static double cpu_us(struct mark a, struct mark b)
{
	return (b.cpu.tv_sec - a.cpu.tv_sec) * 1e6 + (b.cpu.tv_nsec - a.cpu.tv_nsec) / 1e3;
}

static long maxrss_kib(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_maxrss;
}

static size_t heap_now(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static const char *label(const char *path)
{
	static char buf[256];
	const char *s = strrchr(path, '/');
	s = s ? s + 1 : path;
	snprintf(buf, sizeof(buf), "%s", s);
	char *d = strstr(buf, ".bpf.o");
	if (!d)
		d = strstr(buf, ".o");
	if (d)
		*d = 0;
	return buf;
}

static int in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;
	while (p && *p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncmp(p, name, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

static struct bpf_object *open_load(const char *path, const char *progs)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "bench_libbpf: open %s: %s\n", path, strerror(errno));
		exit(1);
	}
	if (progs && *progs && strcmp(progs, "-")) {
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj)
			bpf_program__set_autoload(p, in_list(progs, bpf_program__name(p)));
	}
	int err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bench_libbpf: load %s: %s\n", path, strerror(-err));
		exit(1);
	}
	return obj;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *path = argc > 2 ? argv[2] : "";
	const char *progs = argc > 3 ? argv[3] : NULL;

	if (!strcmp(mode, "load")) {
		size_t h0 = heap_now();
		struct mark a = mark_now();
		struct bpf_object *obj = open_load(path, progs);
		struct mark b = mark_now();
		int n = 0;
		struct bpf_program *p;
		bpf_object__for_each_program(p, obj)
			n += bpf_program__autoload(p);
		printf("{\"impl\":\"libbpf\",\"mode\":\"load\",\"obj\":\"%s\",\"wall_us\":%.1f,\"cpu_us\":%.1f,"
		       "\"user_us\":%ld,\"sys_us\":%ld,\"maxrss_kib\":%ld,\"heap_retained\":%zu,"
		       "\"progs\":%d}\n",
		       label(path), wall_us(a, b), cpu_us(a, b), b.user_us - a.user_us, b.sys_us - a.sys_us,
		       maxrss_kib(), heap_now() - h0, n);
		return 0;
	}
	if (!strcmp(mode, "attach-seq")) {
		struct bpf_object *obj = open_load(path, progs);
		struct bpf_link *links[64];
		int n = 0;
		struct bpf_program *p;
		struct mark a = mark_now();
		bpf_object__for_each_program(p, obj)
		{
			if (n == 64 || !bpf_program__autoload(p))
				continue;
			links[n] = bpf_program__attach(p);
			if (!links[n]) {
				fprintf(stderr, "bench_libbpf: attach %s: %s\n", bpf_program__name(p),
					strerror(errno));
				return 1;
			}
			n++;
		}
		struct mark b = mark_now();
		for (int i = 0; i < n; i++)
			bpf_link__destroy(links[i]);
		struct mark c = mark_now();
		printf("{\"impl\":\"libbpf\",\"mode\":\"attach-seq\",\"obj\":\"%s\",\"attach_us\":%.1f,"
		       "\"teardown_us\":%.1f,\"teardown_cpu_us\":%ld,\"links\":%d}\n",
		       label(path), wall_us(a, b), wall_us(b, c),
		       (c.user_us - b.user_us) + (c.sys_us - b.sys_us), n);
		bpf_object__close(obj);
		return 0;
	}
	if (!strcmp(mode, "btf")) {
		size_t h0 = heap_now();
		struct mark a = mark_now();
		struct btf *btf = btf__load_vmlinux_btf();
		if (!btf) {
			fprintf(stderr, "bench_libbpf: btf__load_vmlinux_btf: %s\n", strerror(errno));
			return 1;
		}
		int id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
		struct mark b = mark_now();
		if (id < 0) {
			fprintf(stderr, "bench_libbpf: task_struct not found\n");
			return 1;
		}
		printf("{\"impl\":\"libbpf\",\"mode\":\"btf\",\"obj\":\"vmlinux\",\"wall_us\":%.1f,\"cpu_us\":%.1f,"
		       "\"user_us\":%ld,\"sys_us\":%ld,\"heap_retained\":%zu,\"types\":%u,\"id\":%d}\n",
		       wall_us(a, b), cpu_us(a, b), b.user_us - a.user_us, b.sys_us - a.sys_us, heap_now() - h0,
		       btf__type_cnt(btf), id);
		btf__free(btf);
		return 0;
	}
	fprintf(stderr, "usage: bench_libbpf load|attach-seq|btf OBJ [PROGS]\n");
	return 2;
}
