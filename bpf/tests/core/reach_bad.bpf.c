// SPDX-License-Identifier: GPL-2.0
/*
 * An unguarded access to a field the target lacks (see reach_ok.bpf.c for
 * guarded ones). Built twice: as is (local layout, with `old_a`) and with
 * -DCORE_TARGET (the target: `old_a` renamed away). Against the target, the
 * access is unresolved and reachable: the verifier rejects the program and
 * `tinybpf check` reports FAILED.
 */
#include "common.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#ifndef CORE_TARGET
struct rch {
	int a;
	int old_a;
};
#else
struct rch {
	long pad;
	int a;
	int new_a;
};
#define old_a new_a
#endif
#pragma clang attribute pop

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct pattern_buf);
} rch_bad_buf SEC(".maps");

SEC("xdp")
int reach_unguarded(struct xdp_md *ctx)
{
	u32 zero = 0;
	struct rch *p = bpf_map_lookup_elem(&rch_bad_buf, &zero);

	if (!p)
		return 1;
	if (p->a == 7)
		return 2;
	return p->old_a;
}
