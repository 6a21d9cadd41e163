// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * longnames: maps and programs whose names are longer than the kernel's
 * 15-byte obj names and share their first 15 bytes. The loader keeps the
 * full names (lookups, listings, pin paths) and gives the kernel 15-byte
 * copies; two maps pinned by name must not collide on their truncation.
 *
 * Maps (all LIBBPF_PIN_BY_NAME; kernel copies "cilium_ratelimi" and
 * "process_exec_co"):
 *   cilium_ratelimit            HASH   __u32 -> __u64, 16
 *   cilium_ratelimit_metrics    ARRAY  __u32 -> __u32, 4
 *   process_exec_counter_map    ARRAY  __u32 -> __u64, 2
 *   process_exec_counter_other  HASH   __u32 -> __u32, 8
 * Data: .data.long_named_counters (a custom data section, full name kept).
 *
 * Programs (SEC("xdp"), BPF_PROG_TEST_RUN with any packet; kernel copies
 * both "longnames_xdp_p"):
 *   longnames_xdp_program_first: writes key 0 of every map: 1, 2, 3, 4
 *     respectively; returns 1.
 *   longnames_xdp_program_second: returns 2.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u64);
} cilium_ratelimit SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u32);
} cilium_ratelimit_metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u64);
} process_exec_counter_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u32);
} process_exec_counter_other SEC(".maps");

__u64 long_named_counter SEC(".data.long_named_counters") = 7;

SEC("xdp")
int longnames_xdp_program_first(struct xdp_md *ctx)
{
	__u32 key = 0, v32;
	__u64 v64;

	v64 = 1;
	bpf_map_update_elem(&cilium_ratelimit, &key, &v64, BPF_ANY);
	v32 = 2;
	bpf_map_update_elem(&cilium_ratelimit_metrics, &key, &v32, BPF_ANY);
	v64 = 3;
	bpf_map_update_elem(&process_exec_counter_map, &key, &v64, BPF_ANY);
	v32 = 4;
	bpf_map_update_elem(&process_exec_counter_other, &key, &v32, BPF_ANY);
	long_named_counter++;
	return 1;
}

SEC("xdp")
int longnames_xdp_program_second(struct xdp_md *ctx)
{
	return 2;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
