// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_events: one fixed-size record per run, for timing how fast user
 * space drains a ring buffer and a perf buffer (bench/src/bin/bench-events.rs
 * and bench/c/bench_events.c run these with BPF_PROG_TEST_RUN's repeat).
 *
 * Prog rb_emit (SEC "tc"): bpf_ringbuf_output of a 16-byte record
 *      {seq, len} to `rb`; a failed output (ring full) counts in drops[0].
 * Prog pb_emit (SEC "tc"): bpf_perf_event_output of the same record to
 *      `pb` on the current CPU; failures count in drops[1].
 * Prog rb_burst / pb_burst (SEC "tc"): the same, BURST (1000) records per
 *      run with bpf_loop, so that one test run costs ~1000 records' worth
 *      of producer work and the consumer becomes the bottleneck.
 * Maps: rb (RINGBUF, 16 MiB; the benchmarks' drain mode sets 64 MiB),
 *      pb (PERF_EVENT_ARRAY), drops (ARRAY of 2 u64).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct record {
	__u64 seq;
	__u64 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

__u64 seq = 0;

static __always_inline void drop(__u32 which)
{
	__u64 *d = bpf_map_lookup_elem(&drops, &which);

	if (d)
		__sync_fetch_and_add(d, 1);
}

SEC("tc")
int rb_emit(struct __sk_buff *skb)
{
	struct record r = { .seq = seq++, .len = skb->len };

	if (bpf_ringbuf_output(&rb, &r, sizeof(r), 0))
		drop(0);
	return 0;
}

SEC("tc")
int pb_emit(struct __sk_buff *skb)
{
	struct record r = { .seq = seq++, .len = skb->len };

	if (bpf_perf_event_output(skb, &pb, BPF_F_CURRENT_CPU, &r, sizeof(r)))
		drop(1);
	return 0;
}

#define BURST 1000

struct burst_ctx {
	struct __sk_buff *skb;
};

static long rb_one(__u64 i, void *c)
{
	struct record r = { .seq = seq++, .len = i };

	if (bpf_ringbuf_output(&rb, &r, sizeof(r), 0))
		drop(0);
	return 0;
}

static long pb_one(__u64 i, void *c)
{
	struct burst_ctx *b = c;
	struct record r = { .seq = seq++, .len = i };

	if (bpf_perf_event_output(b->skb, &pb, BPF_F_CURRENT_CPU, &r, sizeof(r)))
		drop(1);
	return 0;
}

SEC("tc")
int rb_burst(struct __sk_buff *skb)
{
	bpf_loop(BURST, rb_one, NULL, 0);
	return 0;
}

SEC("tc")
int pb_burst(struct __sk_buff *skb)
{
	struct burst_ctx b = { .skb = skb };

	bpf_loop(BURST, pb_one, &b, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
