// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* ksyms_badproto: a kfunc declared with the wrong prototype (an extra
 * argument); load must fail naming it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern struct task_struct *bpf_task_from_pid(s32 pid, int extra) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("syscall")
int ksyms_badproto(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1, 2);

	if (t)
		bpf_task_release(t);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
