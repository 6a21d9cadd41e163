// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tracepoints: six tracepoint programs on different syscalls, each
 * counting its hits in its own slot of one ARRAY map. Used for attach,
 * detach/teardown and benchmark tests.
 *
 * Map counts: ARRAY, __u32 -> __u64, 6 entries, slot = program:
 *   0 count_openat   tp/syscalls/sys_enter_openat
 *   1 count_close    tp/syscalls/sys_enter_close
 *   2 count_read     tp/syscalls/sys_enter_read
 *   3 count_write    tp/syscalls/sys_enter_write
 *   4 count_getpid   tp/syscalls/sys_enter_getpid
 *   5 count_execve   tp/syscalls/sys_enter_execve
 * Counts are system-wide (every process), so tests should check ">= the
 * calls I made", not equality. All programs return 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum slot {
	SLOT_OPENAT,
	SLOT_CLOSE,
	SLOT_READ,
	SLOT_WRITE,
	SLOT_GETPID,
	SLOT_EXECVE,
	NR_SLOTS,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline int bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("tp/syscalls/sys_enter_openat")
int count_openat(void *ctx) { return bump(SLOT_OPENAT); }

SEC("tp/syscalls/sys_enter_close")
int count_close(void *ctx) { return bump(SLOT_CLOSE); }

SEC("tp/syscalls/sys_enter_read")
int count_read(void *ctx) { return bump(SLOT_READ); }

SEC("tp/syscalls/sys_enter_write")
int count_write(void *ctx) { return bump(SLOT_WRITE); }

SEC("tp/syscalls/sys_enter_getpid")
int count_getpid(void *ctx) { return bump(SLOT_GETPID); }

SEC("tp/syscalls/sys_enter_execve")
int count_execve(void *ctx) { return bump(SLOT_EXECVE); }

char LICENSE[] SEC("license") = "Dual BSD/GPL";
