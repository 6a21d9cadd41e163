// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * bench_many: sixteen independent programs that each take the verifier a
 * while (a bounded loop it walks iteration by iteration, with branches on
 * a value it cannot know), for timing parallel program loading and for
 * checking that parallel and sequential loads give the same object.
 *
 * Progs heavy_0 .. heavy_15 (SEC "tc"): iterate a Collatz-like step
 *      ITERS times starting from skb->len + seed; return it plus seed, low
 *      16 bits. Deterministic for a given packet, distinct per program.
 * No maps.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ITERS 200

static __always_inline int heavy(struct __sk_buff *skb, unsigned int seed)
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
	return (acc + seed) & 0xffff;
}

#define HEAVY(n)                                   \
	SEC("tc")                                  \
	int heavy_##n(struct __sk_buff *skb)       \
	{                                          \
		return heavy(skb, (n) * 7919 + 1); \
	}

HEAVY(0)
HEAVY(1)
HEAVY(2)
HEAVY(3)
HEAVY(4)
HEAVY(5)
HEAVY(6)
HEAVY(7)
HEAVY(8)
HEAVY(9)
HEAVY(10)
HEAVY(11)
HEAVY(12)
HEAVY(13)
HEAVY(14)
HEAVY(15)

char LICENSE[] SEC("license") = "GPL";
