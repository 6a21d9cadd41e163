// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * noattach: one program that attaches and one that cannot, anywhere.
 *
 * on_execve (tp/syscalls/sys_enter_execve) attaches on any kernel;
 * on_missing is a uprobe on a binary that does not exist, so attaching it
 * always fails. `tinybpf load` must report that as an error (not exit 0),
 * and tear down the program that did attach. Both return 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_execve")
int on_execve(void *ctx)
{
	return 0;
}

SEC("uprobe//nonexistent/tinybpf-no-such-binary:main")
int on_missing(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
