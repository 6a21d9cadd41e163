// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * hello: the classic first BPF program.
 *
 * One tracepoint program on syscalls/sys_enter_execve that prints
 * "Hello world!" to the trace pipe on every execve.
 *
 * Sections: tp/syscalls/sys_enter_execve (handle_tp), license, .rodata
 * (the bpf_printk format string lives in .rodata because global data is
 * allowed; the loader must create the .rodata array map and relocate the
 * ld_imm64 that points at it). Returns 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_execve")
int handle_tp(void *ctx)
{
	bpf_printk("Hello world!");
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
