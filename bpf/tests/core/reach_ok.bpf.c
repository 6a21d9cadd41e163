// SPDX-License-Identifier: GPL-2.0
/*
 * Guarded accesses to fields the target lacks (see reach_bad.bpf.c for the
 * unguarded one). Built twice: as is (local layout, with `old_a`/`old_b`)
 * and with -DCORE_TARGET (the target: those fields renamed away). Against
 * the target, the accesses below are unresolved and poisoned, but every one
 * sits behind bpf_core_field_exists() (directly, or via a subprogram only
 * called under the guard), so the verifier drops them as dead code and
 * `tinybpf check` calls them unreachable.
 */
#include "common.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#ifndef CORE_TARGET
struct rch {
	int a;
	int old_a;
	int old_b;
};
#else
struct rch {
	long pad;
	int a;
	int new_a;
	int new_b;
};
#define old_a new_a
#define old_b new_b
#endif
#pragma clang attribute pop

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct pattern_buf);
} rch_buf SEC(".maps");

/* Only called when `old_b` exists. */
static __noinline int read_old_b(struct rch *p)
{
	return p->old_b;
}

SEC("xdp")
int reach_guarded(struct xdp_md *ctx)
{
	u32 zero = 0;
	struct rch *p = bpf_map_lookup_elem(&rch_buf, &zero);

	if (!p)
		return 1;
	if (bpf_core_field_exists(p->old_a))
		return p->old_a;
	if (bpf_core_field_exists(p->old_b))
		return read_old_b(p);
	return p->a == 0 ? 2 : 3;
}
