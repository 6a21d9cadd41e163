// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * kconfig_badtype: CONFIG_HZ (a number such as 250 or 1000) declared as a
 * bool. Loading must fail with an error naming CONFIG_HZ.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

extern bool CONFIG_HZ __kconfig;

SEC("xdp")
int xdp_badtype(struct xdp_md *ctx)
{
	return CONFIG_HZ ? 1 : 2;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
