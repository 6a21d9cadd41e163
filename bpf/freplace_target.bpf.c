// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * freplace_target: an XDP program whose verdict comes from a global
 * (BTF-visible, replaceable) function.
 *
 *   program   section  returns
 *   xdp_main  xdp      verdict(), i.e. XDP_PASS (2) until replaced
 *
 * bpf/freplace.bpf.c replaces verdict().
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int verdict(struct xdp_md *ctx)
{
	return ctx ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
	return verdict(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
