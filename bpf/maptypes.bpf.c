// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * maptypes: one BTF-defined map of each common type, all referenced from
 * one XDP program so a loader must create and relocate every one.
 *
 *   arr            ARRAY              __u32 -> __u64, 4 entries
 *   hash           HASH               __u32 -> __u64, 16
 *   pcpu_arr       PERCPU_ARRAY       __u32 -> __u64, 4
 *   pcpu_hash      PERCPU_HASH        __u32 -> __u64, 16
 *   lru_hash       LRU_HASH           __u32 -> __u64, 16
 *   lru_pcpu_hash  LRU_PERCPU_HASH    __u32 -> __u64, 16
 *   lpm            LPM_TRIE           struct lpm_key -> __u32, 16,
 *                                     map_flags BPF_F_NO_PREALLOC
 *   queue          QUEUE              value __u32 only, 16
 *   stack          STACK              value __u32 only, 16
 *   ringbuf        RINGBUF            max_entries 4096 (bytes)
 *   perf           PERF_EVENT_ARRAY   key_size 4, value_size 4, 128 entries
 *   jmp_table      PROG_ARRAY         __u32 -> prog, 4; slot 0 = tail_prog
 *                                     (initial value: the loader fills it
 *                                     after loading the programs)
 *   inner_a/b      ARRAY              __u32 -> __u32, 1 (struct inner_def)
 *   outer_arr      ARRAY_OF_MAPS      __u32 -> inner_def, 4; slot 0 = inner_a
 *   outer_hash     HASH_OF_MAPS       __u32 -> inner_def, 4; empty
 *   bloom          BLOOM_FILTER       value __u32 only, 64,
 *                                     map_extra 3 (number of hash functions)
 *   tinybpf_pinned ARRAY __u32 -> __u64, 1, pinning LIBBPF_PIN_BY_NAME
 *                  (libbpf pins it at /sys/fs/bpf/tinybpf_pinned and reuses
 *                  an existing pin there; tests must remove it afterwards)
 *
 * Programs (both SEC("xdp"), BPF_PROG_TEST_RUN with any packet >= 14 B):
 *   xdp_maps   touches every map above, then tail-calls jmp_table[0].
 *              Returns 42 (from tail_prog) when slot 0 is populated,
 *              1 (XDP_DROP) when the tail call falls through (empty slot).
 *   tail_prog  returns 42.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define U32_MAP(name, map_type, n)            \
	struct {                              \
		__uint(type, map_type);       \
		__uint(max_entries, n);       \
		__type(key, __u32);           \
		__type(value, __u64);         \
	} name SEC(".maps")

U32_MAP(arr, BPF_MAP_TYPE_ARRAY, 4);
U32_MAP(hash, BPF_MAP_TYPE_HASH, 16);
U32_MAP(pcpu_arr, BPF_MAP_TYPE_PERCPU_ARRAY, 4);
U32_MAP(pcpu_hash, BPF_MAP_TYPE_PERCPU_HASH, 16);
U32_MAP(lru_hash, BPF_MAP_TYPE_LRU_HASH, 16);
U32_MAP(lru_pcpu_hash, BPF_MAP_TYPE_LRU_PERCPU_HASH, 16);

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, __u32);
} lpm SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 16);
	__type(value, __u32);
} stack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ringbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 128);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf SEC(".maps");

/* The tail-call target; declared before jmp_table so it can be named. */
SEC("xdp")
int tail_prog(struct xdp_md *ctx)
{
	return 42;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
} jmp_table SEC(".maps") = {
	.values = { [0] = (void *)&tail_prog },
};

struct inner_def {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer_arr SEC(".maps") = {
	.values = { [0] = &inner_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_def);
} outer_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__uint(map_extra, 3);
	__type(value, __u32);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__type(key, __u32);
	__type(value, __u64);
} tinybpf_pinned SEC(".maps");

static void bump(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
	__u32 key = 0, small = 7, *inner_val;
	__u64 one = 1;
	struct lpm_key lk = { .prefixlen = 32, .addr = { 10, 0, 0, 1 } };
	void *inner;

	bump(&arr, 0);
	bump(&pcpu_arr, 0);
	bump(&tinybpf_pinned, 0);
	bpf_map_update_elem(&hash, &key, &one, BPF_ANY);
	bpf_map_update_elem(&pcpu_hash, &key, &one, BPF_ANY);
	bpf_map_update_elem(&lru_hash, &key, &one, BPF_ANY);
	bpf_map_update_elem(&lru_pcpu_hash, &key, &one, BPF_ANY);
	bpf_map_lookup_elem(&lpm, &lk);

	bpf_map_push_elem(&queue, &small, BPF_EXIST); /* BPF_EXIST: overwrite oldest when full */
	bpf_map_push_elem(&stack, &small, BPF_EXIST);
	bpf_map_push_elem(&bloom, &small, BPF_ANY);
	if (bpf_map_peek_elem(&bloom, &small) != 0)
		return 0; /* cannot happen: 7 was just added */

	bpf_ringbuf_output(&ringbuf, &one, sizeof(one), 0);
	bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &one, sizeof(one));

	inner = bpf_map_lookup_elem(&outer_arr, &key);
	if (inner) {
		inner_val = bpf_map_lookup_elem(inner, &key);
		if (inner_val)
			*inner_val += 1;
	}
	inner = bpf_map_lookup_elem(&outer_hash, &key);
	if (inner) {
		inner_val = bpf_map_lookup_elem(inner, &key);
		if (inner_val)
			*inner_val += 1;
	}

	bpf_tail_call(ctx, &jmp_table, 0);
	return 1; /* XDP_DROP: only reached when jmp_table[0] is empty */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
