// SPDX-License-Identifier: GPL-2.0
/*
 * A real CO-RE object against the running kernel's types: reads
 * task_struct->real_parent->tgid with BPF_CORE_READ. Needs a vmlinux.h
 * (not committed):
 *   bpftool btf dump file /sys/kernel/btf/vmlinux format c > /tmp/vmlinux.h
 *   clang-19 -g -O2 -target bpf -D__TARGET_ARCH_x86 -I/tmp \
 *     -I/usr/include/x86_64-linux-gnu -c task_tgid.bpf.c -o task_tgid.bpf.o
 *   llvm-strip-19 -g task_tgid.bpf.o
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

int parent_tgid;

SEC("tracepoint/syscalls/sys_enter_getpid")
int read_parent(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	parent_tgid = BPF_CORE_READ(t, real_parent, tgid);
	return 0;
}
