// SPDX-License-Identifier: GPL-2.0
/*
 * CO-RE ambiguity: the target has two flavors of `struct amb` that both
 * match the access but place `b` at different offsets. Relocating
 * ambig.bpf.o against ambig.target.bpf.o's BTF must fail with
 * CoreError::Ambiguous (a loader must not pick one at random).
 */
#include "common.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#ifndef CORE_TARGET
struct amb {
	int a;
	int b;
};
#else
struct amb___x {
	int b; /* 0 */
	int a;
};
struct amb___y {
	long q;
	int b; /* 8 */
};
#endif
#pragma clang attribute pop

SEC("xdp")
int check_ambig(struct xdp_md *ctx)
{
#ifndef CORE_TARGET
	return bpf_core_field_offset(((struct amb *)0)->b) == 0 ? 0 : 1;
#else
	return bpf_core_field_offset(((struct amb___x *)0)->b) +
	       bpf_core_field_offset(((struct amb___y *)0)->b);
#endif
}
