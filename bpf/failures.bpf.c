// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * failures: programs that fail on purpose, one way each, for
 * tests/failures.rs. Tests pick programs with load_only()/set_autoload().
 *
 * Map  fail_counts  BPF_MAP_TYPE_HASH u32 -> u64, 16 entries.
 * Prog good_first   tp/syscalls/sys_enter_getpid: counts into fail_counts
 *                   (a NULL-checked lookup): loads fine. Comes first.
 * Prog bad_second   tp/syscalls/sys_enter_getppid: dereferences a lookup
 *                   result without a NULL check: the verifier refuses it
 *                   ("invalid mem access"). Comes after good_first, so a
 *                   load of both fails after one program and the map exist.
 * Prog bogus_prog   SEC("bogus/x"): a section tinybpf does not know, so the
 *                   object is refused with UnknownSection while it autoloads.
 * Prog nosuch_prog  SEC("tp/nosuch/event"): loads (a tracepoint program),
 *                   but attaching fails: there is no tracepoint nosuch/event.
 * All return 0.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} fail_counts SEC(".maps");

SEC("tp/syscalls/sys_enter_getpid")
int good_first(void *ctx)
{
	__u32 key = 1;
	__u64 *val = bpf_map_lookup_elem(&fail_counts, &key);

	if (val)
		__sync_fetch_and_add(val, 1);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int bad_second(void *ctx)
{
	__u32 key = 2;
	__u64 *val = bpf_map_lookup_elem(&fail_counts, &key);

	*val += 1; /* no NULL check: rejected */
	return 0;
}

SEC("bogus/x")
int bogus_prog(void *ctx)
{
	return 0;
}

SEC("tp/nosuch/event")
int nosuch_prog(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
