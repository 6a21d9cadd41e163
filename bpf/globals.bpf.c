// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * globals: global data (.rodata/.data/.bss) and bpf-to-bpf calls, every
 * program runnable with BPF_PROG_TEST_RUN (all SEC("xdp")).
 *
 * Globals (offsets as laid out by clang; check BTF DATASEC for truth):
 *   .rodata  const volatile __u32 multiplier = 1;
 *            const volatile char  greeting[8] = "hi";
 *   .data    __u64 counter = 7;
 *   .bss     __u64 total;   __u32 last_len;
 *
 * Subprograms (.text):
 *   add3()   static __noinline: a + b + c
 *   bump()   static __noinline: counter += 1 (a .data reference in .text)
 *   twice()  global (non-static, BTF linkage=global, verified on its own):
 *            x * 2
 *   sum_cb() static callback for bpf_loop (BPF_PSEUDO_FUNC ld_imm64)
 *
 * Programs and what BPF_PROG_TEST_RUN (any packet, repeat=1) returns:
 *   xdp_count  total += multiplier * len; counter += 1; last_len = len,
 *              where len = data_end - data (the packet length).
 *              Returns 2 (XDP_PASS) if multiplier == 3, else 1 (XDP_DROP);
 *              with the default rodata: 1.
 *   xdp_calls  returns add3(1, 2, 3) + twice(10) = 6 + 20 = 26.
 *   xdp_loop   bpf_loop(10, sum_cb) sums 0..9 = 45; returns 45 when
 *              greeting[0] == 'h' (the default), 1045 otherwise.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 multiplier = 1;
const volatile char greeting[8] = "hi";

__u64 counter = 7;

__u64 total;
__u32 last_len;

static __noinline __u32 add3(__u32 a, __u32 b, __u32 c)
{
	return a + b + c;
}

static __noinline void bump(void)
{
	counter += 1;
}

/* Global function: the verifier checks it once, against its BTF prototype. */
__noinline int twice(int x)
{
	return x * 2;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;

	total += (__u64)multiplier * len;
	bump();
	last_len = (__u32)twice(len) / 2; /* == len; exercises the global call */

	return multiplier == 3 ? 2 /* XDP_PASS */ : 1 /* XDP_DROP */;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	/* volatile so clang cannot fold add3() away at compile time */
	volatile __u32 one = 1;

	return add3(one, 2, 3) + twice(10); /* 26 */
}

struct loop_ctx {
	__u64 sum;
};

static long sum_cb(__u32 index, void *data)
{
	struct loop_ctx *lc = data;

	lc->sum += index;
	return 0; /* 0: continue looping */
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	struct loop_ctx lc = { .sum = 0 };

	bpf_loop(10, sum_cb, &lc, 0);
	return lc.sum + (greeting[0] == 'h' ? 0 : 1000); /* 45 by default */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
