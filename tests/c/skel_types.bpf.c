// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Types for the skeleton generator (tests/skel.rs compiles this at test
 * time): bitfields, unions, anonymous members, packed and nested structs,
 * enums, char arrays, pointers, keywords as names, and globals whose
 * section is not a multiple of their alignment.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

enum color { RED = 1, GREEN = 2, BLUE = 0xff };

struct inner {
	u8 tag;
	u64 value;
};

struct __attribute__((packed)) packed {
	u8 a;
	u64 b;
	u16 c;
};

union number {
	u32 as_u32;
	u64 as_u64;
	u8 bytes[8];
};

struct value {
	u32 flags : 3;
	u32 kind : 5;
	u32 rest : 24;
	char name[12];
	struct inner in;
	struct packed pk;
	union number num;
	union {
		u32 anon_a;
		u16 anon_b;
	};
	struct {
		u16 x, y;
	} point;
	enum color color;
	void *ptr;
	u32 type;
	u8 match[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct inner);
	__type(value, struct value);
} values SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, union number);
} percpu SEC(".maps");

const volatile u32 loop = 3;
const volatile char label[5] = "abc";
u64 hits;
u8 last;
struct value sample = { .flags = 1, .name = "x" };

SEC("socket")
int count(struct __sk_buff *skb)
{
	struct inner k = {};
	struct value *v = bpf_map_lookup_elem(&values, &k);

	if (v)
		v->kind = loop;
	hits += loop;
	last = label[0] + sample.flags;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
