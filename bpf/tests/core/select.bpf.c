// SPDX-License-Identifier: GPL-2.0
/*
 * Program selection before CO-RE: `good_a` and `good_b` (the latter through
 * a subprogram) relocate cleanly against select.target.bpf.o's BTF and
 * return 0 when the relocated offsets are the target's; `bad` calls a
 * subprogram whose relocation is ambiguous in the target (two flavors of
 * `struct sel_amb` place `b` differently). Deselecting `bad` must let the
 * others load; loading `bad` must fail with the ambiguity error.
 */
#include "common.h"

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
#ifndef CORE_TARGET
struct sel_ok {
	int a;
	int b;
};
struct sel_amb {
	int a;
	int b;
};
#else
struct sel_ok {
	long pad;
	int a; /* 8 */
	int b; /* 12 */
};
struct sel_amb___x {
	int b; /* 0 */
	int a;
};
struct sel_amb___y {
	long q;
	int b; /* 8 */
};
#endif
#pragma clang attribute pop

#ifndef CORE_TARGET
static __attribute__((noinline)) int sub_ok(void)
{
	return bpf_core_field_offset(((struct sel_ok *)0)->a) == 8 ? 0 : 2;
}

static __attribute__((noinline)) int sub_amb(void)
{
	return bpf_core_field_offset(((struct sel_amb *)0)->b) == 0 ? 0 : 3;
}
#endif

SEC("xdp")
int good_a(struct xdp_md *ctx)
{
#ifndef CORE_TARGET
	return bpf_core_field_offset(((struct sel_ok *)0)->b) == 12 ? 0 : 1;
#else
	return bpf_core_field_offset(((struct sel_ok *)0)->b);
#endif
}

SEC("xdp")
int good_b(struct xdp_md *ctx)
{
#ifndef CORE_TARGET
	return sub_ok();
#else
	return 0;
#endif
}

SEC("xdp")
int bad(struct xdp_md *ctx)
{
#ifndef CORE_TARGET
	return sub_amb();
#else
	return bpf_core_field_offset(((struct sel_amb___x *)0)->b) +
	       bpf_core_field_offset(((struct sel_amb___y *)0)->b);
#endif
}
