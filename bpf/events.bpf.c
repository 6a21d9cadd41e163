// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * events: producers for ring buffer and perf buffer tests.
 *
 * Controls (.bss, so zero until user space writes them after load through
 * the .bss array map; with count == 0 nothing is emitted):
 *   __u32 count          records to emit per program run
 *   __u32 discard_every  ring buffer only: when N > 0, the record with
 *                        seq s is reserved and then DISCARDED when
 *                        (s + 1) % N == 0 (so seqs N-1, 2N-1, ...);
 *                        0 = never discard
 * Statistics (.bss, cumulative over runs):
 *   __u64 rb_submitted, rb_discarded, rb_dropped (reserve failed: full)
 *   __u64 pb_sent, pb_failed (bpf_perf_event_output returned an error,
 *                             e.g. no perf buffer open on this CPU)
 *
 * Record (64 bytes, identical in both maps):
 *   struct event_rec { __u64 seq; __u32 cpu; __u32 pad; __u8 payload[48]; }
 *   seq = 0 .. count-1 within one run, cpu = bpf_get_smp_processor_id(),
 *   pad = 0xfeedf00d, every payload byte = (__u8)seq.
 *
 * Maps:
 *   rb  RINGBUF, 256 KiB (room for 3640 records of 72 bytes incl. header)
 *   pb  PERF_EVENT_ARRAY, key/value 4 bytes, max_entries unset: like
 *       libbpf, the loader sets it to the number of possible CPUs
 *
 * Programs (SEC("xdp"), run with BPF_PROG_TEST_RUN, repeat=1, any packet
 * of >= 14 bytes; both loop with bpf_loop and return the number of
 * records that reached user space in this run):
 *   xdp_ringbuf  reserve/fill/submit (or discard) count records into rb;
 *                returns submitted count (discards and drops excluded)
 *   xdp_perfbuf  bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, ...)
 *                count times; returns how many outputs succeeded
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define PAYLOAD_LEN 48
#define REC_PAD 0xfeedf00d

struct event_rec {
	__u64 seq;
	__u32 cpu;
	__u32 pad;
	__u8 payload[PAYLOAD_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

__u32 count;
__u32 discard_every;

__u64 rb_submitted;
__u64 rb_discarded;
__u64 rb_dropped;
__u64 pb_sent;
__u64 pb_failed;

static __always_inline void fill(struct event_rec *r, __u64 seq)
{
	r->seq = seq;
	r->cpu = bpf_get_smp_processor_id();
	r->pad = REC_PAD;
	__builtin_memset(r->payload, (__u8)seq, PAYLOAD_LEN);
}

/* bpf_loop callback for xdp_ringbuf; data points at the run's counter. */
static long rb_one(__u32 index, void *data)
{
	__u32 *done = data;
	struct event_rec *r;
	__u32 every = discard_every;

	r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&rb_dropped, 1);
		return 0;
	}
	fill(r, index);
	if (every && (index + 1) % every == 0) {
		bpf_ringbuf_discard(r, 0);
		__sync_fetch_and_add(&rb_discarded, 1);
	} else {
		bpf_ringbuf_submit(r, 0);
		__sync_fetch_and_add(&rb_submitted, 1);
		*done += 1;
	}
	return 0;
}

SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	__u32 done = 0;

	bpf_loop(count, rb_one, &done, 0);
	return done;
}

struct pb_loop {
	struct xdp_md *ctx; /* bpf_perf_event_output needs the program's ctx */
	__u32 done;
};

static long pb_one(__u32 index, void *data)
{
	struct pb_loop *pl = data;
	struct event_rec r;

	fill(&r, index);
	if (bpf_perf_event_output(pl->ctx, &pb, BPF_F_CURRENT_CPU, &r, sizeof(r))) {
		__sync_fetch_and_add(&pb_failed, 1);
	} else {
		__sync_fetch_and_add(&pb_sent, 1);
		pl->done += 1;
	}
	return 0;
}

SEC("xdp")
int xdp_perfbuf(struct xdp_md *ctx)
{
	struct pb_loop pl = { .ctx = ctx, .done = 0 };

	bpf_loop(count, pb_one, &pl, 0);
	return pl.done;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
