// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * multi: multi-target probe links.
 *
 *   program         section                              adds into hits[]
 *   on_getp_glob    uprobe.multi/libc.so.6:getp*id        0: 1 per call by thread target[0]
 *   on_getppid_ret  uretprobe.multi/libc.so.6:getppid     1: 1 per return, thread target[0]
 *   on_api          uprobe.multi (user space gives target) 2: the link's cookie, thread target[0]
 *   on_vfs_kmulti   kprobe.multi/vfs_read                 3: 1 per call (any task)
 *
 * target is an ARRAY map (__u32 -> __u32, 1): the thread id to count.
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

static __always_inline int add(__u32 slot, __u64 n, int filter)
{
	__u32 zero = 0;
	__u32 *want = bpf_map_lookup_elem(&target, &zero);
	__u64 *v;

	if (filter && (!want || *want != (__u32)bpf_get_current_pid_tgid()))
		return 0;
	v = bpf_map_lookup_elem(&hits, &slot);
	if (v)
		__sync_fetch_and_add(v, n);
	return 0;
}

SEC("uprobe.multi/libc.so.6:getp*id")
int on_getp_glob(void *ctx) { return add(0, 1, 1); }

SEC("uretprobe.multi/libc.so.6:getppid")
int on_getppid_ret(void *ctx) { return add(1, 1, 1); }

SEC("uprobe.multi")
int on_api(void *ctx) { return add(2, bpf_get_attach_cookie(ctx), 1); }

SEC("kprobe.multi/vfs_read")
int on_vfs_kmulti(void *ctx) { return add(3, 1, 0); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
