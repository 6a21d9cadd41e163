// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * maps: the classic "remember every execve" program.
 *
 * Map  execs  BPF_MAP_TYPE_HASH, key pid_t (u32), value struct event,
 *             max_entries 10240 (BTF-defined, in .maps).
 * Prog handle_execve on tp/syscalls/sys_enter_execve: inserts a zeroed
 *      value for the current tgid (BPF_NOEXIST), looks it up again and
 *      fills in pid, uid and comm. Returns 0.
 *
 * The typedefs pid_t/uid_t are spelled out so the object's BTF shows
 * `struct event { char comm[16]; pid_t pid; uid_t uid; }`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16

typedef unsigned int u32;
typedef unsigned long long u64;
typedef int pid_t;
typedef unsigned int uid_t;

struct event {
	char comm[TASK_COMM_LEN];
	pid_t pid;
	uid_t uid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, pid_t);
	__type(value, struct event);
} execs SEC(".maps");

/* On the way out of execve the task already carries the new program's
 * name, so `comm` is "true" for /bin/true (at sys_enter it is still the
 * parent's, e.g. "bash"). */
SEC("tp/syscalls/sys_exit_execve")
int handle_execve(void *ctx)
{
	struct event empty = {}; /* zeroed on the stack */
	u64 id = bpf_get_current_pid_tgid();
	pid_t pid = id >> 32; /* tgid: what user space calls the pid */
	struct event *e;

	if (bpf_map_update_elem(&execs, &pid, &empty, BPF_NOEXIST))
		return 0; /* already there (or map full) */

	e = bpf_map_lookup_elem(&execs, &pid);
	if (!e)
		return 0;

	e->pid = pid;
	e->uid = (u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
