// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcp_cc: a TCP congestion control written in BPF (struct_ops).
 *
 * `tinybpf_cc` is a `struct tcp_congestion_ops` whose callbacks are BPF
 * programs: Reno, through the kernel's tcp_reno_* kfuncs, plus counters of
 * how often each callback ran (the `counters` array, read by
 * examples/tcp_cc.rs). It lives in `.struct_ops.link` (registered through a
 * BPF link, kernels >= 6.4); tcp_cc_legacy.bpf.c builds the same code into
 * `.struct_ops` (registered by the map update, older kernels) as
 * `tinybpf_cc_old`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, u32 ack, u32 acked) __ksym;
extern u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

/* Indices into `counters`. */
enum { CNT_INIT, CNT_SSTHRESH, CNT_CONG_AVOID, CNT_UNDO, CNT_ACKED, CNT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

static __always_inline void count(u32 i)
{
	u64 *v = bpf_map_lookup_elem(&counters, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("struct_ops/tinybpf_init")
void BPF_PROG(tinybpf_init, struct sock *sk)
{
	count(CNT_INIT);
}

SEC("struct_ops/tinybpf_ssthresh")
u32 BPF_PROG(tinybpf_ssthresh, struct sock *sk)
{
	count(CNT_SSTHRESH);
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/tinybpf_cong_avoid")
void BPF_PROG(tinybpf_cong_avoid, struct sock *sk, u32 ack, u32 acked)
{
	count(CNT_CONG_AVOID);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/tinybpf_undo_cwnd")
u32 BPF_PROG(tinybpf_undo_cwnd, struct sock *sk)
{
	count(CNT_UNDO);
	return tcp_reno_undo_cwnd(sk);
}

SEC("struct_ops/tinybpf_pkts_acked")
void BPF_PROG(tinybpf_pkts_acked, struct sock *sk, const struct ack_sample *sample)
{
	count(CNT_ACKED);
}

#ifdef TCP_CC_LEGACY
#define CC_SEC ".struct_ops"
#define CC_NAME "tinybpf_cc_old"
#else
#define CC_SEC ".struct_ops.link"
#define CC_NAME "tinybpf_cc"
#endif

SEC(CC_SEC)
struct tcp_congestion_ops tinybpf_cc = {
	.init = (void *)tinybpf_init,
	.ssthresh = (void *)tinybpf_ssthresh,
	.cong_avoid = (void *)tinybpf_cong_avoid,
	.undo_cwnd = (void *)tinybpf_undo_cwnd,
	.pkts_acked = (void *)tinybpf_pkts_acked,
	.name = CC_NAME,
};
