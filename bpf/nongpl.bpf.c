// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * nongpl: a "Proprietary"-licensed object that calls a GPL-only helper
 * (bpf_trace_printk, through bpf_printk). The verifier refuses
 * gpl_helper with "cannot call GPL-restricted function from non-GPL
 * compatible program". Used by tests/failures.rs. Returns 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_getpid")
int gpl_helper(void *ctx)
{
	bpf_printk("not allowed");
	return 0;
}

char LICENSE[] SEC("license") = "Proprietary";
