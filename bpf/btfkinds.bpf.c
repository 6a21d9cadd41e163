// SPDX-License-Identifier: GPL-2.0
/*
 * Every BTF kind and flag that BTF sanitization rewrites for older kernels:
 * FLOAT, DECL_TAG, TYPE_TAG, ENUM64, a signed ENUM, a global function
 * (func_info with global linkage) and global data (DATASEC/VAR). Loaded by
 * tests/btf_sanitize.rs with the BTF features turned off one by one.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum big { BIG_A = 0x100000000ULL, BIG_B = 1 };
enum neg { NEG_A = -1, NEG_B = 2 };

struct tagged {
	int x __attribute__((btf_decl_tag("field_tag")));
	double d;
	int __attribute__((btf_type_tag("tt"))) *p;
	enum big b;
	enum neg n;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct tagged);
} tagged_map SEC(".maps");

int counter = 0;
float ratio = 0.5f;

__attribute__((noinline)) __attribute__((btf_decl_tag("global_fn")))
int add_one(int x)
{
	return x + 1;
}

SEC("socket")
int btfkinds(struct __sk_buff *skb)
{
	int k = 0;
	struct tagged *t = bpf_map_lookup_elem(&tagged_map, &k);

	if (t)
		t->x = add_one(t->x) + (t->n == NEG_A) + (t->b == BIG_B);
	counter = add_one(counter);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
