// Event draining benchmark, libbpf side (the tinybpf side is
// bench/src/bin/bench-events.rs; same object, same method, same JSON).
//
//   bench_events MODE N [--wakeup-events W]
//
//   ringbuf, perfbuf              ring_buffer__poll / perf_buffer__poll while
//                                 rb_emit / pb_emit run N times (one record
//                                 per run)
//   ringbuf-burst, perfbuf-burst  the same with rb_burst / pb_burst: 1000
//                                 records per run (bpf_loop), N/1000 runs
//   ringbuf-drain, perfbuf-drain  fill first (64 MiB ring; perf: 64 MiB per
//                                 CPU), then time ring_buffer__consume /
//                                 perf_buffer__consume alone
//   The consumer runs on CPU 0; the producer on CPU 1, or on CPU 0 before a
//   drain (as the tinybpf runner).
//   --wakeup-events W             perf buffer: perf_buffer__new_raw with
//                                 perf_event_attr.wakeup_events = W (libbpf's
//                                 perf_buffer__new always uses 1)
//
// Build (as bench/events.sh does):
//   cc -O2 -DBENCH_OBJ='"/path/to/bpf/bench_events.bpf.o"' -o bench_events
//      bench_events.c -lbpf -lelf -lz -lpthread
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;
static unsigned long long received, lost;
static unsigned long long polls;
static int prog_fd;
static unsigned int repeat;

static double now_s(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *produce(void *arg)
{
	if (arg)
		pin(1);
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

/* perf_buffer__new_raw's callback: the records as the kernel wrote them. */
static enum bpf_perf_event_ret on_raw(void *ctx, int cpu, struct perf_event_header *h)
{
	if (h->type == PERF_RECORD_SAMPLE)
		received += *(__u32 *)(h + 1) >= 16;
	else if (h->type == PERF_RECORD_LOST)
		lost += ((__u64 *)(h + 1))[1];
	return LIBBPF_PERF_EVENT_CONT;
}

int main(int argc, char **argv)
{
	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "--wakeup-events"))) {
		fprintf(stderr, "usage: bench_events ringbuf|perfbuf[-burst|-drain] N "
				"[--wakeup-events W]\n");
		return 2;
	}
	const char *mode = argv[1];
	unsigned int n = strtoul(argv[2], NULL, 10);
	unsigned int wakeup = argc == 5 ? strtoul(argv[4], NULL, 10) : 0;
	int rbmode = !strncmp(mode, "ringbuf", 7);
	int burst = strstr(mode, "-burst") != NULL, drain = strstr(mode, "-drain") != NULL;
	unsigned int per_run = burst || drain ? 1000 : 1;
	repeat = n / per_run;
	struct bpf_object *obj = bpf_object__open_file(BENCH_OBJ, NULL);
	if (!obj) {
		fprintf(stderr, "bench_events: cannot open %s\n", BENCH_OBJ);
		return 1;
	}
	if (drain && rbmode)
		bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "rb"), 64 << 20);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench_events: cannot load %s\n", BENCH_OBJ);
		return 1;
	}
	const char *prog = rbmode ? (per_run > 1 ? "rb_burst" : "rb_emit")
				  : (per_run > 1 ? "pb_burst" : "pb_emit");
	prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, prog));
	size_t pages = drain ? 16384 : 1024;
	struct ring_buffer *rb = NULL;
	struct perf_buffer *pb = NULL;
	int map_fd = bpf_object__find_map_fd_by_name(obj, rbmode ? "rb" : "pb");
	if (rbmode) {
		rb = ring_buffer__new(map_fd, on_rb, NULL, NULL);
	} else if (wakeup) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_BPF_OUTPUT,
			.sample_type = PERF_SAMPLE_RAW,
			.sample_period = 1,
			.wakeup_events = wakeup,
		};
		pb = perf_buffer__new_raw(map_fd, pages, &attr, on_raw, NULL, NULL);
	} else {
		pb = perf_buffer__new(map_fd, pages, on_sample, on_lost, NULL, NULL);
	}
	if (!rb && !pb) {
		fprintf(stderr, "bench_events: cannot open the buffer\n");
		return 1;
	}
	double t0, c0;
	/* Consumer on CPU 0; producer on CPU 1, or on CPU 0 before a drain. */
	pin(0);
	if (drain) {
		produce(NULL);
		t0 = now_s(CLOCK_MONOTONIC);
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		if (rb) {
			int got;
			while ((got = ring_buffer__consume(rb)) > 0)
				polls++;
		} else {
			/* Returns 0, not a count: one pass reads every ring. */
			perf_buffer__consume(pb);
			polls++;
		}
	} else {
		t0 = now_s(CLOCK_MONOTONIC);
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		pthread_t th;
		pthread_create(&th, NULL, produce, (void *)1);
		while (!atomic_load(&done)) {
			int got = rb ? ring_buffer__poll(rb, 10) : perf_buffer__poll(pb, 10);
			polls += got > 0;
		}
		pthread_join(th, NULL);
		if (rb)
			while (ring_buffer__consume(rb) > 0)
				;
		else
			perf_buffer__consume(pb);
	}
	double wall = now_s(CLOCK_MONOTONIC) - t0, cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
	__u32 key = rbmode ? 0 : 1;
	__u64 drops = 0;
	bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, "drops"), &key, &drops);
	char name[32] = "libbpf";
	if (wakeup)
		snprintf(name, sizeof(name), "libbpf-wakeup%u", wakeup);
	printf("{\"impl\":\"%s\",\"mode\":\"%s\",\"obj\":\"bench_events\",\"n\":%u,"
	       "\"received\":%llu,\"dropped\":%llu,\"lost\":%llu,\"polls\":%llu,"
	       "\"wall_ms\":%.1f,\"records_per_s\":%.1f,\"consumer_cpu_ms_per_m\":%.1f}\n",
	       name, mode, n, received, (unsigned long long)drops, lost, polls, wall * 1e3,
	       received / wall, cpu * 1e3 / ((received ? received : 1) / 1e6));
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	bpf_object__close(obj);
	return 0;
}
