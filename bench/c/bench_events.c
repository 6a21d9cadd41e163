// Event draining benchmark, libbpf side (the tinybpf side is
// bench/src/bin/bench-events.rs; same object, same method, same JSON).
//
//   bench_events ringbuf N   ring_buffer__poll while rb_emit runs N times
//   bench_events perfbuf N   perf_buffer__poll while pb_emit runs N times
//
// Build: cc -O2 -o bench_events bench_events.c -lbpf -lelf -lz -lpthread
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int done;
static unsigned long long received, lost;
static int prog_fd;
static unsigned int repeat;

static double now_s(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *produce(void *arg)
{
	char pkt[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &o);
	atomic_store(&done, 1);
	if (err) {
		fprintf(stderr, "bench_events: test run: %d\n", err);
		exit(1);
	}
	return arg;
}

static int on_rb(void *ctx, void *data, size_t len)
{
	received += len / 16;
	return 0;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 len)
{
	received += len >= 16;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	lost += n;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_events ringbuf|perfbuf N\n");
		return 2;
	}
	const char *mode = argv[1];
	repeat = strtoul(argv[2], NULL, 10);
	int rbmode = !strcmp(mode, "ringbuf");
	struct bpf_object *obj = bpf_object__open_file(BENCH_OBJ, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "bench_events: cannot load %s\n", BENCH_OBJ);
		return 1;
	}
	prog_fd = bpf_program__fd(
		bpf_object__find_program_by_name(obj, rbmode ? "rb_emit" : "pb_emit"));
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	if (rbmode)
		rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_rb, NULL, NULL);
	else
		pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "pb"), 1024, on_sample,
				      on_lost, NULL, NULL);
	if (!rb && !pb) {
		fprintf(stderr, "bench_events: cannot open the buffer\n");
		return 1;
	}
	double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	pthread_t th;
	pthread_create(&th, NULL, produce, NULL);
	while (!atomic_load(&done)) {
		if (rb)
			ring_buffer__poll(rb, 10);
		else
			perf_buffer__poll(pb, 10);
	}
	pthread_join(th, NULL);
	while ((rb ? ring_buffer__consume(rb) : perf_buffer__consume(pb)) > 0)
		;
	double wall = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	__u32 key = rbmode ? 0 : 1;
	__u64 drops = 0;
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "drops"), &key, &drops);
	printf("{\"impl\":\"libbpf\",\"mode\":\"%s\",\"obj\":\"bench_events\",\"n\":%u,"
	       "\"received\":%llu,\"dropped\":%llu,\"lost\":%llu,\"wall_ms\":%.1f,"
	       "\"records_per_s\":%.1f,\"consumer_cpu_ms_per_m\":%.1f}\n",
	       mode, repeat, received, (unsigned long long)drops, lost, wall * 1e3,
	       received / wall, cpu * 1e3 / ((received ? received : 1) / 1e6));
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	bpf_object__close(obj);
	return 0;
}
