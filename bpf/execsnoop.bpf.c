// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * execsnoop: report every execve with pid, parent pid, uid, comm and the
 * file name being executed. The one program here that needs kernel types:
 * it includes vmlinux.h and reads task_struct->real_parent->tgid through
 * CO-RE (BPF_CORE_READ emits field-offset relocations against
 * struct task_struct, which the loader resolves with /sys/kernel/btf/vmlinux).
 *
 * Two variants of the same program, both SEC("tp/syscalls/sys_enter_execve"):
 *   handle_exec       submits each event to the RINGBUF map `events`
 *   handle_exec_perf  sends each event to the PERF_EVENT_ARRAY `events_perf`
 * User space loads ONE of them: disable autoload of the other before load
 * (both would work together, but each event would then be sent twice).
 * Both return 0.
 *
 * Event (96 bytes): struct exec_event { __u32 pid, ppid, uid, pad;
 *                                       char comm[16]; char filename[64]; }
 * filename is NUL-terminated (truncated to 63 chars); comm likewise.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define COMM_LEN 16
#define FILENAME_LEN 64

struct exec_event {
	__u32 pid;  /* tgid of the caller */
	__u32 ppid; /* tgid of task->real_parent (CO-RE read) */
	__u32 uid;
	__u32 pad;  /* always 0 */
	char comm[COMM_LEN];
	char filename[FILENAME_LEN];
};

/*
 * Tracepoint context of syscalls/sys_enter_*: the 8-byte common header,
 * the syscall number, then the six arguments. Declared here, without
 * preserve_access_index, so ctx accesses are plain offsets (no CO-RE).
 */
struct sys_enter_ctx {
	__u64 common;
	long id;
	unsigned long args[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events_perf SEC(".maps");

static __always_inline void fill_event(struct exec_event *e, struct sys_enter_ctx *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	const char *filename = (const char *)ctx->args[0];

	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->pad = 0;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	if (bpf_probe_read_user_str(e->filename, sizeof(e->filename), filename) < 0)
		e->filename[0] = '\0';
}

SEC("tp/syscalls/sys_enter_execve")
int handle_exec(struct sys_enter_ctx *ctx)
{
	struct exec_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0; /* ring full: event lost */
	fill_event(e, ctx);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_exec_perf(struct sys_enter_ctx *ctx)
{
	struct exec_event e;

	__builtin_memset(&e, 0, sizeof(e));
	fill_event(&e, ctx);
	bpf_perf_event_output(ctx, &events_perf, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
