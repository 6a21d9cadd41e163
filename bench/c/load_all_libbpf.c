// libbpf side of `bench-tinybpf load-all` (bench/alltools.sh): in one
// process, open+load each OBJ in turn with Debian's libbpf, keep them all,
// then close them all. Prints one JSON line like the Rust runner: wall and
// precise CPU (CLOCK_PROCESS_CPUTIME_ID) of the whole open..close phase and
// of the loads alone, ru_maxrss, and the peak heap during the phase.
//
// Heap: malloc, calloc, realloc, free and the aligned allocators are
// replaced here (glibc routes its own and libbpf's/libelf's allocations
// through a program's replacements; see "Replacing malloc" in the glibc
// manual). Each block carries a 16-byte header with the requested size, so
// the count is requested bytes, as the Rust runner's counting allocator
// reports (allocator slack is not counted on either side).
//
// Build: cc -O2 -o load_all_libbpf load_all_libbpf.c -lbpf -lelf -lz
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

extern void *__libc_malloc(size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static size_t live, peak;

struct hdr {
	size_t size;
	void *orig;
};

static void account(size_t add, size_t sub)
{
	live = live + add - sub;
	if (live > peak)
		peak = live;
}

// Block of `n` user bytes aligned to `align` (a power of two >= 16).
static void *alloc_aligned(size_t align, size_t n)
{
	if (n > SIZE_MAX - align - sizeof(struct hdr))
		return NULL;
	char *orig = align <= 16 ? __libc_malloc(n + sizeof(struct hdr))
				 : __libc_memalign(align, n + align);
	if (!orig)
		return NULL;
	char *user = orig + (align <= 16 ? sizeof(struct hdr) : align);
	struct hdr *h = (struct hdr *)user - 1;
	h->size = n;
	h->orig = orig;
	account(n, 0);
	return user;
}

void *malloc(size_t n)
{
	return alloc_aligned(16, n);
}

void free(void *p)
{
	if (!p)
		return;
	struct hdr *h = (struct hdr *)p - 1;
	account(0, h->size);
	__libc_free(h->orig);
}

void *calloc(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		return NULL;
	void *p = alloc_aligned(16, a * b);
	if (p)
		memset(p, 0, a * b);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	if (!n) {
		free(p);
		return NULL;
	}
	struct hdr *h = (struct hdr *)p - 1;
	void *q = malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->size < n ? h->size : n);
	free(p);
	return q;
}

void *memalign(size_t align, size_t n)
{
	return alloc_aligned(align < 16 ? 16 : align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
	return memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
	void *p = memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *valloc(size_t n)
{
	return memalign(4096, n);
}

void *pvalloc(size_t n)
{
	return memalign(4096, (n + 4095) & ~(size_t)4095);
}

size_t malloc_usable_size(void *p)
{
	return p ? ((struct hdr *)p - 1)->size : 0;
}

static double ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	int n = argc - 1;
	if (n < 1) {
		fprintf(stderr, "usage: load_all_libbpf OBJ...\n");
		return 2;
	}
	struct bpf_object **objs = calloc(n, sizeof(*objs));
	if (!objs)
		return 1;
	size_t base = live;
	peak = live;
	double w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	long progs = 0, maps = 0;
	for (int i = 0; i < n; i++) {
		objs[i] = bpf_object__open_file(argv[i + 1], NULL);
		if (!objs[i]) {
			fprintf(stderr, "load_all_libbpf: %s: open failed\n", argv[i + 1]);
			return 1;
		}
		int err = bpf_object__load(objs[i]);
		if (err) {
			fprintf(stderr, "load_all_libbpf: %s: load failed (%d)\n", argv[i + 1], err);
			return 1;
		}
	}
	double w1 = ns(CLOCK_MONOTONIC), c1 = ns(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < n; i++) {
		struct bpf_program *p;
		struct bpf_map *m;
		bpf_object__for_each_program(p, objs[i]) progs++;
		bpf_object__for_each_map(m, objs[i]) maps++;
	}
	for (int i = 0; i < n; i++)
		bpf_object__close(objs[i]);
	double w2 = ns(CLOCK_MONOTONIC), c2 = ns(CLOCK_PROCESS_CPUTIME_ID);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"impl\":\"libbpf\",\"mode\":\"load-all\",\"obj\":\"%dobjs\",\"wall_us\":%.1f,"
	       "\"cpu_us\":%.1f,\"load_us\":%.1f,\"load_cpu_us\":%.1f,\"maxrss_kib\":%ld,"
	       "\"heap_peak\":%zu,\"objs\":%d,\"progs\":%ld,\"maps\":%ld}\n",
	       n, (w2 - w0) / 1e3, (c2 - c0) / 1e3, (w1 - w0) / 1e3, (c1 - c0) / 1e3, ru.ru_maxrss,
	       peak - base, n, progs, maps);
	return 0;
}
