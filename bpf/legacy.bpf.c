// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * legacy: maps declared the pre-BTF way, in SEC("maps"), mixed with one
 * BTF-defined map in SEC(".maps").
 *
 * libbpf 1.x dropped both `struct bpf_map_def` and support for the "maps"
 * section, so this file defines the struct itself. The loader finds each
 * legacy map by its symbol in "maps" (st_value = offset, st_size = 20) and
 * reads the five u32 fields below; no BTF key/value types exist for them.
 *
 * Maps:
 *   legacy_array  "maps"  ARRAY, key 4, value 8, max_entries 4
 *   legacy_hash   "maps"  HASH,  key 4, value 8, max_entries 8
 *   btf_hash      ".maps" HASH,  key __u32, value __u64, max_entries 16
 *
 * Program xdp_legacy (SEC("xdp"), BPF_PROG_TEST_RUN with any packet):
 *   legacy_array[1] = 40; legacy_hash[1] = legacy_array[1] + 1 (41);
 *   btf_hash[1] = legacy_hash[1] + 1 (42); returns btf_hash[1] = 42.
 *   Returns 0 only if a lookup failed. Same result on every run.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The legacy map definition layout (what libbpf 0.x called bpf_map_def). */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 4,
	.map_flags = 0,
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 8,
	.map_flags = 0,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} btf_hash SEC(".maps");

SEC("xdp")
int xdp_legacy(struct xdp_md *ctx)
{
	__u32 key = 1;
	__u64 val = 40, *v;

	bpf_map_update_elem(&legacy_array, &key, &val, BPF_ANY);
	v = bpf_map_lookup_elem(&legacy_array, &key);
	if (!v)
		return 0;

	val = *v + 1; /* 41 */
	bpf_map_update_elem(&legacy_hash, &key, &val, BPF_ANY);
	v = bpf_map_lookup_elem(&legacy_hash, &key);
	if (!v)
		return 0;

	val = *v + 1; /* 42 */
	bpf_map_update_elem(&btf_hash, &key, &val, BPF_ANY);
	v = bpf_map_lookup_elem(&btf_hash, &key);
	if (!v)
		return 0;

	return *v; /* 42 */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
