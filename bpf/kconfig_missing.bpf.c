// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * kconfig_missing: a strong (not __weak) `.kconfig` extern that no kernel
 * config sets. Loading must fail with an error naming
 * CONFIG_TINYBPF_STRONG_MISSING.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

extern bool CONFIG_TINYBPF_STRONG_MISSING __kconfig;

SEC("xdp")
int xdp_missing(struct xdp_md *ctx)
{
	return CONFIG_TINYBPF_STRONG_MISSING ? 1 : 2;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
