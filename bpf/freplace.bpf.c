// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * freplace: replaces verdict() of bpf/freplace_target.bpf.o.
 *
 *   program      section          returns
 *   new_verdict  freplace/verdict  XDP_DROP (1)
 *
 * The target program is chosen at load time (OpenObject::set_attach_target,
 * or tinybpf load --attach-prog ID).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/verdict")
int new_verdict(struct xdp_md *ctx)
{
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
