// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * parload_fail: eight tc programs, two of them rejected by the verifier,
 * for checking that a parallel load reports the same error as a sequential
 * one (the first failing program in object order) and leaves nothing in
 * the kernel.
 *
 * Progs (object order): pf_ok_0, pf_ok_1, pf_ok_2 (a loop the verifier
 *      walks, ~10 ms each), pf_bad_3 (the same loop, then reads the packet
 *      without a bounds check: rejected late), pf_ok_4, pf_ok_5, pf_bad_6
 *      (reads the packet at once: rejected early), pf_ok_7.
 * No maps.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ITERS 200

static __always_inline unsigned int walk(struct __sk_buff *skb, unsigned int seed)
{
	unsigned int acc = skb->len + seed;
	int i;

#pragma clang loop unroll(disable)
	for (i = 0; i < ITERS; i++) {
		if (acc & 1)
			acc = acc * 3 + 1;
		else
			acc >>= 1;
		if (acc > 100000)
			acc -= i;
	}
	return acc & 0xffff;
}

#define OK(n)                                 \
	SEC("tc")                             \
	int pf_ok_##n(struct __sk_buff *skb)  \
	{                                     \
		return walk(skb, (n) * 31 + 7); \
	}

OK(0)
OK(1)
OK(2)

SEC("tc")
int pf_bad_3(struct __sk_buff *skb)
{
	unsigned int acc = walk(skb, 3);

	/* No check against data_end: the verifier refuses this. */
	return acc + *(unsigned char *)(long)skb->data;
}

OK(4)
OK(5)

SEC("tc")
int pf_bad_6(struct __sk_buff *skb)
{
	return *(unsigned int *)(long)skb->data;
}

OK(7)

char LICENSE[] SEC("license") = "GPL";
