// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * ksyms_percpu: typed per-CPU kernel variables (BPF_PSEUDO_BTF_ID of a BTF
 * VAR) through bpf_per_cpu_ptr / bpf_this_cpu_ptr, read back through `out`
 * in .bss. The kernel finds their addresses in its own kallsyms, so it
 * needs CONFIG_KALLSYMS_ALL.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern const struct rq runqueues __ksym;
extern const int bpf_prog_active __ksym;

struct {
	u64 runqueues_addr;   /* &runqueues: nonzero */
	u64 rq_cpu;           /* bpf_per_cpu_ptr(&runqueues, 0)->cpu + 100: 100 */
	u64 prog_active_seen; /* bpf_this_cpu_ptr(&bpf_prog_active) != NULL */
	u64 done;             /* 1 */
} out;

SEC("syscall")
int ksyms_percpu(void *ctx)
{
	struct rq *rq;
	int *active;

	out.runqueues_addr = (u64)&runqueues;
	rq = bpf_per_cpu_ptr(&runqueues, 0);
	if (rq)
		out.rq_cpu = rq->cpu + 100;
	active = bpf_this_cpu_ptr(&bpf_prog_active);
	out.prog_active_seen = active != 0;
	out.done = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
