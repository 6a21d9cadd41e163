// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * usdt: USDT programs written against libbpf's <bpf/usdt.bpf.h>, unchanged
 * (BPF_USDT reads arguments through the __bpf_usdt_specs map and the BPF
 * cookie the loader attaches with). Both are SEC("usdt"): user space
 * attaches them (Object::attach_usdt) to a probe of its choice.
 *
 *   on_hit(int a, long b)  for a 2-argument probe: submits a `struct hit`
 *                          with a, b, bpf_usdt_cookie() and
 *                          bpf_usdt_arg_cnt()
 *   on_one(long x)         for a 1-argument probe: same record, a = x, b = 0
 *
 * Ring buffer `hits` (16 KiB): struct hit { __s64 a, b; __u64 cookie;
 * __s32 arg_cnt; __u32 pid; } (32 bytes, pid = tgid of the process that
 * hit the probe). Both return 0.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

struct hit {
	__s64 a;
	__s64 b;
	__u64 cookie;
	__s32 arg_cnt;
	__u32 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} hits SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __always_inline void submit(struct pt_regs *ctx, long a, long b)
{
	struct hit *h = bpf_ringbuf_reserve(&hits, sizeof(*h), 0);

	if (!h)
		return;
	h->a = a;
	h->b = b;
	h->cookie = bpf_usdt_cookie(ctx);
	h->arg_cnt = bpf_usdt_arg_cnt(ctx);
	h->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_submit(h, 0);
}

SEC("usdt")
int BPF_USDT(on_hit, int a, long b)
{
	submit(ctx, a, b);
	return 0;
}

SEC("usdt")
int BPF_USDT(on_one, long x)
{
	submit(ctx, x, 0);
	return 0;
}
