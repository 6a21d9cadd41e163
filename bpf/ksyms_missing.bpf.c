// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* ksyms_missing: a strong kfunc the kernel does not have; load must fail
 * naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern void tinybpf_missing_kfunc(void) __ksym;

SEC("syscall")
int ksyms_missing(void *ctx)
{
	tinybpf_missing_kfunc();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
