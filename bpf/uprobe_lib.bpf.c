// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * uprobe_lib: uprobes on a shared library named without a path.
 *
 *   program            section                         counts into hits[]
 *   on_getpid_section  uprobe/libc.so.6:getpid          0, calls by process target[0]
 *   on_getpid_api      uprobe (user space gives target) 1, every call it sees
 *   on_getpid_ver      uprobe/libc.so.6:getpid@@GLIBC_2.2.5
 *                                                       2, calls by process target[0]
 *
 * target is an ARRAY map (__u32 -> __u32, 1): the tgid to count.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

static __always_inline int bump(__u32 slot, int filter)
{
	__u32 zero = 0;
	__u32 *want = bpf_map_lookup_elem(&target, &zero);
	__u64 *v;

	if (filter && (!want || *want != (__u32)(bpf_get_current_pid_tgid() >> 32)))
		return 0;
	v = bpf_map_lookup_elem(&hits, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("uprobe/libc.so.6:getpid")
int on_getpid_section(void *ctx) { return bump(0, 1); }

SEC("uprobe")
int on_getpid_api(void *ctx) { return bump(1, 0); }

SEC("uprobe/libc.so.6:getpid@@GLIBC_2.2.5")
int on_getpid_ver(void *ctx) { return bump(2, 1); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
