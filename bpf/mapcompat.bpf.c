// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * mapcompat: map definitions the kernel refuses as written but libbpf and
 * cilium/ebpf accept, which the loader must make acceptable.
 *
 * Legacy SEC("maps") in iproute2's struct bpf_elf_map layout (36 bytes):
 *   inner_arr  ARRAY, key 4, value 8, 4 entries; id 7, inner_idx 3: the
 *              template of `outer` and stored in outer[3] after loading
 *   outer      ARRAY_OF_MAPS, key 4, value 0 (declared, must become 4),
 *              8 entries, inner_id 7
 *   pinned_cnt ARRAY, key 4, value 8, 1 entry, pinning 2 (PIN_GLOBAL_NS):
 *              pinned by name under the pin root
 * BTF-defined SEC(".maps"):
 *   events     PERF_EVENT_ARRAY declared with value __u64 and 1024 entries
 *              (must become value 4 and as many entries as possible CPUs)
 *
 * Program xdp_compat (SEC("xdp"), BPF_PROG_TEST_RUN with any packet):
 *   outer[3] → inner map; inner[1] += 5; pinned_cnt[0] += 1; emits the
 *   4-byte value 42 to `events` (nobody reads it); returns 100 + inner[1]
 *   (105 on the first run, 110 on the second). Returns 1..3 if a lookup
 *   failed.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

struct bpf_elf_map SEC("maps") inner_arr = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 4,
	.id = 7,
	.inner_idx = 3,
};

struct bpf_elf_map SEC("maps") outer = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
	.size_key = sizeof(__u32),
	.size_value = 0,
	.max_elem = 8,
	.inner_id = 7,
};

struct bpf_elf_map SEC("maps") pinned_cnt = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 1,
	.pinning = 2,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} events SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("xdp")
int xdp_compat(struct xdp_md *ctx)
{
	__u32 slot = 3, k = 1, zero = 0, v42 = 42;
	void *inner;
	__u64 *v, *c;

	inner = bpf_map_lookup_elem(&outer, &slot);
	if (!inner)
		return 1;
	v = bpf_map_lookup_elem(inner, &k);
	if (!v)
		return 2;
	*v += 5;
	c = bpf_map_lookup_elem(&pinned_cnt, &zero);
	if (!c)
		return 3;
	*c += 1;
	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &v42, sizeof(v42));
	return 100 + *v;
}
